"""The sales feed of a Warenwirtschaft: which shop order references have news since a cursor.

News comes from several relations, each watched in its own change mode and reported by the shop
order reference it names:

- the import tables emporion writes (`orders.orders`, `orders.cancellations`): by full-result hash
  diff, keyed by reference, so an order just written is reported (its first progress: processing),
  and so is the ERP setting `taken_column` or handling a cancellation;
- the progress sources (`progress.orders`, `.shipments`, `.invoices`) in their configured mode.

Why nothing is lost between polls (the engine stores the returned cursor in the transaction that
queues the keys, so a crash repeats a poll, never skips one):

- full_diff: the snapshot in the cursor holds a hash per reference (its rows combined by
  `group_hash`); every reference whose rows differ from the snapshot's is reported, including
  references whose rows disappeared. A row committed after the read is simply in the next diff.
- updated_at: each poll first takes the database's clock `now` (never the client's), then reads
  the rows stamped at or after `stamp - lookback`. A transaction that commits late carries a stamp
  from before `now` but at most `lookback` seconds before it (the setting's promise), so it is read
  by a later poll's window. Rows read are remembered by (row key, row hash) while they stay inside
  the window, so a re-read row is reported again only when it changed.
- monotonic: rows with `column > position - overlap` in column order, a page at a time; the
  position is the largest value read, and rows inside the overlap are remembered by (row key, row
  hash) so that a value taken before a late commit (an id handed out early) is still read and a
  re-read row is not reported twice. `more` is set when a page was full.

A cursor of None starts from now: the current snapshot, the database clock, the largest value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import ChangeBatch
from emporion.connectors.rows.fulldiff import Snapshot, diff, row_hash
from emporion.connectors.rows.orders import required_column
from emporion.connectors.rows.settings import ChangeMode, ChangeSettings
from emporion.connectors.rows.values import to_text
from emporion.connectors.sql.database import Database, source_name
from emporion.connectors.sql.progress import PROGRESS_KINDS, reference_column
from emporion.connectors.sql.settings import SqlConnection
from emporion.connectors.sql.staging import ImportTables

CURSOR_VERSION = 1


@dataclass
class Watched:
    """One relation the sales feed watches: how to select it, its reference and row key columns."""

    name: str  # in the cursor: "staged", "cancellations", "progress.shipments"
    change: ChangeSettings

    def relation(self, conn: sa.Connection) -> tuple[sa.FromClause, str, str]:
        """(the relation, its reference column, its row key column)."""
        raise NotImplementedError


@dataclass
class StagingRelation(Watched):
    """An import table emporion writes, by its reference column (diffed in full)."""

    tables: ImportTables
    table_name: str
    column: str

    def relation(self, conn: sa.Connection) -> tuple[sa.FromClause, str, str]:
        """The reflected import table; the reference is its row key too (one row per reference)."""
        table = self.tables.table(conn, self.table_name)
        self.tables.column(table, self.column)
        return table, self.column, self.column


@dataclass
class ProgressRelation(Watched):
    """A progress source (table or query), by its reference column, in its own change mode."""

    db: Database
    kind: str

    def relation(self, conn: sa.Connection) -> tuple[sa.FromClause, str, str]:
        """The source as a subquery, its reference column and its key column."""
        progress = self.db.settings.progress
        assert progress is not None
        spec = getattr(progress, self.kind)
        src = self.db.source(spec, conn)
        names = [column.name for column in src.c]
        reference = reference_column(spec, names, self.kind)
        key = next((name for name in names if name.casefold() == spec.key.casefold()), reference)
        return src, reference, key


def watched_relations(db: Database, settings: SqlConnection, tables: ImportTables) -> list[Watched]:
    """Everything the sales feed watches for this connection."""
    watched: list[Watched] = []
    orders = settings.orders
    if orders is not None and orders.orders is not None:
        watched.append(
            StagingRelation("staged", ChangeSettings(), tables, orders.orders.table, orders.reference_column)
        )
    if orders is not None and orders.cancellations is not None:
        column = required_column(
            tables.writer(orders.cancellations, "cancellations"),
            "order.reference",
            orders.cancellations.table,
        )
        watched.append(
            StagingRelation("cancellations", ChangeSettings(), tables, orders.cancellations.table, column)
        )
    progress = settings.progress
    if progress is not None:
        for kind in PROGRESS_KINDS:
            spec = getattr(progress, kind)
            if spec is not None:
                watched.append(ProgressRelation(f"progress.{kind}", spec.change, db, kind))
    return watched


def _column(relation: sa.FromClause, name: str) -> sa.ColumnElement[Any]:
    """A column of the relation by name, exactly or ignoring case."""
    if name in relation.c:
        return relation.c[name]
    return next(column for column in relation.c if column.name.casefold() == name.casefold())


def _hex_hashes(rows: list[dict[str, Any]], key: str) -> dict[str, str]:
    """Row key -> row hash (hex) of the rows remembered in the cursor."""
    return {to_text(row[key]): row_hash(row).hex() for row in rows}


class SalesFeed:
    """Polls the watched relations; the cursor is JSON with each relation's state."""

    def __init__(self, watched: list[Watched], page_size: int) -> None:
        self.watched = watched
        self.page_size = page_size

    def poll(self, conn: sa.Connection, cursor: str | None) -> ChangeBatch:
        """References with news since `cursor` (None: from now on), and the next cursor."""
        states: dict[str, Any] = {}
        if cursor is not None:
            data = json.loads(cursor)
            if data.get("v") != CURSOR_VERSION:
                raise ValueError("not a sales feed cursor of this version")
            states = data["sources"]
        references: list[str] = []
        more = False
        after: dict[str, Any] = {}
        for watched in self.watched:
            relation, reference, key = watched.relation(conn)
            state = states.get(watched.name)
            mode = watched.change.mode
            if mode is ChangeMode.FULL_DIFF:
                found, after[watched.name] = self._full_diff(conn, relation, reference, state)
            elif mode is ChangeMode.UPDATED_AT:
                found, after[watched.name] = self._updated_at(
                    conn, watched.change, relation, reference, key, state
                )
            else:
                found, after[watched.name], full = self._monotonic(
                    conn, watched.change, relation, reference, key, state
                )
                more = more or full
            references += found
        cursor_text = json.dumps({"v": CURSOR_VERSION, "sources": after}, separators=(",", ":"), default=str)
        return ChangeBatch(list(dict.fromkeys(references)), cursor_text, more)

    def _rows(self, conn: sa.Connection, statement: sa.Select[Any]) -> Iterator[dict[str, Any]]:
        """The statement's rows as dicts, fetched a page at a time."""
        result = conn.execution_options(yield_per=self.page_size).execute(statement)
        for row in result.mappings():
            yield dict(row)

    def _full_diff(
        self, conn: sa.Connection, relation: sa.FromClause, reference: str, state: Any
    ) -> tuple[list[str], str]:
        """References whose rows differ from the snapshot (new, changed, gone), and the new snapshot."""
        previous = Snapshot.loads(state) if state else None
        rows = self._rows(conn, sa.select(relation).where(_column(relation, reference).is_not(None)))
        changed, deleted, snapshot = diff(
            previous, ((to_text(row[reference]), row_hash(row)) for row in rows)
        )
        if previous is None:
            return [], snapshot.dumps()
        return changed + deleted, snapshot.dumps()

    def _updated_at(
        self,
        conn: sa.Connection,
        change: ChangeSettings,
        relation: sa.FromClause,
        reference: str,
        key: str,
        state: Any,
    ) -> tuple[list[str], dict[str, Any]]:
        """References of rows stamped inside the look-back window that were not seen so."""
        assert change.column is not None
        now = conn.execute(sa.select(sa.func.current_timestamp())).scalar_one()
        window = timedelta(seconds=change.lookback_seconds)
        if not state:
            return [], {"stamp": now.isoformat(), "seen": {}}
        since = datetime.fromisoformat(state["stamp"]) - window
        if since.tzinfo is not None and now.tzinfo is None:
            since = since.replace(tzinfo=None)
        stamp = _column(relation, change.column)
        rows = list(self._rows(conn, sa.select(relation).where(stamp >= since)))
        seen: dict[str, str] = state.get("seen", {})
        found = [
            to_text(row[reference])
            for row in rows
            if row[reference] is not None and seen.get(to_text(row[key])) != row_hash(row).hex()
        ]
        keep_from = now - window
        kept = [row for row in rows if _comparable(row[change.column], keep_from) >= keep_from]
        return found, {"stamp": now.isoformat(), "seen": _hex_hashes(kept, key)}

    def _monotonic(
        self,
        conn: sa.Connection,
        change: ChangeSettings,
        relation: sa.FromClause,
        reference: str,
        key: str,
        state: Any,
    ) -> tuple[list[str], dict[str, Any], bool]:
        """References of rows past the position (less the overlap) not seen so; whether the page was full."""
        assert change.column is not None
        column = _column(relation, change.column)
        if not state:
            top = conn.execute(sa.select(sa.func.max(column))).scalar()
            return [], {"position": _number_text(top), "seen": {}}, False
        position = _number(state.get("position"))
        statement = sa.select(relation)
        if position is not None:
            statement = statement.where(column > position - change.overlap)
        rows = [
            dict(row) for row in conn.execute(statement.order_by(column).limit(self.page_size)).mappings()
        ]
        seen: dict[str, str] = state.get("seen", {})
        found = [
            to_text(row[reference])
            for row in rows
            if row[reference] is not None and seen.get(to_text(row[key])) != row_hash(row).hex()
        ]
        values = [row[change.column] for row in rows] + ([position] if position is not None else [])
        if not values:  # nothing yet, not even at the start: still from the beginning
            return found, {"position": None, "seen": {}}, False
        top = max(values)
        kept = [row for row in rows if row[change.column] > top - change.overlap]
        remembered = _hex_hashes(kept, key) if change.overlap else {}
        return found, {"position": _number_text(top), "seen": remembered}, len(rows) == self.page_size


def _number_text(value: Any) -> str | None:
    """A position as cursor text (row versions and ids are whole numbers; decimals kept exact)."""
    return None if value is None else to_text(value)


def _number(text: Any) -> int | Decimal | None:
    """A position back from its cursor text."""
    if text is None:
        return None
    value = str(text)
    return int(value) if value.lstrip("-").isdigit() else Decimal(value)


def _comparable(value: Any, other: datetime) -> datetime:
    """A stamp read from the database made comparable with `other` (both naive or both aware)."""
    if not isinstance(value, datetime):
        return other
    if value.tzinfo is None and other.tzinfo is not None:
        return value.replace(tzinfo=other.tzinfo)
    if value.tzinfo is not None and other.tzinfo is None:
        return value.replace(tzinfo=None)
    return value


def describe(watched: list[Watched]) -> str:
    """What the feed watches, for `emporion check`."""
    return ", ".join(f"{w.name} ({w.change.mode.value})" for w in watched) or "nothing"


__all__ = ["SalesFeed", "describe", "source_name", "watched_relations"]
