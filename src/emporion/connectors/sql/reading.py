"""Reading one configured source's rows: by key lists, page by page, without its soft-deleted rows.

Everything here is synchronous and takes the `sa.Connection` of a running `Database.run` call, so
that one call (one transaction) can read a page of products together with their variants, prices
and stock. A key list arrives as text; a source whose column holds numbers gets numbers (and text
that is no number matches nothing), so the database compares like with like and uses its index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import Permanent
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.values import to_bool, to_text
from emporion.connectors.sql.database import Database, source_name
from emporion.connectors.sql.queries import chunks
from emporion.connectors.sql.settings import SqlSource
from emporion.rules import FieldRule

Row = dict[str, Any]


@dataclass
class Source:
    """One configured source (`products`, `stock`...) with its mapper and what was learned of its columns."""

    role: str  # the CatalogueRows field: products, variants, stock...
    spec: SqlSource
    mapper: RowMapper
    kinds: dict[str, bool] = field(default_factory=dict)  # column -> holds integers

    @property
    def name(self) -> str:
        """The source as messages name it: `table artikel` or `query SELECT ...`."""
        return source_name(self.spec)

    def where(self, key: str) -> str:
        """The record label of one row: `table artikel row 17`."""
        return f"{self.name} row {key}"


def column_of(source: Source, field_name: str) -> str:
    """The column a canonical field is copied from, to filter or group by in SQL (a rule cannot be)."""
    entry = source.spec.columns.get(field_name, field_name)
    if isinstance(entry, FieldRule):
        if entry.from_ is not None and "." not in entry.from_ and entry.map is None:
            return entry.from_
        raise Permanent(
            f"the {source.role} field {field_name} must name a column (it joins the rows), not a rule",
            record=source.name,
            field=field_name,
        )
    return entry


def actual_column(db: Database, connection: sa.Connection, source: Source, column: str) -> str:
    """The source's spelling of `column` (PostgreSQL folds names to lower case); Permanent if it has none."""
    names = db.columns_of(source.spec) or db.learn_columns(connection, source.spec)
    if column in names:
        return column
    folded = [name for name in names if name.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise Permanent(f"{source.name} has no column {column}", record=source.name, field=column)


def holds_integers(db: Database, connection: sa.Connection, source: Source, column: str) -> bool | None:
    """Whether `column` holds integers, learned from one value; None while it holds no value at all."""
    known = source.kinds.get(column)
    if known is not None:
        return known
    src = db.source(source.spec, connection)
    value = connection.execute(sa.select(src.c[column]).where(src.c[column].is_not(None)).limit(1)).scalar()
    if value is None:
        return None  # nothing can match yet; asked again next time
    source.kinds[column] = isinstance(value, int) and not isinstance(value, bool)
    return source.kinds[column]


def typed(values: Sequence[str], integers: bool) -> list[Any]:
    """Key texts as the column compares them: numbers for an integer column (other text dropped)."""
    unique = sorted(set(values))
    if not integers:
        return unique
    return sorted({int(value) for value in unique if value.strip().lstrip("-").isdigit()})


def rows_where_in(
    db: Database, connection: sa.Connection, source: Source, column: str, values: Sequence[str]
) -> list[Row]:
    """The rows whose `column` holds one of `values` (text), soft-deleted ones included, in key order."""
    if not values:
        return []
    column = actual_column(db, connection, source, column)
    key = actual_column(db, connection, source, source.spec.key)
    src = db.source(source.spec, connection)
    integers = holds_integers(db, connection, source, column)
    if integers is None:
        return []  # the column holds no value: no row can match (and no type to compare with)
    wanted = typed(values, integers)
    if not wanted:
        return []
    rows: list[Row] = []
    for part in chunks(wanted):
        statement = sa.select(src).where(src.c[column].in_(list(part))).order_by(src.c[key])
        rows += [dict(row) for row in connection.execute(statement).mappings()]
    return rows


def page_after(
    db: Database,
    connection: sa.Connection,
    source: Source,
    order: Sequence[str],
    after: Sequence[Any] | None,
    limit: int,
) -> list[Row]:
    """The next `limit` rows in the order of the `order` columns, after the position `after` (keyset)."""
    src = db.source(source.spec, connection)
    columns = [src.c[actual_column(db, connection, source, name)] for name in order]
    statement = sa.select(src)
    if after is not None:
        statement = statement.where(_after(columns, list(after)))
    statement = statement.order_by(*columns).limit(limit)
    return [dict(row) for row in connection.execute(statement).mappings()]


def _after(columns: Sequence[sa.ColumnElement[Any]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`(a, b) > (x, y)` spelled out with AND/OR, which every dialect takes (MS SQL has no row values)."""
    first, *rest = columns
    if not rest:
        return first > values[0]
    return sa.or_(first > values[0], sa.and_(first == values[0], _after(rest, values[1:])))


def value_of(row: Mapping[str, Any], column: str) -> Any:
    """The row's value of `column`, matched exactly, then ignoring case."""
    if column in row:
        return row[column]
    for name, value in row.items():
        if name.casefold() == column.casefold():
            return value
    raise KeyError(column)


def is_deleted(source: Source, row: Mapping[str, Any]) -> bool:
    """Whether the row is marked deleted by the source's soft-delete column (an unreadable mark: not)."""
    column = source.spec.change.soft_delete
    if column is None:
        return False
    try:
        return to_bool(value_of(row, column))
    except (KeyError, ValueError):
        return False


def key_text(source: Source, row: Mapping[str, Any]) -> str:
    """The row's key as text (empty when the key column is empty)."""
    try:
        return to_text(value_of(row, source.spec.key))
    except (KeyError, ValueError):
        return ""


def column_text(row: Mapping[str, Any], column: str) -> str:
    """A column's value as text, for joining rows by SKU or product key (empty when unusable)."""
    try:
        return to_text(value_of(row, column))
    except (KeyError, ValueError):
        return ""
