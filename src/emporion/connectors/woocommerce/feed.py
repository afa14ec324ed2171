"""Poll change feeds: products and orders by `modified_after` with overlap, categories by fingerprint.

Product and order cursor (JSON): `since` is fixed for one pass over the pages (ordered by id, so an item
modified while we page stays where it is and is never skipped); when the pass ends, the next
`since` is the shop's own clock at the start of the pass minus the overlap window, which re-covers
late commits and clock skew. Inside the window the cursor remembers the `date_modified_gmt` each id
was reported with (`seen`), so an item is reported again only when it changed again, not at every
poll for as long as the window lasts. The shop stamps whole seconds: an item stamped in the second
the poll ran may change again within that second under the same stamp, so it is not remembered and
the next poll reports it once more. WooCommerce categories carry no modification date, so their
cursor holds a short fingerprint per category and a poll reports what differs.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from emporion.connectors.base import ChangeBatch, Permanent
from emporion.connectors.woocommerce.client import WooCommerceClient, has_next_page, json_body
from emporion.connectors.woocommerce.lookup import CATEGORIES, PRODUCTS
from emporion.connectors.woocommerce.mapping import category_from_wc, format_gmt, parse_gmt
from emporion.model import fingerprint

CURSOR_VERSION = 1


def _server_now(response: httpx.Response) -> datetime:
    """The shop's clock from the Date header (ours when the header is missing)."""
    header = response.headers.get("Date")
    if header:
        try:
            return email.utils.parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)


def encode_cursor(**state: Any) -> str:
    """A cursor string from its state."""
    return json.dumps({"v": CURSOR_VERSION, **state}, sort_keys=True, separators=(",", ":"))


def decode_cursor(cursor: str, kind: str) -> dict[str, Any]:
    """The state inside a cursor string; a cursor of another kind or version is refused."""
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise Permanent(f"unreadable WooCommerce {kind} cursor") from exc
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION or state.get("kind") != kind:
        raise Permanent(f"not a WooCommerce {kind} cursor (version {CURSOR_VERSION})")
    return state


async def product_changes(client: WooCommerceClient, cursor: str | None, overlap: timedelta) -> ChangeBatch:
    """One page of product ids modified since the cursor, and the cursor to ask with next."""
    return await modified_changes(client, PRODUCTS, "product", cursor, overlap)


async def modified_changes(
    client: WooCommerceClient, path: str, kind: str, cursor: str | None, overlap: timedelta
) -> ChangeBatch:
    """One page of ids of the `path` collection modified since the cursor, and the cursor to ask with next.

    With no cursor the feed starts now: the items the overlap window already holds are read once and
    remembered with their stamps, so that only what changes from now on is reported (an item stamped
    in the current second is not remembered, and so reported once more: it may change again).
    """
    if cursor is None:
        return await _from_now(client, path, kind, overlap)
    state = decode_cursor(cursor, kind)
    page = int(state.get("page", 1))
    seen: dict[str, str] = dict(state.get("seen") or {})
    params = {
        "modified_after": state["since"],
        "dates_are_gmt": True,
        "orderby": "id",
        "order": "asc",
        "per_page": client.page_size,
        "page": page,
        "_fields": "id,date_modified_gmt",
    }
    response = await client.request("GET", path, params=params)
    now = format_gmt(_server_now(response))
    started = state.get("started") if page > 1 and state.get("started") else now
    items = json_body("GET", path, response)
    keys = new_keys(items, seen, now)
    if items and has_next_page(response, page, len(items), client.page_size):
        next_state = {"since": state["since"], "page": page + 1, "started": started, "seen": seen}
        return ChangeBatch(keys, encode_cursor(kind=kind, **next_state), more=True)
    pass_start = parse_gmt(started) or datetime.now(UTC)
    next_since = format_gmt(max(parse_gmt(state["since"]) or pass_start, pass_start - overlap)) or ""
    # stamps older than the next pass's start are not asked for again
    seen = {key: stamp for key, stamp in seen.items() if stamp >= next_since}
    kept = {"seen": seen} if seen else {}
    return ChangeBatch(keys, encode_cursor(kind=kind, since=next_since, page=1, started=None, **kept))


async def _from_now(client: WooCommerceClient, path: str, kind: str, overlap: timedelta) -> ChangeBatch:
    """A cursor at the shop's present, the overlap window's items remembered as already reported."""
    response = await client.request("GET", path, params={"per_page": 1, "_fields": "id"})
    since = _server_now(response) - overlap
    position = encode_cursor(kind=kind, since=format_gmt(since), page=1, started=None)
    while True:
        batch = await modified_changes(client, path, kind, position, overlap)
        if not batch.more or batch.cursor is None:
            return ChangeBatch([], batch.cursor)
        position = batch.cursor


def new_keys(items: list[dict[str, Any]], seen: dict[str, str], now: str | None) -> list[str]:
    """Ids of the items not reported before with the same stamp; `seen` learns the settled stamps."""
    keys = []
    for item in items:
        key, stamp = str(item["id"]), item.get("date_modified_gmt")
        if stamp and seen.get(key) == stamp:
            continue
        keys.append(key)
        if stamp and now and stamp < now:  # a stamp of this very second may still be reused
            seen[key] = stamp
    return keys


async def category_changes(client: WooCommerceClient, cursor: str | None) -> ChangeBatch:
    """Ids of categories created, changed or deleted since the cursor's fingerprints."""
    current: dict[str, str] = {}
    params = {"orderby": "id", "order": "asc", "context": "edit"}  # fingerprinted as stored
    async for page in client.iter_pages(CATEGORIES, params):
        for data in page:
            category = category_from_wc(data)
            current[category.key] = fingerprint(category)[:12]
    next_cursor = encode_cursor(kind="category", hashes=current)
    if cursor is None:
        return ChangeBatch([], next_cursor)
    before: dict[str, str] = decode_cursor(cursor, "category").get("hashes", {})
    changed = sorted(
        (key for key in current.keys() | before.keys() if current.get(key) != before.get(key)), key=_id_order
    )
    return ChangeBatch(changed, next_cursor)


def _id_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (0, key)
