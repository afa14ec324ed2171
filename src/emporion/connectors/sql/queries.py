"""The configured read queries, checked read-only with sqlglot, and the statements that page them.

A merchant may give a `SELECT` instead of a table. It is parsed in the connection's dialect and
refused unless it is exactly one statement that only reads: a SELECT (with UNION, INTERSECT,
EXCEPT and WITH), with no INSERT, UPDATE, DELETE, MERGE, DDL, GRANT, CALL/EXEC, COPY, SELECT INTO,
row locks (FOR UPDATE, LOCK IN SHARE MODE) anywhere, not even in a CTE, and no function known to
write or reach out (sequences, large objects, dblink, OPENROWSET, xp_cmdshell...). The database
user should still only be granted SELECT: this check is the second line, not the first.

The paging statements are built with SQLAlchemy over the source as subquery `src`, so identifiers
are quoted per dialect and MS SQL gets `TOP`/`OFFSET ... FETCH` and bracket quoting.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from emporion.connectors.base import Permanent

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is ours to refuse

SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mssql": "tsql",
}
READING_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
WRITING_NODES = tuple(
    node
    for node in (
        getattr(exp, name, None)
        for name in (
            "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable",
            "Grant", "Revoke", "Command", "Execute", "Copy", "Into", "Lock", "Set", "Use", "Transaction",
            "Commit", "Rollback", "Pragma", "LoadData", "Kill", "Analyze", "Cache", "Uncache", "Refresh",
        )
    )
    if isinstance(node, type)
)  # fmt: skip
WRITING_FUNCTIONS = frozenset(
    {
        "nextval", "setval", "lastval", "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_put",
        "lo_from_bytea", "dblink", "dblink_exec", "dblink_send_query", "dblink_connect", "pg_read_file",
        "pg_read_binary_file", "pg_write_file", "pg_ls_dir", "pg_terminate_backend", "pg_cancel_backend",
        "pg_advisory_lock", "pg_advisory_xact_lock", "pg_sleep", "set_config", "pg_reload_conf",
        "pg_switch_wal", "query_to_xml", "openrowset", "opendatasource", "openquery", "openxml",
        "xp_cmdshell", "sp_executesql", "load_file", "sys_exec", "sys_eval", "get_lock", "release_lock",
        "sleep", "benchmark",
    }
)  # fmt: skip
KEYS_PER_STATEMENT = 1000  # bound parameters per IN list (MS SQL takes at most 2100 per statement)


class QueryRefused(Permanent):
    """A configured query is not one read-only SELECT."""


def sqlglot_dialect(dialect: str) -> str | None:
    """sqlglot's name of a SQLAlchemy backend (None: parse as generic SQL)."""
    return SQLGLOT_DIALECTS.get(dialect)


def _function_name(node: Any) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def refusal(query: str, dialect: str) -> str | None:
    """Why `query` is not one read-only SELECT in `dialect`, or None when it is."""
    try:
        statements = [s for s in sqlglot.parse(query, read=sqlglot_dialect(dialect)) if s is not None]
    except sqlglot.errors.SqlglotError as error:
        return f"does not parse as {dialect} SQL ({str(error).splitlines()[0][:120]})"
    if len(statements) != 1:
        return f"must be exactly one statement, found {len(statements)}"
    (statement,) = statements
    if not isinstance(statement, READING_ROOTS):
        return f"must be a SELECT, not {statement.key.upper()}"
    for node in statement.walk():
        if isinstance(node, WRITING_NODES):
            kind = (
                "SELECT INTO"
                if isinstance(node, exp.Into)
                else "a row lock"
                if isinstance(node, exp.Lock)
                else node.key.upper()
            )
            return f"must only read, but contains {kind}"
        name = _function_name(node)
        if name in WRITING_FUNCTIONS:
            return f"must only read, but calls {name}()"
    return None


@functools.lru_cache(maxsize=256)
def checked_query(query: str, dialect: str, name: str) -> str:
    """`query` without a trailing `;` when it is one read-only SELECT; else QueryRefused naming `name`."""
    why = refusal(query, dialect)
    if why is not None:
        raise QueryRefused(f"the {name} is refused: it {why}", record=name)
    return query.strip().rstrip(";").strip()


def after_key(src: sa.Subquery, key: str, last: Any, limit: int) -> sa.Select[Any]:
    """The next page by keyset: rows with key greater than `last` (None: from the start), in key order."""
    statement = sa.select(src)
    if last is not None:
        statement = statement.where(src.c[key] > last)
    return statement.order_by(src.c[key]).limit(limit)


def page_at(src: sa.Subquery, key: str, offset: int, limit: int) -> sa.Select[Any]:
    """A page by position (LIMIT/OFFSET, on MS SQL OFFSET ... FETCH), in key order."""
    return sa.select(src).order_by(src.c[key]).offset(offset).limit(limit)


def with_keys(src: sa.Subquery, key: str, values: Sequence[Any]) -> sa.Select[Any]:
    """Rows whose `key` is one of `values` (at most KEYS_PER_STATEMENT), in key order."""
    return sa.select(src).where(src.c[key].in_(list(values))).order_by(src.c[key])


def chunks(values: Sequence[Any], size: int = KEYS_PER_STATEMENT) -> Iterator[Sequence[Any]]:
    """`values` in slices of at most `size`, for IN lists the server takes."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def compiled(statement: sa.ClauseElement, dialect: sa.Dialect) -> str:
    """A statement's SQL in `dialect` with literal values (for tests and `check`'s messages)."""
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
