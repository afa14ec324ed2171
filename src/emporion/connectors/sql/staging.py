"""Shop orders into the import tables a Warenwirtschaft owns: one transaction per order, once per reference.

Each function here is sync and takes the `sa.Connection` of one transaction (the connector runs it
through `Database.run`, in a worker thread). Why an order is written exactly once:

- the header is searched by the shop order reference (`orders.reference_column`) before it is
  inserted, inside the same transaction as the insert;
- the import table has a unique key on that column. Two writers that both found nothing (a
  concurrent write, or a write whose answer was lost and that is retried while the first commits)
  both insert; the database lets one through and refuses the other with a unique-key violation. The
  loser rolls back to a savepoint taken before its header insert, so its transaction wrote nothing,
  and answers DUPLICATE; the caller reads the row back in a fresh transaction (a snapshot taken
  before the winner committed would not show it) and reports it as matched, never as a second row;
- header, lines and payments go in one transaction: a line the database refuses rolls the header
  back with it, so the ERP never sees half an order.

Customers are one row per e-mail, searched case-insensitively first; cancellations and returns are
one row per order (per refund), searched by their identifying columns first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent
from emporion.connectors.rows.orders import (
    RowWriter,
    customer_row,
    header_row,
    line_rows,
    order_label,
    payment_rows,
    refund_row,
    required_column,
)
from emporion.connectors.rows.settings import RowTarget
from emporion.connectors.rows.values import to_decimal
from emporion.connectors.sql.database import split_table
from emporion.connectors.sql.queries import chunks
from emporion.connectors.sql.settings import OrderImport, SqlConnection, StagingTable
from emporion.model import Customer, Order, Refund

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")  # a procedure name's parts (never quoted input)


class Staged(StrEnum):
    """What writing one row set found: made now, there already, or lost a race to a concurrent writer."""

    CREATED = "created"
    FOUND = "found"
    DUPLICATE = "duplicate"


def _text_json(value: Any) -> str:
    """A list or mapping value as JSON text (Decimal and datetime as text)."""
    return json.dumps(value, default=str, sort_keys=True)


def coerce(value: Any, column: sa.Column[Any]) -> Any:
    """A canonical value as the column takes it: aware times in UTC for columns without a zone, dates
    for DATE columns, lists and mappings as JSON text."""
    if isinstance(value, (dict, list)):
        return _text_json(value)
    column_type = column.type
    if isinstance(value, datetime):
        if isinstance(column_type, sa.DateTime) and not column_type.timezone and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(column_type, sa.Date) and not isinstance(column_type, sa.DateTime):
            return value.date()
    if isinstance(value, date) and not isinstance(value, datetime) and isinstance(column_type, sa.DateTime):
        return datetime(value.year, value.month, value.day)
    return value


class ImportTables:
    """The configured import tables of one connection: their mappings compiled, their columns reflected."""

    def __init__(self, settings: SqlConnection) -> None:
        self.settings = settings
        self.import_: OrderImport | None = settings.orders
        self._tables: dict[str, sa.Table] = {}
        self._writers: dict[str, RowWriter] = {}

    def writer(self, target: StagingTable, what: str) -> RowWriter:
        """The compiled column mapping of an import table."""
        if target.table not in self._writers:
            self._writers[target.table] = RowWriter(
                RowTarget(columns=target.columns), f"{what} ({target.table})"
            )
        return self._writers[target.table]

    def table(self, conn: sa.Connection, name: str) -> sa.Table:
        """The import table `name` as the database has it (reflected once)."""
        if name not in self._tables:
            table, schema = split_table(name, self.settings.schema_)
            try:
                self._tables[name] = sa.Table(table, sa.MetaData(), autoload_with=conn, schema=schema)
            except sa.exc.NoSuchTableError:
                raise Permanent(f"the import table {name} does not exist", record=f"table {name}") from None
        return self._tables[name]

    def column(self, table: sa.Table, name: str) -> sa.Column[Any]:
        """One column of an import table; Permanent naming table and column when it has none such."""
        if name not in table.c:
            raise Permanent(
                f"the import table {table.name} has no column {name}",
                record=f"table {table.name}",
                field=name,
            )
        return table.c[name]

    def insert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, each value as its column takes it."""
        if not rows:
            return
        values = [
            {name: coerce(value, self.column(table, name)) for name, value in row.items()} for row in rows
        ]
        conn.execute(sa.insert(table), values)

    def orders_settings(self) -> OrderImport:
        """The order import settings (Permanent when the connection has none)."""
        if self.import_ is None:
            raise Permanent("the connection has no order import (`orders`) configured")
        return self.import_


# -- orders ------------------------------------------------------------------------------------------


def find_order(conn: sa.Connection, tables: ImportTables, reference: str) -> bool:
    """Whether an order with this reference is in the import table."""
    settings = tables.orders_settings()
    assert settings.orders is not None
    header = tables.table(conn, settings.orders.table)
    column = tables.column(header, settings.reference_column)
    return conn.execute(sa.select(sa.literal(1)).where(column == reference).limit(1)).first() is not None


def stage_order(conn: sa.Connection, tables: ImportTables, order: Order) -> Staged:
    """Header, lines and payments of `order` in this transaction, unless its reference is there already."""
    settings = tables.orders_settings()
    assert settings.orders is not None and order.reference
    if find_order(conn, tables, order.reference):
        return Staged.FOUND
    header = tables.table(conn, settings.orders.table)
    row = header_row(order, tables.writer(settings.orders, "orders"))
    row[settings.reference_column] = order.reference
    try:
        with conn.begin_nested():
            tables.insert(conn, header, [row])
    except sa.exc.IntegrityError:
        return Staged.DUPLICATE  # another writer committed this reference: read back, never a second row
    parent = None
    if settings.key_column:
        key = tables.column(header, settings.key_column)
        reference = tables.column(header, settings.reference_column)
        parent = conn.execute(sa.select(key).where(reference == order.reference)).scalar_one()
    for target, rows_of, what in (
        (settings.lines, line_rows, "order lines"),
        (settings.payments, payment_rows, "payments"),
    ):
        if target is None:
            continue
        rows = rows_of(order, tables.writer(target, what))
        if target.parent_column:
            if parent is None:
                raise Permanent(
                    f"{target.table}.{target.parent_column} names the order row: set orders.key_column",
                    record=f"table {target.table}",
                    field=target.parent_column,
                )
            rows = [{**row, target.parent_column: parent} for row in rows]
        tables.insert(conn, tables.table(conn, target.table), rows)
    return Staged.CREATED


def stage_cancellation(conn: sa.Connection, tables: ImportTables, order: Order) -> Staged:
    """One cancellation row for the order (none if there is one): the ERP cancels what it took."""
    settings = tables.orders_settings()
    target = settings.cancellations
    if target is None:
        raise Permanent(
            "the ERP has no cancellation import (orders.cancellations is not configured);"
            " cancel the order in the ERP by hand",
            record=order_label(order),
            field="status",
        )
    writer = tables.writer(target, "cancellations")
    table = tables.table(conn, target.table)
    reference = tables.column(table, required_column(writer, "order.reference", target.table))
    if conn.execute(sa.select(sa.literal(1)).where(reference == order.reference).limit(1)).first():
        return Staged.FOUND
    tables.insert(conn, table, [header_row(order, writer)])
    return Staged.CREATED


def stage_return(conn: sa.Connection, tables: ImportTables, order: Order, refund: Refund) -> Staged:
    """One return row for a shop refund (none if there is one, by order reference and refund key)."""
    settings = tables.orders_settings()
    target = settings.returns
    if target is None:
        raise Permanent(
            "the ERP has no return import (orders.returns is not configured); book the refund in the ERP",
            record=f"{order_label(order)} refund {refund.key}",
            field="refunds",
        )
    writer = tables.writer(target, "returns")
    table = tables.table(conn, target.table)
    reference = tables.column(table, required_column(writer, "order.reference", target.table))
    refund_key = tables.column(table, required_column(writer, "refund.key", target.table))
    found = sa.select(sa.literal(1)).where(reference == order.reference, refund_key == refund.key).limit(1)
    if conn.execute(found).first():
        return Staged.FOUND
    tables.insert(conn, table, [refund_row(order, refund, writer)])
    return Staged.CREATED


# -- customers ---------------------------------------------------------------------------------------


def stage_customer(conn: sa.Connection, tables: ImportTables, customer: Customer) -> tuple[Staged, str]:
    """The customer's row, found by e-mail in any case or inserted; and its key (generated or e-mail)."""
    settings = tables.orders_settings()
    target = settings.customers
    email = customer.email.strip().lower()
    if not email:
        raise Permanent("the customer has no e-mail", record=f"customer {customer.key}", field="email")
    if target is None:
        return Staged.FOUND, email
    table = tables.table(conn, target.table)
    email_column = tables.column(table, settings.customer_email_column)
    key_column = tables.column(table, settings.customer_key_column) if settings.customer_key_column else None

    def existing() -> str | None:
        """The key of the row with this e-mail in any case (the lowest, should there be several)."""
        chosen = key_column if key_column is not None else email_column
        query = sa.select(chosen).where(sa.func.lower(email_column) == email).order_by(chosen).limit(1)
        row = conn.execute(query).first()
        return None if row is None else (str(row[0]) if key_column is not None else email)

    found = existing()
    if found is not None:
        return Staged.FOUND, found
    row = customer_row(customer, tables.writer(target, "customers"))
    row[settings.customer_email_column] = customer.email.strip()
    try:
        with conn.begin_nested():
            tables.insert(conn, table, [row])
    except sa.exc.IntegrityError:
        return Staged.DUPLICATE, ""  # a unique e-mail another writer committed: read back anew
    made = existing()
    if made is None:
        raise Permanent(
            f"the customer row inserted into {target.table} cannot be found by its e-mail again",
            record=f"table {target.table}",
            field=settings.customer_email_column,
        )
    return Staged.CREATED, made


# -- procedure ---------------------------------------------------------------------------------------


def call_procedure(conn: sa.Connection, name: str, order: Order) -> None:
    """Call the ERP's import procedure with (reference, order as JSON): CALL, or EXEC on MS SQL."""
    parts = name.split(".")
    if not all(_IDENTIFIER.fullmatch(part) for part in parts):
        raise Permanent(f"not a procedure name: {name!r}", field="orders.procedure")
    preparer = conn.dialect.identifier_preparer
    quoted = ".".join(preparer.quote(part) for part in parts)
    document = _text_json(order.model_dump(mode="json"))
    if conn.dialect.name == "mssql":
        statement = sa.text(f"EXEC {quoted} :reference, :document")
    elif conn.dialect.name in ("mysql", "mariadb", "postgresql"):
        statement = sa.text(f"CALL {quoted}(:reference, :document)")
    else:
        raise Permanent(f"{conn.dialect.name} has no stored procedures", field="orders.procedure")
    conn.execute(statement, {"reference": order.reference, "document": document})


# -- reservations ------------------------------------------------------------------------------------


def pending_quantities(
    conn: sa.Connection, settings: SqlConnection, skus: Sequence[str]
) -> dict[str, Decimal]:
    """Quantities per SKU on lines of staged orders the ERP has not taken yet (`taken_column` null) and
    that no cancellation row withdraws: stock the ERP still counts but the shop has sold.

    Empty when the import has no taken column, no lines table, or runs through a procedure.
    """
    orders = settings.orders
    if not skus or orders is None or orders.orders is None or orders.lines is None or not orders.taken_column:
        return {}
    tables = ImportTables(settings)
    header = tables.table(conn, orders.orders.table)
    lines = tables.table(conn, orders.lines.table)
    writer = tables.writer(orders.lines, "order lines")
    sku = tables.column(lines, required_column(writer, "line.sku", orders.lines.table))
    quantity = tables.column(lines, required_column(writer, "line.quantity", orders.lines.table))
    reference = tables.column(header, orders.reference_column)
    if orders.lines.parent_column and orders.key_column:
        joined = tables.column(lines, orders.lines.parent_column) == tables.column(header, orders.key_column)
    else:
        line_reference = tables.column(lines, required_column(writer, "order.reference", orders.lines.table))
        joined = line_reference == reference
    query = (
        sa.select(sku, quantity)
        .select_from(lines.join(header, joined))
        .where(tables.column(header, orders.taken_column).is_(None))
    )
    if orders.cancellations is not None:
        cancellations = tables.table(conn, orders.cancellations.table)
        cancel_writer = tables.writer(orders.cancellations, "cancellations")
        cancelled = tables.column(
            cancellations, required_column(cancel_writer, "order.reference", orders.cancellations.table)
        )
        query = query.where(~sa.exists(sa.select(sa.literal(1)).where(cancelled == reference)))
    pending: dict[str, Decimal] = {}
    for part in chunks(sorted(set(skus))):
        for row_sku, row_quantity in conn.execute(query.where(sku.in_(list(part)))):
            amount = to_decimal(row_quantity) or Decimal(0)
            pending[str(row_sku)] = pending.get(str(row_sku), Decimal(0)) + amount
    return pending
