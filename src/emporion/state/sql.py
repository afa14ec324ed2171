"""Small dialect helpers shared by the statement modules: upsert constructors, LEAST/GREATEST, chunking."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Dialect, Table, bindparam, column, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeEngine

from emporion.state.db import dumps_json

T = TypeVar("T")

CHUNK = 1000  # rows or bound values per statement: well under SQLite's and PostgreSQL's limits


def insert(dialect: str, table: Table) -> Any:
    """INSERT that knows ON CONFLICT on both dialects (the duplicate guarantee, never check-then-insert)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def least(dialect: str, a: Any, b: Any) -> ColumnElement[Any]:
    """The smaller of two values (SQLite spells LEAST as the two-argument MIN)."""
    return func.least(a, b) if dialect == "postgresql" else func.min(a, b)


def greatest(dialect: str, a: Any, b: Any) -> ColumnElement[Any]:
    """The larger of two values (SQLite spells GREATEST as the two-argument MAX)."""
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
Columns = Sequence[tuple[str, TypeEngine[Any]]]


def row_values(dialect: str, columns: Columns) -> dict[str, ColumnElement[Any]]:
    """Per-row value expressions of a batch statement.

    SQLite: bind parameters, the batch runs as one executemany. PostgreSQL: the columns of
    `unnest(array, array, ...)`, so that the whole batch is one statement with one array per column.
    """
    if dialect == "postgresql":
        arrays = [bindparam(name, type_=postgresql.ARRAY(type_)) for name, type_ in columns]
        rows = func.unnest(*arrays).table_valued(*(column(name) for name, _ in columns)).render_derived()
        return {name: rows.c[name] for name, _ in columns}
    return {name: bindparam(name, type_=type_) for name, type_ in columns}


def insert_rows(dialect: str, table: Table, columns: Columns) -> Any:
    """INSERT of a batch of rows (see row_values), ready for ON CONFLICT."""
    values = row_values(dialect, columns)
    statement = insert(dialect, table)
    if dialect == "postgresql":
        return statement.from_select(list(values), select(*values.values()))
    return statement.values(values)


class BatchStatement:
    """A Core statement compiled once per dialect and sent straight to the driver with plain tuples.

    The hot paths (enqueue, claim, finish, links, journal) skip SQLAlchemy's per-row parameter
    processing, so the values must already be in the driver's form (see `Values`). `run` sends a
    batch: executemany on SQLite, one statement with column arrays on PostgreSQL (see row_values).
    """

    def __init__(self, build: Callable[[str], Any], columns: Columns) -> None:
        self._build = build
        self._names = tuple(name for name, _ in columns)
        self._compiled: dict[str, tuple[str, tuple[int, ...] | None, dict[str, Any]]] = {}
        self._binary: dict[str, str] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[int, ...] | None, dict[str, Any]]:
        """SQL text, positional order of the values (None: named) and constants the compiler added."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._build(dialect.name).compile(dialect=dialect)
            extra = {k: v for k, v in compiled.params.items() if k not in self._names}  # e.g. OFFSET 0
            names = self._names + tuple(extra)
            order = tuple(names.index(name) for name in compiled.positiontup) if compiled.positional else None
            found = self._compiled[dialect.name] = (compiled.string, order, extra)
        return found

    def _params(self, dialect: Dialect, rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
        sql, order, extra = self._for(dialect)
        names = self._names + tuple(extra)
        if extra:
            constants = tuple(extra.values())
            rows = [row + constants for row in rows]
        if order is None:
            return sql, [dict(zip(names, row, strict=True)) for row in rows]
        if order == tuple(range(len(names))):
            return sql, list(rows)
        return sql, [tuple(row[i] for i in order) for row in rows]

    def _binary_sql(self, dialect: Dialect) -> str:
        """PostgreSQL text with binary placeholders: psycopg then sends arrays without text escaping."""
        found = self._binary.get(dialect.name)
        if found is None:
            found = self._binary[dialect.name] = _PLACEHOLDER.sub(r"%(\1)b", self._for(dialect)[0])
        return found

    async def fetch(self, conn: AsyncConnection, row: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Execute once with one row of values and return the raw result rows (RETURNING, SELECT)."""
        sql, [params] = self._params(conn.dialect, [row])
        return [tuple(r) for r in await conn.exec_driver_sql(sql, params)]

    async def run(self, conn: AsyncConnection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Execute for a batch of rows (values in `columns` order), in chunks."""
        for part in chunks(rows):
            if conn.dialect.name == "postgresql":
                sql = self._binary_sql(conn.dialect)
                arrays = dict(zip(self._names, (list(col) for col in zip(*part, strict=True)), strict=True))
                await conn.exec_driver_sql(sql, arrays)
            else:
                sql, params = self._params(conn.dialect, part)
                await conn.exec_driver_sql(sql, params)


class Values:
    """Converts Python values to what a dialect's driver stores (the work TypeDecorators do elsewhere)."""

    def __init__(self, dialect: str) -> None:
        self._sqlite = dialect == "sqlite"

    def time(self, value: datetime | None) -> Any:
        """Aware datetime -> UTC (naive text on SQLite, in SQLAlchemy's storage format)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the state store takes timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else value

    @staticmethod
    def json(value: Any) -> str | None:
        """JSON text, None staying SQL NULL."""
        return None if value is None else dumps_json(value)
