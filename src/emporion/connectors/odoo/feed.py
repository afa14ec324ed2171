"""The Odoo change feed: rows written since the last poll, less those whose content did not change.

Odoo stamps every row it creates or writes with `write_date`, the start of the writing transaction on
the database's clock, to the second. It also stamps rows a write did not change (a form saved as it
was, a price written again), and a stock move never touches its product's `write_date`. So:

- Each poll reads, from every source model, the rows stamped at or after the cursor's `since`, with
  the fields the catalogue depends on. The next cursor's `since` is the server's clock at this poll
  (`client.now()`, the Date of a fresh answer) less `overlap_seconds`.
- A change committed after a poll carries the stamp of its transaction's start. If that transaction
  lasted less than the overlap, its stamp is at or after the poll's clock less the overlap: the next
  poll reads it. Nothing committed is passed over, whatever order transactions commit in; a
  transaction longer than the overlap is the one case the overlap setting must be sized for.
- Rows are read again while they stay in the window, and Odoo restamps rows it did not change. So
  the cursor keeps, for every row read inside the window, a fingerprint of its fields (never of its
  stamp): a row read again with the same fingerprint is not reported; a row whose fields differ is,
  whenever it changed. A row that leaves the window is forgotten: it is read again only if it is
  stamped again, and then reported once (at least once, never lost).
- "From now on" (no cursor): the window before the first poll is read and remembered, not reported.

A deleted row leaves no stamp. Where a deletion changes the catalogue (a pricelist item), the cursor
also keeps what each row of the watched set pointed at (`items`, see feed_catalogue.py), so that a
row gone since the last poll is reported by what it pointed at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.odoo.client import OdooClient, odoo_text

ALL_ROWS = {"active_test": False}  # archived rows are changes too
FINGERPRINT_CHARS = 16


@dataclass(frozen=True)
class FeedSource:
    """A model whose written rows signal a change, the rows watched and the fields that matter."""

    model: str
    fields: tuple[str, ...]
    domain: tuple[Any, ...] = ()
    # flags fingerprinted with the row: name -> domain the row matches (e.g. an image is set), for
    # fields too heavy to read (binaries)
    flags: tuple[tuple[str, tuple[Any, ...]], ...] = ()


@dataclass
class FeedCursor:
    """Where a feed stands: read from `since` on; rows already reported in the window, by fingerprint."""

    since: dt.datetime
    polled: dt.datetime | None = None  # the server's clock at the poll that made this cursor
    seen: dict[str, dict[int, str]] = field(default_factory=dict)  # model -> id -> fingerprint
    items: dict[int, str] | None = None  # watched pricelist item -> what it prices (None: not known yet)
    watched: list[int] = field(default_factory=list)  # the pricelists `items` covers

    def dumps(self) -> str:
        """Compact JSON text: the window's start and each model's rows with their fingerprints."""
        seen = {
            model: {str(key): value for key, value in sorted(rows.items())}
            for model, rows in self.seen.items()
        }
        data: dict[str, Any] = {"v": 1, "since": odoo_text(self.since), "seen": seen}
        if self.polled is not None:
            data["at"] = odoo_text(self.polled)
        if self.items is not None:
            data["items"] = {str(key): value for key, value in sorted(self.items.items())}
            data["watched"] = sorted(self.watched)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> FeedCursor:
        """Parse a cursor made by `dumps`; anything else is a permanent error."""
        try:
            data = json.loads(text)
            if data.get("v") != 1:
                raise ValueError("version")
            since = parse_time(data["since"])
            polled = parse_time(data["at"]) if data.get("at") else None
            seen = {
                str(model): {int(key): str(value) for key, value in rows.items()}
                for model, rows in data.get("seen", {}).items()
            }
            items = data.get("items")
            return cls(
                since=since,
                polled=polled,
                seen=seen,
                items={int(key): str(value) for key, value in items.items()} if items is not None else None,
                watched=[int(ident) for ident in data.get("watched", [])],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Permanent(f"not an Odoo feed cursor: {text[:80]!r}") from exc


def parse_time(text: str) -> dt.datetime:
    """A time written by `odoo_text`, as an aware UTC datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def fingerprint(row: dict[str, Any], fields: Sequence[str]) -> str:
    """A short digest of the row's watched fields (its stamp left out)."""
    content = json.dumps([row.get(name) for name in fields], default=str, separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()[:FINGERPRINT_CHARS]


async def stamped_since(
    client: OdooClient, source: FeedSource, since: dt.datetime, *, page_size: int
) -> list[dict[str, Any]]:
    """Rows of `source` stamped at or after `since`, a page at a time by id."""
    domain = [("write_date", ">=", odoo_text(since)), *source.domain]
    rows: list[dict[str, Any]] = []
    fields = ["write_date", *source.fields]
    async for page in client.pages(source.model, domain, fields, page_size=page_size, context=ALL_ROWS):
        ids = [int(row["id"]) for row in page]
        for name, flag_domain in source.flags:
            matching = set(
                await client.search(source.model, [("id", "in", ids), *flag_domain], context=ALL_ROWS)
            )
            for row in page:
                row[name] = int(row["id"]) in matching
        rows.extend(page)
    return rows


async def poll(
    client: OdooClient,
    sources: Sequence[FeedSource],
    cursor: FeedCursor | None,
    *,
    overlap: dt.timedelta,
    page_size: int,
) -> tuple[dict[str, list[dict[str, Any]]], FeedCursor]:
    """Changed rows per model since `cursor` (None: none, from now on) and the next cursor."""
    now = await client.now()
    since = cursor.since if cursor is not None else now - overlap
    next_since = now - overlap
    changed: dict[str, list[dict[str, Any]]] = {}
    seen: dict[str, dict[int, str]] = {}
    for source in sources:
        known = cursor.seen.get(source.model, {}) if cursor is not None else {}
        rows = await stamped_since(client, source, since, page_size=page_size)
        kept: dict[int, str] = {}
        fresh = []
        for row in rows:
            print_ = fingerprint(row, [*source.fields, *(name for name, _ in source.flags)])
            if known.get(int(row["id"])) != print_:
                fresh.append(row)
            if str(row.get("write_date") or "") >= odoo_text(next_since):
                kept[int(row["id"])] = print_
        changed[source.model] = fresh if cursor is not None else []
        if kept:
            seen[source.model] = kept
    return changed, FeedCursor(since=next_since, polled=now, seen=seen)
