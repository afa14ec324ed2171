"""Sales read back from a Warenwirtschaft: the staged order plus the ERP's progress, keyed by reference.

A sale's key is the shop order reference. What it reads as: the order as it was written to the
import tables (`orders`, `lines`: the columns that copy a canonical path read back into it), the
cancellation row if one was written, and the progress sources (`progress.orders`: status and the
ERP's document number; `progress.shipments`: carrier, tracking, shipped_at; `progress.invoices`:
number, total, credit note), combined by `rows.progress.with_progress`. Every function is sync over
the connection of one read transaction (run through `Database.run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent, Unmappable
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.orders import required_column, reverse_paths
from emporion.connectors.rows.progress import (
    INVOICE_FIELDS,
    PROGRESS_ORDER_FIELDS,
    SHIPMENT_FIELDS,
    Progress,
    bare_order,
    invoice_from,
    shipment_from,
    staged_order,
    with_progress,
)
from emporion.connectors.rows.values import to_text
from emporion.connectors.sql.database import Database, source_name
from emporion.connectors.sql.queries import KEYS_PER_STATEMENT, chunks
from emporion.connectors.sql.settings import SqlConnection, SqlSource
from emporion.connectors.sql.staging import ImportTables
from emporion.model import Order

PROGRESS_KINDS = ("orders", "shipments", "invoices")
FIELDS = {"orders": PROGRESS_ORDER_FIELDS, "shipments": SHIPMENT_FIELDS, "invoices": INVOICE_FIELDS}


def reference_column(spec: SqlSource, available: Sequence[str], kind: str) -> str:
    """The column of a progress source holding the shop order reference (mapped `reference`, else a
    column named so, else the key of `progress.orders`)."""
    mapped = spec.columns.get("reference")
    if mapped is not None and not isinstance(mapped, str):
        raise Permanent(
            f"progress.{kind}: `reference` must name a column (the sales are found by it)",
            record=source_name(spec),
            field="reference",
        )
    candidates = [mapped] if mapped else ["reference", *([spec.key] if kind == "orders" else [])]
    for wanted in candidates:
        for name in available:
            if name == wanted or name.casefold() == wanted.casefold():
                return name
    raise Permanent(
        f"{source_name(spec)} has no column {candidates[0]} (the shop order reference)",
        record=source_name(spec),
        field=candidates[0],
    )


def _column(src: sa.Subquery | sa.Table, name: str) -> sa.ColumnElement[Any]:
    """A column of a relation by name, matched exactly then ignoring case."""
    if name in src.c:
        return src.c[name]
    for column in src.c:
        if column.name.casefold() == name.casefold():
            return column
    raise Permanent(f"no column {name}", field=name)


class SaleReader:
    """Reads sales (staged orders and the ERP's progress) by reference, in one read transaction."""

    def __init__(self, db: Database, settings: SqlConnection, tables: ImportTables) -> None:
        self.db = db
        self.settings = settings
        self.tables = tables
        progress = settings.progress
        self.sources: dict[str, SqlSource] = {}
        if progress is not None:
            for kind in PROGRESS_KINDS:
                spec = getattr(progress, kind)
                if spec is not None:
                    self.sources[kind] = spec
        self.mappers = {kind: RowMapper(spec, FIELDS[kind]) for kind, spec in self.sources.items()}
        self.statuses = dict(progress.statuses) if progress is not None else {}

    def read(self, conn: sa.Connection, references: Sequence[str]) -> list[Order | Unmappable]:
        """The sales of these references that exist (staged or known to the ERP), each once."""
        wanted = list(dict.fromkeys(str(reference) for reference in references))
        if len(wanted) > KEYS_PER_STATEMENT:  # IN lists every server takes (MS SQL: 2100 parameters)
            return [sale for part in chunks(wanted) for sale in self.read(conn, list(part))]
        if not wanted:
            return []
        bases, failed = self._staged(conn, wanted)
        progress: dict[str, Progress] = {}
        self._cancellations(conn, wanted, progress)
        for kind in self.sources:
            for reference, error in self._progress(conn, kind, wanted, progress).items():
                failed.setdefault(reference, error)
        results: list[Order | Unmappable] = []
        for reference in wanted:
            if reference in failed:
                results.append(Unmappable.of(reference, failed[reference]))
                continue
            base = bases.get(reference)
            if base is None:
                if reference not in progress:
                    continue
                # taken and cleared from the import table, or written through a procedure
                base = bare_order(reference, self.settings.currency)
            results.append(with_progress(base, progress.get(reference, Progress()), self.statuses))
        return results

    def known(self, conn: sa.Connection, reference: str) -> bool:
        """Whether the ERP's own orders (`progress.orders`) have this reference."""
        spec = self.sources.get("orders")
        if spec is None:
            return False
        src = self.db.source(spec, conn)
        column = _column(src, reference_column(spec, [c.name for c in src.c], "orders"))
        return conn.execute(sa.select(sa.literal(1)).where(column == reference).limit(1)).first() is not None

    def _staged(
        self, conn: sa.Connection, wanted: list[str]
    ) -> tuple[dict[str, Order], dict[str, Permanent]]:
        """The staged orders (header and lines read back), and the references that could not be read."""
        orders = self.settings.orders
        if orders is None or orders.orders is None:
            return {}, {}
        header = self.tables.table(conn, orders.orders.table)
        reference = self.tables.column(header, orders.reference_column)
        paths = reverse_paths(self.tables.writer(orders.orders, "orders"), "order.")
        rows = [dict(row._mapping) for row in conn.execute(sa.select(header).where(reference.in_(wanted)))]
        lines = self._lines(conn, rows)
        bases: dict[str, Order] = {}
        failed: dict[str, Permanent] = {}
        for row in rows:
            key = str(row[orders.reference_column])
            values = {path: row.get(column) for column, path in paths.items() if column in row}
            try:
                bases[key] = staged_order(key, values, lines.get(key, []), currency=self.settings.currency)
            except Permanent as error:
                failed[key] = error
        return bases, failed

    def _lines(self, conn: sa.Connection, headers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The staged lines of these headers, as `line.*` values, by reference."""
        orders = self.settings.orders
        if orders is None or orders.lines is None or not headers:
            return {}
        target = orders.lines
        table = self.tables.table(conn, target.table)
        writer = self.tables.writer(target, "order lines")
        paths = reverse_paths(writer, "line.")
        if target.parent_column and orders.key_column:
            parents = {row[orders.key_column]: str(row[orders.reference_column]) for row in headers}
            link = self.tables.column(table, target.parent_column)
            query = sa.select(table).where(link.in_(list(parents)))
            owner = lambda row: parents.get(row[target.parent_column])  # noqa: E731
        else:
            column = required_column(writer, "order.reference", target.table)
            link = self.tables.column(table, column)
            query = sa.select(table).where(link.in_([str(row[orders.reference_column]) for row in headers]))
            owner = lambda row: str(row[column])  # noqa: E731
        primary = list(table.primary_key.columns)
        query = query.order_by(*(primary or [link]))
        found: dict[str, list[dict[str, Any]]] = {}
        for result in conn.execute(query):
            row = dict(result._mapping)
            key = owner(row)
            if key is not None:
                found.setdefault(key, []).append({path: row.get(col) for col, path in paths.items()})
        return found

    def _cancellations(self, conn: sa.Connection, wanted: list[str], progress: dict[str, Progress]) -> None:
        """Mark the orders with a cancellation row (and whether the ERP handled it)."""
        orders = self.settings.orders
        if orders is None or orders.cancellations is None:
            return
        target = orders.cancellations
        table = self.tables.table(conn, target.table)
        column = required_column(self.tables.writer(target, "cancellations"), "order.reference", target.table)
        reference = self.tables.column(table, column)
        handled_column = orders.cancellation_taken_column
        selected = [reference]
        if handled_column:
            selected.append(self.tables.column(table, handled_column))
        for row in conn.execute(sa.select(*selected).where(reference.in_(wanted))):
            entry = progress.setdefault(str(row[0]), Progress())
            entry.cancellation = True
            entry.cancellation_handled = bool(handled_column) and row[1] is not None

    def _progress(
        self, conn: sa.Connection, kind: str, wanted: list[str], progress: dict[str, Progress]
    ) -> dict[str, Permanent]:
        """Add one progress source's rows for these references; the references whose rows failed."""
        spec = self.sources[kind]
        mapper = self.mappers[kind]
        src = self.db.source(spec, conn)
        column = reference_column(spec, [c.name for c in src.c], kind)
        failed: dict[str, Permanent] = {}
        query = sa.select(src).where(_column(src, column).in_(wanted))
        for result in conn.execute(query):
            row = dict(result._mapping)
            reference = to_text(row[column])
            where = f"{source_name(spec)} reference {reference}"
            try:
                key = mapper.key(row, where)
                fields = mapper.fields(row, where)
                entry = progress.setdefault(reference, Progress())
                if kind == "orders":
                    entry.add_order_fields(fields)
                elif kind == "shipments":
                    entry.shipments.append(shipment_from(key, {"_where": where, **fields}))
                else:
                    entry.invoices.append(invoice_from(key, {"_where": where, **fields}))
            except Permanent as error:
                failed.setdefault(reference, error)
        return failed
