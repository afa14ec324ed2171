"""`emporion check` for a SQL connection: connect, then validate every configured source against the database.

Per source: the query parses and only reads, the table or query runs (empty: `WHERE 1=0`) and has
every column the mapping reads, the key, the columns rows are joined by and the soft-delete
column; the change column exists and its values fit the mode (numbers or row versions for
monotonic, date-times for updated_at). Each line says which source and change mode an entity
uses, e.g. `product: table artikel, change updated_at on geaendert_am (look-back 300 s)`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import CheckResult, ConnectorError, Permanent
from emporion.connectors.rows.settings import ChangeMode, ChangeSettings
from emporion.connectors.sql.catalogue import BY_SKU, ENTITY_SOURCES, SqlCatalogue
from emporion.connectors.sql.database import Database, source_name
from emporion.connectors.sql.reading import Source, actual_column, column_of

ENTITY_OF = {role: entity for entity, role in ENTITY_SOURCES.items()} | {
    role: "product" for role in ("variants", *BY_SKU)
}
TABLE_TYPES = {
    ChangeMode.MONOTONIC: ("INT", "NUMERIC", "DECIMAL", "NUMBER", "ROWVERSION", "BINARY", "SERIAL"),
    ChangeMode.UPDATED_AT: ("TIMESTAMP", "DATETIME", "DATE"),
}


def describe_change(change: ChangeSettings) -> str:
    """A change mode in words: `change updated_at on geaendert_am (look-back 300 s)`."""
    if change.mode is ChangeMode.FULL_DIFF:
        text = "change full_diff"
    elif change.mode is ChangeMode.MONOTONIC:
        text = f"change monotonic on {change.column}" + (
            f" (overlap {change.overlap})" if change.overlap else ""
        )
    else:
        text = f"change updated_at on {change.column} (look-back {change.lookback_seconds:g} s)"
    if change.soft_delete:
        text += f", deleted when {change.soft_delete} is set"
    return text


def fits(mode: ChangeMode, value: Any, declared: str | None) -> bool:
    """Whether the change column's values (one sample, or its declared type) fit the mode."""
    if value is not None:
        if mode is ChangeMode.MONOTONIC:
            return isinstance(value, int | Decimal | bytes) and not isinstance(value, bool)
        return isinstance(value, dt.datetime | dt.date) or (isinstance(value, str) and _is_time_text(value))
    if declared is None:
        return True  # a query with no rows yet: nothing tells the type
    upper = declared.upper()
    if mode is ChangeMode.UPDATED_AT and upper.startswith("TIMESTAMP") and "MSSQL" in upper:
        return False
    return any(name in upper for name in TABLE_TYPES[mode])


def _is_time_text(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


async def check(db: Database, catalogue: SqlCatalogue) -> list[CheckResult]:
    """One line for the connection, then one per configured source; never raises."""
    try:
        await db.read(
            lambda connection: connection.execute(sa.select(sa.literal(1))).scalar(), what="connect"
        )
    except ConnectorError as error:
        return [CheckResult("connect", False, f"cannot reach the {db.where}: {error}")]
    results = [CheckResult("connect", True, f"connected to the {db.where}")]
    if not catalogue.sources:
        results.append(CheckResult("catalogue", True, "no catalogue sources configured"))
    for role, source in catalogue.sources.items():
        results.append(await _check_source(db, role, source))
    return results


async def _check_source(db: Database, role: str, source: Source) -> CheckResult:
    """The line of one source: what it is and its change mode, or what is wrong with it."""
    entity = ENTITY_OF.get(role, role)
    label = entity if ENTITY_OF.get(role) != "product" or role == "products" else f"product ({role})"
    summary = f"{label}: {source_name(source.spec)}, {describe_change(source.spec.change)}"
    try:
        problems = await db.read(
            lambda connection: _problems(db, connection, source), what=source_name(source.spec)
        )
    except ConnectorError as error:
        return CheckResult(f"catalogue.{role}", False, f"{summary}: {error}")
    if problems:
        return CheckResult(f"catalogue.{role}", False, f"{summary}: " + "; ".join(problems))
    return CheckResult(f"catalogue.{role}", True, summary)


def _problems(db: Database, connection: sa.Connection, source: Source) -> list[str]:
    """What is wrong with a source in the database (empty: nothing)."""
    names = db.learn_columns(connection, source.spec)  # runs the query empty; refuses one that writes
    problems: list[str] = []
    known = {name.casefold() for name in names}
    missing = sorted(column for column in source.mapper.columns() if column.casefold() not in known)
    if missing:
        problems.append(f"no column {', '.join(missing)}")
    change = source.spec.change
    join_field = "product" if source.role == "variants" else "sku" if source.role in BY_SKU else None
    needed = [change.soft_delete] if change.soft_delete else []
    if join_field is not None:
        try:
            needed.append(column_of(source, join_field))
        except Permanent as error:
            problems.append(error.reason)
    for column in needed:
        if column.casefold() not in known and column not in missing:
            problems.append(f"no column {column}")
    if change.mode is not ChangeMode.FULL_DIFF and change.column:
        if change.column.casefold() not in known:
            problems.append(f"no change column {change.column}")
        else:
            problems += _change_type(db, connection, source, change)
    return problems


def _change_type(
    db: Database, connection: sa.Connection, source: Source, change: ChangeSettings
) -> list[str]:
    """A complaint when the change column's values do not fit the mode."""
    column = actual_column(db, connection, source, str(change.column))
    src = db.source(source.spec, connection)
    sample = connection.execute(sa.select(sa.func.max(src.c[column]))).scalar()
    declared = db.column_types(connection, source.spec).get(column)
    if declared is not None and db.dialect_name == "mssql":
        declared = f"{declared} MSSQL"
    if fits(change.mode, sample, declared):
        return []
    wanted = "a number or row version" if change.mode is ChangeMode.MONOTONIC else "a date and time"
    shown = type(sample).__name__ if sample is not None else (declared or "unknown")
    return [f"change column {change.column} holds {shown}, but {change.mode.value} needs {wanted}"]
