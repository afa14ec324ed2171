"""The SQL change feed: per source, a monotonic column, a modification time, or a full-result hash diff.

An entity's keys come from its sources: `category` and `customer` from their own; `product` from
`products`, and from `variants` (their `product` column), `prices`, `sale_prices`, `stock` and
`images` (their SKU, turned into the product key through the products' and variants' SKUs). The
cursor is one JSON text holding each source's state; `None` starts from now: the state is made
from what is there (nothing reported), so that the next poll reports only what changes after.

Every mode reads with keyset paging on (change column, key), one read transaction per page, and
remembers the (key, row hash) pairs it read in the current window, so a row read again unchanged
is not reported twice, and a row changed again (new hash: the hash covers every column, its
stamp too) is. A poll that stops at the page limit says `more` and resumes where it stopped.

Why nothing is lost, mode by mode:

- **monotonic** (`column` grows with every insert or change: a row version, a sequence, an id):
  a pass reads `column > high - overlap`, where `high` is the largest value read before. A change
  committed after a pass carries a value its writer drew either after the pass's reads (so larger
  than `high`) or before (a late commit): then it is caught when its value is within `overlap` of
  `high`. `overlap` must cover the values drawn by transactions still open while a poll reads. On
  MS SQL Server a `rowversion` column is read only below `MIN_ACTIVE_ROWVERSION()`, which no open
  transaction's rows can fall below, so no change is in flight below what was read and `overlap`
  may be 0.
- **updated_at** (`column` is the time the row last changed): each pass first takes the database's
  own clock (`CURRENT_TIMESTAMP`, never this machine's), then reads `column >= stamp - look-back`,
  where `stamp` is the clock taken before the previous pass. A change committed after a pass read
  carries a time either after that pass's clock reading (read by the next pass) or before it (a
  late commit, or a writer's clock behind): caught as long as it is within the look-back.
- **full_diff**: every row is read and hashed each poll (`rows.fulldiff`); the snapshot of
  (key, hash) is the state. Changed, new and deleted keys are reported; a key of a sub-entity is
  its SKU (or product), and its rows' hashes are combined, so a deleted stock row still reports it.

Deletes: full_diff reports vanished keys; with a soft-delete column a deletion is a changed row,
reported like any change; the engine then reads the record, finds it absent and applies the
flow's `on_remove`. The state is stored by the engine with the keys it queued, so a poll whose
keys were not queued is polled again from the same state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import ChangeBatch, Permanent
from emporion.connectors.rows.fulldiff import Snapshot, diff, row_hash
from emporion.connectors.rows.settings import ChangeMode
from emporion.connectors.sql.catalogue import BY_SKU, ENTITY_SOURCES, SqlCatalogue
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.feed_state import Position, SourceState, earlier, lower
from emporion.connectors.sql.reading import (
    Row,
    Source,
    actual_column,
    column_of,
    column_text,
    key_text,
    page_after,
)

CURSOR_VERSION = 1
PAGES_PER_POLL = 10  # pages one source reads per poll before it answers `more`


class SqlFeed:
    """The change feed of the SQL connector's catalogue entities."""

    def __init__(self, db: Database, catalogue: SqlCatalogue) -> None:
        self.db = db
        self.catalogue = catalogue
        self.page_size = catalogue.settings.page_size

    def roles(self, entity: str) -> list[str]:
        """The sources whose changes are changes of `entity`."""
        main = ENTITY_SOURCES.get(entity)
        self.catalogue.main(entity)  # Permanent when not configured
        if entity != "product":
            return [str(main)]
        return [role for role in ("products", "variants", *BY_SKU) if role in self.catalogue.sources]

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys of `entity` changed since `cursor` (None: from now), and the cursor to ask with next."""
        states = self._load(cursor)
        keys: set[str] = set()
        skus: set[str] = set()
        more = False
        for role in self.roles(entity):
            source = self.catalogue.sources[role]
            state = states.get(role)
            prime = state is None or state.mode is not source.spec.change.mode
            found, state, cut = await self.poll(source, None if prime else state)
            states[role] = state
            more = more or cut
            if prime:
                continue
            if role in BY_SKU:
                skus |= found
            else:
                keys |= found
        if skus:
            owners = await self.db.read(
                lambda connection: self.catalogue.product_keys_in(connection, sorted(skus)),
                what="product SKUs",
            )
            keys |= set(owners.values())
        data = {"v": CURSOR_VERSION, "s": {role: state.dumps() for role, state in states.items()}}
        return ChangeBatch(sorted(key for key in keys if key), json.dumps(data, separators=(",", ":")), more)

    def _load(self, cursor: str | None) -> dict[str, SourceState]:
        """Each source's state from the cursor text; a foreign or damaged cursor is Permanent."""
        if cursor is None:
            return {}
        try:
            data = json.loads(cursor)
            if data.get("v") != CURSOR_VERSION:
                raise ValueError("unknown version")
            return {role: SourceState.loads(state) for role, state in data["s"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise Permanent(f"not a SQL feed cursor ({error})", record=self.db.where) from None

    async def poll(self, source: Source, state: SourceState | None) -> tuple[set[str], SourceState, bool]:
        """Keys a source reports since `state` (None: prime it, reporting nothing), its next state, more."""
        mode = source.spec.change.mode
        if mode is ChangeMode.FULL_DIFF:
            return await self._full_diff(source, state)
        if state is None:
            state = await self._start(source)
            _, state, _ = await self._ordered(source, state, limit_pages=None)
            return set(), state, False
        return await self._ordered(source, state, limit_pages=PAGES_PER_POLL)

    async def _start(self, source: Source) -> SourceState:
        """A fresh state at the source's current position: its largest value, or the database clock."""
        change = source.spec.change
        if change.mode is ChangeMode.MONOTONIC:

            def newest(connection: sa.Connection) -> Any:
                src = self.db.source(source.spec, connection)
                column = src.c[actual_column(self.db, connection, source, str(change.column))]
                return connection.execute(sa.select(sa.func.max(column))).scalar()

            return SourceState(change.mode, high=await self.db.read(newest, what=source.name))
        return SourceState(change.mode, stamp=await self.clock())

    async def clock(self) -> Any:
        """The database's clock (CURRENT_TIMESTAMP), the stamp a pass starts from."""
        return await self.db.read(
            lambda connection: connection.execute(sa.select(sa.func.current_timestamp())).scalar(),
            what="the clock",
        )

    async def _ordered(
        self, source: Source, state: SourceState, *, limit_pages: int | None
    ) -> tuple[set[str], SourceState, bool]:
        """One pass (or its next part) of a monotonic or updated_at source."""
        change = source.spec.change
        column = str(change.column)
        if state.resume is None:  # a new pass
            state.reading = {}
            if change.mode is ChangeMode.UPDATED_AT:
                state.next_stamp = await self.clock()
        floor: Any
        if change.mode is ChangeMode.MONOTONIC:
            floor = lower(state.high, change.overlap)
        else:
            floor = None if state.stamp is None else earlier(state.stamp, change.lookback_seconds)
        found: set[str] = set()
        pages = 0
        while limit_pages is None or pages < limit_pages:
            rows = await self._changed_page(source, column, floor, state.resume)
            pages += 1
            for row in rows:
                key = key_text(source, row)
                if not key:
                    continue
                digest = row_hash(row).hex()
                if state.seen.get(key) != digest and state.reading.get(key) != digest:
                    found.add(self._report_key(source, row, key))
                state.reading[key] = digest
                value = _value(row, column)
                if change.mode is ChangeMode.MONOTONIC and (state.high is None or value > state.high):
                    state.high = value
            if rows:
                state.resume = [_value(rows[-1], column), _value(rows[-1], source.spec.key)]
            if len(rows) < self.page_size:
                state.seen, state.reading, state.resume = state.reading, {}, None
                if change.mode is ChangeMode.UPDATED_AT:
                    state.stamp, state.next_stamp = state.next_stamp, None
                return found - {""}, state, False
        return found - {""}, state, True

    async def _changed_page(
        self, source: Source, column: str, floor: Any, after: Position | None
    ) -> list[Row]:
        """The next page of rows at or past the floor, in (column, key) order."""
        mode = source.spec.change.mode

        def work(connection: sa.Connection) -> list[Row]:
            src = self.db.source(source.spec, connection)
            changed = src.c[actual_column(self.db, connection, source, column)]
            key = src.c[actual_column(self.db, connection, source, source.spec.key)]
            statement = changed_rows(
                src, changed, key, mode, floor, after, self.db.dialect_name, self.page_size
            )
            return [dict(row) for row in connection.execute(statement).mappings()]

        return await self.db.read(work, what=source.name)

    async def _full_diff(
        self, source: Source, state: SourceState | None
    ) -> tuple[set[str], SourceState, bool]:
        """Every row hashed, page by page, and compared with the snapshot (None: the snapshot made)."""
        previous = None
        if state is not None and state.snapshot:
            try:
                previous = Snapshot.loads(state.snapshot)
            except ValueError as error:
                raise Permanent(f"the change snapshot of {source.name} is damaged ({error})") from None
        pairs: list[tuple[str, bytes]] = []  # as large as one snapshot; diff keeps no more

        def hashed(rows: list[Row]) -> Iterator[tuple[str, bytes]]:
            for row in rows:
                key = key_text(source, row)
                if key:
                    yield self._report_key(source, row, key), row_hash(row)

        after: Position | None = None
        while True:
            position = after

            def work(connection: sa.Connection, position: Position | None = position) -> list[Row]:
                return page_after(self.db, connection, source, [source.spec.key], position, self.page_size)

            rows = await self.db.read(work, what=source.name)
            pairs.extend(hashed(rows))
            if len(rows) < self.page_size:
                break
            after = [_value(rows[-1], source.spec.key)]
        changed, deleted, snapshot = diff(previous, pairs)
        found = set() if previous is None else set(changed) | set(deleted)
        return found - {""}, SourceState(ChangeMode.FULL_DIFF, snapshot=snapshot.dumps()), False

    def _report_key(self, source: Source, row: Row, key: str) -> str:
        """What a changed row reports: its key, or its product (variants), or its SKU (prices, stock...)."""
        if source.role == "variants":
            return column_text(row, column_of(source, "product"))
        if source.role in BY_SKU:
            return column_text(row, column_of(source, "sku"))
        return key


def changed_rows(
    src: sa.Subquery,
    changed: sa.ColumnElement[Any],
    key: sa.ColumnElement[Any],
    mode: ChangeMode,
    floor: Any,
    after: Position | None,
    dialect: str,
    limit: int,
) -> sa.Select[Any]:
    """The next page of rows at or past the floor (or after a position), in (change column, key) order.

    On MS SQL a rowversion column is read only below MIN_ACTIVE_ROWVERSION(): no open transaction
    can still commit a row below it.
    """
    statement = sa.select(src).where(changed.is_not(None))
    if after is not None:
        statement = statement.where(sa.or_(changed > after[0], sa.and_(changed == after[0], key > after[1])))
    elif floor is not None:
        statement = statement.where(changed > floor if mode is ChangeMode.MONOTONIC else changed >= floor)
    if mode is ChangeMode.MONOTONIC and dialect == "mssql" and _is_rowversion(floor, after):
        statement = statement.where(changed < sa.func.MIN_ACTIVE_ROWVERSION())
    return statement.order_by(changed, key).limit(limit)


def _value(row: Row, column: str) -> Any:
    """The row's value of `column` (exact name, else ignoring case)."""
    if column in row:
        return row[column]
    return next(value for name, value in row.items() if name.casefold() == column.casefold())


def _is_rowversion(floor: Any, after: Position | None) -> bool:
    """Whether the change column holds row versions (binary values), as MS SQL's rowversion does."""
    sample = after[0] if after is not None else floor
    return isinstance(sample, bytes)
