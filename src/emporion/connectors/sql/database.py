"""One Warenwirtschaft database reached through SQLAlchemy: a pooled engine, guarded calls, typed errors.

Every call into the database is a sync function over one `sa.Connection`, run in a worker thread
inside one transaction (`engine.begin()`), so the event loop never blocks. Calls pass the
connection's circuit breaker, at most `pool_size` at a time, and each statement is bounded by the
configured timeout where the dialect lets us set one (PostgreSQL `statement_timeout`, MariaDB
`max_statement_time`, MySQL `max_execution_time`, SQLite's busy timeout; on MS SQL the ODBC
login timeout only). The driver's errors become the connector's typed errors (`errors.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from emporion.connectors.base import Permanent
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.roles import RequestObserver
from emporion.connectors.settings import TLSSettings
from emporion.connectors.sql.errors import translate
from emporion.connectors.sql.settings import SqlConnection, SqlSource

T = TypeVar("T")

# a URL naming the database only gets the driver installed with emporion
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mssql": "mssql+pyodbc",
}
SOURCE_ALIAS = "src"


def engine_url(settings: SqlConnection) -> URL:
    """The SQLAlchemy URL of the connection: the default driver filled in, the password set."""
    url = make_url(settings.url)
    if url.drivername in DEFAULT_DRIVERS:
        url = url.set(drivername=DEFAULT_DRIVERS[url.drivername])
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    return url


def describe_url(url: URL) -> str:
    """Where the database is, for messages: dialect, host and database, never the user or password."""
    where = url.host or "local file"
    if url.port:
        where += f":{url.port}"
    return f"{url.get_backend_name()} database {url.database or ''} on {where}".replace("  ", " ")


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    """Driver options: connect timeout and, where the driver takes it, the statement timeout."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    seconds = max(1, int(timeout))
    if backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        return {"connect_timeout": seconds, "options": f"-c statement_timeout={int(timeout * 1000)}"}
    if backend == "mysql" and driver == "pymysql":
        return {"connect_timeout": seconds, "read_timeout": seconds + 5, "write_timeout": seconds + 5}
    if backend == "sqlite":
        return {"timeout": timeout, "check_same_thread": False}
    if backend == "mssql":
        return {"timeout": seconds}
    return {}


def tls_args(url: URL, tls: TLSSettings) -> dict[str, Any]:
    """Driver options for TLS, when the connection's `tls` is configured (else the driver's default).

    PostgreSQL: `sslmode` verify-full (verify: false -> require) with the CA bundle as `sslrootcert`;
    MariaDB/MySQL: PyMySQL's CA, certificate and host-name checks; MS SQL: ODBC `Encrypt` and
    `TrustServerCertificate`. SQLite has no connection to protect.
    """
    if not tls.model_fields_set:
        return {}
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"sslmode": "verify-full" if tls.verify else "require"} | (
            {"sslrootcert": tls.ca_bundle} if tls.ca_bundle else {}
        )
    if backend == "mysql":
        ssl: dict[str, Any] = {"verify_cert": tls.verify, "check_hostname": tls.verify}
        return {"ssl": ssl | ({"ca": tls.ca_bundle} if tls.ca_bundle else {})}
    if backend == "mssql":
        return {"Encrypt": "yes", "TrustServerCertificate": "no" if tls.verify else "yes"}
    return {}


def _session_timeout(timeout: float) -> Callable[[Any, Any], None]:
    """A pool `connect` hook setting MariaDB's or MySQL's per-statement time limit on each connection."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT VERSION()")
            (version,) = cursor.fetchone()
            if "mariadb" in str(version).lower():
                cursor.execute(f"SET SESSION max_statement_time = {float(timeout):.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(timeout * 1000)}")
        finally:
            cursor.close()

    return on_connect


def split_table(name: str, schema: str | None) -> tuple[str, str | None]:
    """`schema.table` or `table` (with the connection's schema) as (table, schema)."""
    if schema is None and "." in name:
        owner, _, table = name.rpartition(".")
        return table, owner
    return name, schema


class Database:
    """The pooled engine of one SQL connection and the one guarded way to call it."""

    def __init__(self, settings: SqlConnection, circuit: CircuitBreaker) -> None:
        self.settings = settings
        self.circuit = circuit
        self.url = engine_url(settings)
        self.where = describe_url(self.url)
        self.dialect_name = self.url.get_backend_name()
        connect_args = _connect_args(self.url, settings.timeout) | tls_args(self.url, settings.tls)
        options: dict[str, Any] = {"pool_pre_ping": True, "connect_args": connect_args}
        if self.dialect_name != "sqlite":
            options |= {"pool_size": settings.pool_size, "max_overflow": 0, "pool_timeout": settings.timeout}
        self.engine = sa.create_engine(self.url, **options)
        if self.dialect_name == "mysql":
            sa.event.listen(self.engine, "connect", _session_timeout(settings.timeout))
        self.observers: list[RequestObserver] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._columns: dict[str, list[str]] = {}

    @property
    def dialect(self) -> sa.Dialect:
        """The SQLAlchemy dialect statements are compiled for."""
        return self.engine.dialect

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every call from now on (method "SQL", status 200 or 500)."""
        self.observers.append(observer)

    async def run(
        self, work: Callable[[sa.Connection], T], *, what: str | None = None, read_only: bool = False
    ) -> T:
        """`work(connection)` in a thread inside one transaction, guarded; driver errors made typed.

        `what` names the table or query for error messages (default: the database). `read_only`
        makes the transaction refuse every write where the dialect can (PostgreSQL): the catalogue's
        reads use it, a second guard behind the query check.
        """
        async with self._slots, self.circuit.guard():
            for observer in self.observers:
                await observer.before({})
            status = 500
            try:
                result = await asyncio.to_thread(self._in_transaction, work, what, read_only)
                status = 200
                return result
            finally:
                for observer in self.observers:
                    await observer.after("SQL", status)

    async def read(self, work: Callable[[sa.Connection], T], *, what: str | None = None) -> T:
        """`run` in a read-only transaction (where the dialect has them)."""
        return await self.run(work, what=what, read_only=True)

    def _in_transaction(self, work: Callable[[sa.Connection], T], what: str | None, read_only: bool) -> T:
        """Run `work` in one transaction on a pooled connection (in the worker thread)."""
        try:
            with self.engine.begin() as connection:
                if read_only and self.dialect_name == "postgresql":
                    connection.execute(sa.text("SET TRANSACTION READ ONLY"))
                return work(connection)
        except sa.exc.SQLAlchemyError as error:
            raise translate(error, what or self.where, self.where) from None

    def source(self, spec: SqlSource, connection: sa.Connection | None = None) -> sa.Subquery:
        """The table or validated query of `spec` as subquery `src`, its columns named, to filter and page.

        The columns are learned once per source (reflection of a table, an empty run of a query);
        pass the connection of the running call the first time, or `await describe(spec)` before.
        """
        names = self._columns.get(source_id(spec))
        if names is None:
            if connection is None:
                raise Permanent(f"the columns of {source_name(spec)} are not known yet", record=self.where)
            names = self.learn_columns(connection, spec)
        return self.relation(spec, names).subquery(SOURCE_ALIAS)

    def relation(self, spec: SqlSource, names: Iterable[str]) -> sa.Select[Any]:
        """SELECT of the columns `names` from the table of `spec`, or its query with those columns."""
        columns: list[sa.ColumnClause[Any]] = [sa.column(name) for name in names]
        if spec.table is not None:
            table, schema = split_table(spec.table, self.settings.schema_)
            return sa.select(*sa.table(table, *columns, schema=schema).c)
        from emporion.connectors.sql.queries import checked_query

        text = checked_query(spec.query or "", self.dialect_name, source_name(spec))
        return sa.select(*sa.text(text).columns(*columns).subquery("q").c)

    def learn_columns(self, connection: sa.Connection, spec: SqlSource) -> list[str]:
        """The column names of the source (a table's by reflection, a query's from an empty run)."""
        if spec.table is not None:
            table, schema = split_table(spec.table, self.settings.schema_)
            try:
                described = sa.inspect(connection).get_columns(table, schema=schema)
            except sa.exc.NoSuchTableError:
                raise Permanent(
                    f"no table {spec.table} in the {self.where}", record=f"table {spec.table}"
                ) from None
            names = [str(column["name"]) for column in described]
        else:
            from emporion.connectors.sql.queries import checked_query

            text = checked_query(spec.query or "", self.dialect_name, source_name(spec))
            empty = sa.select(sa.text("*")).select_from(sa.text(f"({text}) AS q")).where(sa.false())
            names = list(connection.execute(empty).keys())
        self._columns[source_id(spec)] = names
        return names

    def column_types(self, connection: sa.Connection, spec: SqlSource) -> dict[str, str]:
        """A table's columns and their SQL types as text (empty for a query: types show in its values)."""
        if spec.table is None:
            return {}
        table, schema = split_table(spec.table, self.settings.schema_)
        described = sa.inspect(connection).get_columns(table, schema=schema)
        return {str(column["name"]): str(column["type"]) for column in described}

    async def describe(self, spec: SqlSource) -> list[str]:
        """The source's column names, learned through one call (and kept)."""
        known = self._columns.get(source_id(spec))
        if known is not None:
            return known
        return await self.read(
            lambda connection: self.learn_columns(connection, spec), what=source_name(spec)
        )

    def columns_of(self, spec: SqlSource) -> Sequence[str]:
        """The column names learned for `spec` (empty when not learned yet)."""
        return self._columns.get(source_id(spec), [])

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def source_id(spec: SqlSource) -> str:
    """What a source is known by in the column cache: its table or its query text."""
    return f"table:{spec.table}" if spec.table is not None else f"query:{spec.query}"


def source_name(spec: SqlSource) -> str:
    """A source as messages name it: `table artikel` or `query` (its first words)."""
    if spec.table is not None:
        return f"table {spec.table}"
    words = " ".join((spec.query or "").split())
    return f"query {words[:60]}…" if len(words) > 60 else f"query {words}"
