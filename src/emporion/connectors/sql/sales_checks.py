"""`emporion check` for the sales side: the import tables, their unique reference, the progress sources.

Each line says what is configured (tables, procedure, change modes) or what is wrong: a missing
table or column, an orders table without a unique key on the reference column (then a retried write
could not be told from a new one), a mapping that lacks a column the sales side needs.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import CheckResult, ConnectorError, Permanent
from emporion.connectors.rows.orders import required_column
from emporion.connectors.sql.checks import describe_change
from emporion.connectors.sql.database import Database, source_name, split_table
from emporion.connectors.sql.progress import FIELDS, reference_column
from emporion.connectors.sql.settings import OrderImport, SqlConnection, SqlSource, StagingTable
from emporion.connectors.sql.staging import ImportTables


async def check_sales(db: Database, settings: SqlConnection, tables: ImportTables) -> list[CheckResult]:
    """One line for the order import and one per progress source; never raises."""
    results: list[CheckResult] = []
    orders = settings.orders
    if orders is None:
        results.append(CheckResult("orders", True, "no order import configured"))
    else:
        results.append(await _guarded(db, "orders", lambda conn: _import_line(conn, db, orders, tables)))
    progress = settings.progress
    for kind in ("orders", "shipments", "invoices"):
        spec = getattr(progress, kind) if progress is not None else None
        if spec is not None:
            results.append(
                await _guarded(
                    db, f"progress.{kind}", lambda conn, s=spec, k=kind: _progress_line(conn, db, s, k)
                )
            )
    return results


async def _guarded(db: Database, name: str, work: Any) -> CheckResult:
    """Run one check in a read transaction: (ok, text) as a result line, an error as a failed one."""
    try:
        ok, text = await db.run(work, what=name)
    except ConnectorError as error:
        return CheckResult(name, False, str(error))
    return CheckResult(name, ok, text)


def _import_line(
    conn: sa.Connection, db: Database, orders: OrderImport, tables: ImportTables
) -> tuple[bool, str]:
    """The order import: what is configured, and every problem found in the database."""
    if orders.procedure:
        return True, f"orders: procedure {orders.procedure} called per order with (reference, order JSON)"
    assert orders.orders is not None
    problems: list[str] = []
    targets: list[tuple[str, StagingTable | None, list[str]]] = [
        (
            "orders",
            orders.orders,
            [orders.reference_column, orders.key_column or "", orders.taken_column or ""],
        ),
        ("lines", orders.lines, []),
        ("payments", orders.payments, []),
        ("customers", orders.customers, [orders.customer_email_column, orders.customer_key_column or ""]),
        ("cancellations", orders.cancellations, [orders.cancellation_taken_column or ""]),
        ("returns", orders.returns, []),
    ]
    needed_paths = {
        "lines": ["line.sku", "line.quantity"],
        "cancellations": ["order.reference"],
        "returns": ["order.reference", "refund.key"],
    }
    for what, target, extra in targets:
        if target is None:
            continue
        try:
            table = tables.table(conn, target.table)
        except Permanent as error:
            problems.append(error.reason)
            continue
        writer = tables.writer(target, what)
        wanted = [*target.columns, *extra, target.parent_column or ""]
        missing = sorted({name for name in wanted if name and name not in table.c})
        if missing:
            problems.append(f"{target.table} has no column {', '.join(missing)}")
        for path in needed_paths.get(what, []):
            if what == "lines" and path == "order.reference" and target.parent_column:
                continue
            try:
                required_column(writer, path, target.table)
            except Permanent as error:
                problems.append(error.reason)
        if what == "lines" and not target.parent_column and writer.column_of("order.reference") is None:
            problems.append(f"{target.table} needs parent_column or a column copying 'order.reference'")
    if not problems and not _unique(conn, db, orders.orders.table, orders.reference_column):
        problems.append(
            f"{orders.orders.table}.{orders.reference_column} has no unique key: a retried write could"
            " not be told from a new order"
        )
    parts = [f"{name} {target.table}" for name, target, _ in targets[1:] if target is not None]
    summary = f"orders: table {orders.orders.table} by {orders.reference_column}" + (
        f" ({', '.join(parts)})" if parts else ""
    )
    if problems:
        return False, f"{summary}: " + "; ".join(problems)
    return True, summary + ", one transaction per order"


def _unique(conn: sa.Connection, db: Database, name: str, column: str) -> bool:
    """Whether `column` alone is the primary key, a unique constraint or a unique index of the table."""
    table, schema = split_table(name, db.settings.schema_)
    inspector = sa.inspect(conn)
    keys: list[list[Any]] = [
        list(inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or [])
    ]
    keys += [
        list(c.get("column_names") or []) for c in inspector.get_unique_constraints(table, schema=schema)
    ]
    keys += [
        list(i.get("column_names") or [])
        for i in inspector.get_indexes(table, schema=schema)
        if i.get("unique")
    ]
    return any([str(name).casefold() for name in key] == [column.casefold()] for key in keys)


def _progress_line(conn: sa.Connection, db: Database, spec: SqlSource, kind: str) -> tuple[bool, str]:
    """A progress source: its relation and change mode, or what it lacks."""
    summary = f"progress.{kind}: {source_name(spec)}, {describe_change(spec.change)}"
    names = db.learn_columns(conn, spec)
    known = {name.casefold() for name in names}
    problems: list[str] = []
    try:
        reference_column(spec, names, kind)
    except Permanent as error:
        problems.append(error.reason)
    copied = [column for column in spec.columns.values() if isinstance(column, str)]
    wanted = [spec.key, *copied, spec.change.column or ""]
    missing = sorted({name for name in wanted if name and name.casefold() not in known})
    if missing:
        problems.append(f"no column {', '.join(missing)}")
    unmapped = [
        field for field in FIELDS[kind] if field not in spec.columns and field.casefold() not in known
    ]
    detail = f" (not given: {', '.join(unmapped)})" if unmapped else ""
    if problems:
        return False, f"{summary}: " + "; ".join(problems)
    return True, summary + detail
