"""The Tryton change feed: rows created or written since a high-water mark, with an overlap window.

Tryton stamps every row with `create_date` and `write_date` from the database's clock. A poll asks
each source model for rows stamped at or after `high_water - overlap` (late commits and equal stamps
are caught again) and drops those already reported: the cursor remembers each row reported inside
the window as "model:id:stamp", so an unchanged row is reported once, a row written again is
reported again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.tryton.client import TrytonClient

STAMP_FIELDS = ["create_date", "write_date"]
ALL_ROWS = {"active_test": False}  # deactivated rows are changes too


@dataclass(frozen=True)
class FeedSource:
    """A model whose stamps signal a change, and the fields to read from each changed row."""

    model: str
    fields: tuple[str, ...] = ()


@dataclass
class FeedCursor:
    """Position in the feed: the newest stamp seen and the rows already reported near it."""

    high_water: dt.datetime | None = None
    seen: set[str] = field(default_factory=set)

    def dumps(self) -> str:
        """JSON text; rows seen are grouped by model and stamp (a bulk change shares one stamp)."""
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for item in self.seen:
            model, row_id, when = item.split(":", 2)
            groups[(model, when)].append(int(row_id))
        seen = [[model, when, sorted(ids)] for (model, when), ids in sorted(groups.items())]
        high_water = self.high_water.isoformat() if self.high_water else None
        return json.dumps({"v": 1, "hw": high_water, "seen": seen}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> FeedCursor:
        """Parse a cursor made by `dumps`; anything else is a permanent error."""
        try:
            data = json.loads(text)
            high_water = dt.datetime.fromisoformat(data["hw"]) if data.get("hw") else None
            seen = {f"{model}:{row_id}:{when}" for model, when, ids in data.get("seen", []) for row_id in ids}
            return cls(high_water=high_water, seen=seen)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Permanent(f"not a Tryton feed cursor: {text[:80]!r}") from exc


def stamp(row: dict[str, Any]) -> dt.datetime:
    """When a row last changed: its write_date, or its create_date if it was never written."""
    return row.get("write_date") or row["create_date"]


def identity(model: str, row: dict[str, Any]) -> str:
    return f"{model}:{row['id']}:{stamp(row).isoformat()}"


async def newest_stamp(client: TrytonClient, sources: Iterable[FeedSource]) -> dt.datetime | None:
    """The newest create/write stamp over the sources: the feed's "now" on the database's clock."""
    newest: dt.datetime | None = None
    for source in sources:
        for name in STAMP_FIELDS:
            rows = await client.search_read(
                source.model, [(name, "!=", None)], [name], limit=1, order=[(name, "DESC")], context=ALL_ROWS
            )
            if rows and (newest is None or rows[0][name] > newest):
                newest = rows[0][name]
    return newest


async def changed_rows(
    client: TrytonClient,
    source: FeedSource,
    since: dt.datetime,
    *,
    page_size: int,
) -> list[dict[str, Any]]:
    """Rows of `source` created or written at or after `since`, paged by id."""
    domain = ["OR", ("write_date", ">=", since), ("create_date", ">=", since)]
    rows: list[dict[str, Any]] = []
    fields = [*STAMP_FIELDS, *source.fields]
    async for page in client.pages(source.model, domain, fields, page_size=page_size, context=ALL_ROWS):
        rows.extend(page)
    return rows


async def poll(
    client: TrytonClient,
    sources: Sequence[FeedSource],
    cursor: FeedCursor | None,
    *,
    overlap: dt.timedelta,
    page_size: int,
) -> tuple[dict[str, list[dict[str, Any]]], FeedCursor]:
    """New changed rows per model since `cursor` (None: none, from now on) and the next cursor."""
    start = cursor if cursor is not None and cursor.high_water is not None else None
    high_water = start.high_water if start else await newest_stamp(client, sources)
    if high_water is None:  # empty database: everything from now on is new
        return {source.model: [] for source in sources}, FeedCursor(dt.datetime(1970, 1, 1), set())
    since = high_water - overlap
    already = start.seen if start else set()
    fresh: dict[str, list[dict[str, Any]]] = {}
    reported: list[tuple[str, dt.datetime]] = []
    newest = high_water
    for source in sources:
        rows = await changed_rows(client, source, since, page_size=page_size)
        fresh[source.model] = [row for row in rows if identity(source.model, row) not in already]
        for row in rows:
            reported.append((identity(source.model, row), stamp(row)))
            newest = max(newest, stamp(row))
    keep_after = newest - overlap
    seen = {name for name, when in reported if when >= keep_after}
    if start is None:  # "from now on": remember the window, report nothing
        return {source.model: [] for source in sources}, FeedCursor(newest, seen)
    return fresh, FeedCursor(newest, seen)
