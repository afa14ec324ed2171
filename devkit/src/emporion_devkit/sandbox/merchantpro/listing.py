"""Lists of the API: filters, `fields=`, `include=` and paging by `start`/`limit` with `meta.links.next`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from emporion_devkit.sandbox.merchantpro.errors import ApiError, invalid

Record = dict[str, Any]
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# the filters of each list: query parameter -> the record field it matches exactly
EXACT = {
    "product": {
        "sku": "sku",
        "ext_ref": "ext_ref",
        "category_id": "category_id",
        "status": "status",
        "type": "type",
    },
    "category": {"parent_id": "parent_id", "status": "status", "name": "name"},
    "customer": {"ext_ref": "ext_ref", "status": "status"},
    "order": {
        "ext_ref": "ext_ref",
        "status": "status",
        "payment_status": "payment_status",
        "shipping_status": "shipping_status",
        "type": "type",
        "customer_id": "customer_id",
    },
    "inventory": {"sku": "sku", "ext_ref": "ext_ref", "product_id": "product_id"},
}


def moment(text: str, name: str) -> datetime:
    """A `*_since` filter's moment: ISO 8601, UTC when it names no offset."""
    try:
        value = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, f"{text!r} is not an ISO 8601 date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def matches(kind: str, record: Record, query: Mapping[str, str]) -> bool:
    """Whether `record` passes the list's filters (unknown parameters are not filters)."""
    for name, field in EXACT.get(kind, {}).items():
        if name not in query:
            continue
        wanted = query[name]
        if kind == "product" and name == "sku":
            skus = {record.get("sku")} | {v.get("sku") for v in record.get("variants", [])}
            if wanted not in skus:
                return False
        elif kind == "product" and name == "category_id":
            if wanted not in {str(c) for c in record.get("categories", [])}:
                return False
        elif str(record.get(field) if record.get(field) is not None else "") != wanted:
            return False
    if "email" in query and kind in ("customer", "order"):
        if str(record.get("email", "")).lower() != query["email"].strip().lower():
            return False
    for name, field in (("created_since", "created_at"), ("updated_since", "updated_at")):
        if name in query and (field not in record or record[field] < moment(query[name], name)):
            return False
    return True


def shaped(view: Record, query: Mapping[str, str]) -> Record:
    """A record cut to `fields=` (the id always kept); side-loaded lists stay when included."""
    wanted = {name.strip() for name in query.get("fields", "").split(",") if name.strip()}
    included = {name.strip() for name in query.get("include", "").split(",") if name.strip()}
    if not wanted:
        return view
    return {key: value for key, value in view.items() if key in wanted | included | {"id"}}


def page(
    url: str,
    query: Mapping[str, str],
    records: list[Record],
    view: Callable[[Record], Record],
) -> dict[str, Any]:
    """One page of `records` (already filtered), with `meta.count` and the `meta.links` to page on."""
    start = number(query.get("start", "0"), "start", 0)
    limit = number(query.get("limit", str(DEFAULT_LIMIT)), "limit", 1)
    if limit > MAX_LIMIT:
        raise invalid("limit", f"at most {MAX_LIMIT} records are listed per page")
    chunk = records[start : start + limit]

    def link(at: int) -> str:
        return f"{url}?{urlencode({**query, 'start': str(at), 'limit': str(limit)})}"

    links = {"current": link(start)}
    if start + limit < len(records):
        links["next"] = link(start + limit)
    if start > 0:
        links["prev"] = link(max(start - limit, 0))
    return {
        "meta": {"count": {"total": len(records), "start": start, "limit": limit}, "links": links},
        "data": [shaped(view(record), query) for record in chunk],
    }


def number(text: str, name: str, least: int) -> int:
    """A whole-number query parameter of at least `least`."""
    try:
        value = int(text)
    except ValueError:
        raise invalid(name, f"{text!r} is not a whole number") from None
    if value < least:
        raise ApiError(400, "InvalidParameter", f"{name}: must be at least {least}", field=name)
    return value
