"""The database's errors as the connector's typed errors: what to retry, what a person must fix.

Transient: a refused or lost connection, a server going away, a lock wait timeout, a deadlock, a
serialization failure, a cancelled (timed out) statement -> `Retryable`. Credentials refused ->
`AuthError`. A missing table or column, a syntax error, a refused permission, a broken constraint ->
`Permanent` naming the table or query and, where the driver tells, the column. Messages never carry
the driver's text for constraint errors (it quotes the row's values, which may be personal data).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from emporion.connectors.base import AuthError, ConnectorError, Permanent, Retryable


class DuplicateKey(Permanent):
    """A unique key refused the row: it exists already (the caller may take it as done)."""


class ConstraintViolation(Permanent):
    """A constraint other than a unique key refused the row (not null, foreign key, check)."""


# MariaDB / MySQL error numbers
_MYSQL_AUTH = {1044, 1045, 1698}
_MYSQL_PERMISSION = {1142, 1143, 1227, 1370}
_MYSQL_RETRY = {1040, 1053, 1205, 1213, 1317, 1969, 2002, 2003, 2006, 2013, 2055, 3024, 4031}
_MYSQL_DUPLICATE = {1062, 1586}
_MYSQL_BAD_VALUE = {1264, 1292, 1366, 1406, 1265, 3140}
_MYSQL_MISSING_TABLE = {1146, 1049}
_MYSQL_MISSING_COLUMN = {1054}
# PostgreSQL SQLSTATE classes and codes
_PG_RETRY_PREFIXES = ("08", "53", "57P", "40")
_PG_RETRY = {"55P03", "57014"}
_PG_AUTH = {"28000", "28P01"}

_AUTH_TEXT = re.compile(
    r"password authentication failed|FATAL:\s+role \S+ does not exist|no pg_hba\.conf entry"
    r"|login failed for user",
    re.IGNORECASE,
)
_QUOTED = r"[\"'`\[]?([\w.$]+)[\"'`\]]?"
_COLUMN_PATTERNS = (
    re.compile(r"unknown column " + _QUOTED, re.IGNORECASE),
    re.compile(r"column " + _QUOTED + r" (?:of relation \S+ )?does not exist", re.IGNORECASE),
    re.compile(r"no such column: " + _QUOTED, re.IGNORECASE),
    re.compile(r"invalid column name " + _QUOTED, re.IGNORECASE),
)
_TABLE_PATTERNS = (
    re.compile(r"table " + _QUOTED + r" doesn't exist", re.IGNORECASE),
    re.compile(r"relation " + _QUOTED + r" does not exist", re.IGNORECASE),
    re.compile(r"no such table: " + _QUOTED, re.IGNORECASE),
    re.compile(r"invalid object name " + _QUOTED, re.IGNORECASE),
)


def _mysql_code(original: Any) -> int | None:
    args = getattr(original, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _found(patterns: tuple[re.Pattern[str], ...], message: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def _first_line(error: BaseException) -> str:
    """The driver's message, first line only (the SQL it echoes follows)."""
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    raw = args[1] if len(args) > 1 and isinstance(args[0], int) else error  # pymysql: (code, message)
    text = str(raw).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def translate(error: sa.exc.SQLAlchemyError, what: str, where: str) -> ConnectorError:
    """The typed error for a failed call on `what` (a table or query) in the database `where`."""
    original = getattr(error, "orig", None) or error
    message = _first_line(original)
    code = _mysql_code(original)
    sqlstate = str(
        getattr(original, "sqlstate", None) or getattr(getattr(original, "diag", None), "sqlstate", "") or ""
    )
    column = _found(_COLUMN_PATTERNS, message)
    table = _found(_TABLE_PATTERNS, message)
    record = f"table {table}" if table else what

    if isinstance(error, sa.exc.IntegrityError) or sqlstate.startswith("23") or code in _MYSQL_DUPLICATE:
        duplicate = code in _MYSQL_DUPLICATE or sqlstate == "23505" or "unique" in message.lower()
        constraint = getattr(getattr(original, "diag", None), "constraint_name", None)
        named = f" ({constraint})" if constraint else ""
        if duplicate:
            return DuplicateKey(f"a unique key{named} refused the row: it exists already", record=what)
        return ConstraintViolation(f"a constraint{named} refused the row", record=what)
    if sqlstate.startswith("22") or code in _MYSQL_BAD_VALUE:  # the driver's text quotes the value
        return Permanent(f"a value does not fit its column in {what}", record=what, field=column)
    if code in _MYSQL_AUTH or sqlstate in _PG_AUTH or _AUTH_TEXT.search(message):
        return AuthError(f"the {where} refused the credentials ({message})")
    if code in _MYSQL_PERMISSION or sqlstate == "42501" or "permission denied" in message.lower():
        return Permanent(f"permission refused: {message}", record=record)
    if code in _MYSQL_MISSING_COLUMN or sqlstate == "42703" or (column and "column" in message.lower()):
        return Permanent(f"no such column in {record}", record=record, field=column)
    if code in _MYSQL_MISSING_TABLE or sqlstate in ("42P01", "3D000") or table:
        return Permanent(f"no such table or database: {message}", record=record)
    if code in _MYSQL_RETRY or sqlstate in _PG_RETRY or sqlstate.startswith(_PG_RETRY_PREFIXES):
        return Retryable(f"the {where} failed transiently on {what}: {message}", after=1.0)
    if "database is locked" in message or "timeout" in message.lower():
        return Retryable(f"the {where} failed transiently on {what}: {message}", after=1.0)
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return Retryable(f"lost the connection to the {where}: {message}", after=1.0)
    if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        if code is None and not sqlstate and "syntax" not in message.lower():
            return Retryable(f"the {where} is not reachable: {message}", after=1.0)
    if code == 1064 or sqlstate.startswith("42") or "syntax" in message.lower():
        return Permanent(f"the {where} refused the SQL of {what}: {message}", record=what)
    if isinstance(error, sa.exc.OperationalError):
        return Retryable(f"the {where} failed on {what}: {message}", after=1.0)
    return Permanent(f"the {where} refused {what}: {message}", record=what)
