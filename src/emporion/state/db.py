"""Engine set-up and transaction running: SQLite pragmas, BEGIN IMMEDIATE for writers, retry when busy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from emporion.state.urls import async_url, is_memory_sqlite

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
RETRY_ATTEMPTS = 8
_TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_WRITE_OPTION = "emporion_write"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite gives these the database file's mode


def _json_default(value: Any) -> Any:
    """Serialise what orjson does not know natively (Decimal money, sets)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dumps_json(value: Any) -> str:
    """Fast JSON encoding for JSON columns."""
    return orjson.dumps(value, default=_json_default).decode()


def _is_transient(exc: DBAPIError) -> bool:
    """True when the failed transaction may simply be run again.

    Busy SQLite, PostgreSQL deadlock or serialization failure, or a pooled connection found dead
    (server restart). Running an operation again is safe: writes are upserts and guarded deletes; if a
    commit was lost in flight the worst case is a duplicate journal line or a lease that runs out.
    """
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return "locked" in message or "busy" in message
    return getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


def make_private(database: Path) -> None:
    """Keep a SQLite state database private: it holds customers' e-mails, password hashes, the audit log.

    A missing folder is created 0700 and a missing database file 0600 (SQLite creates its WAL and
    shared-memory files with the database file's mode). Existing files lose any access for others;
    their group bits stay as the operator set them (a backup group, say).
    """
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, *(database.with_name(database.name + side) for side in SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o007:
                os.chmod(path, mode & 0o770)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """WAL, busy timeout and foreign keys per connection; our own BEGIN (IMMEDIATE for writers)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not BEGIN on its own
        cur = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",  # WAL + NORMAL: commits stay atomic, fsync at checkpoints
        ):
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An async engine plus the rules for running transactions on it safely under concurrency."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        memory = is_memory_sqlite(engine.url)
        # One process's SQLite writers take turns here instead of spinning on the file lock;
        # an in-memory database has a single connection, so its readers take turns too.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self._read_lock = self._write_lock if memory else None

    @classmethod
    def open(cls, url: str | URL, **engine_options: Any) -> Database:
        """Create the engine for `url` with the async driver and the pool that suits it."""
        target = async_url(url)
        options: dict[str, Any] = {"json_serializer": dumps_json, "json_deserializer": orjson.loads}
        if target.get_backend_name() == "sqlite":
            if is_memory_sqlite(target):
                options["poolclass"] = StaticPool
            elif target.database and not target.database.startswith("file:"):
                make_private(Path(target.database).expanduser())
        else:
            options.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        options.update(engine_options)
        engine = create_async_engine(target, **options)
        if target.get_backend_name() == "sqlite":
            _install_sqlite_hooks(engine)
        return cls(engine)

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one writing transaction, again from the start if the database was busy."""
        return await self._run(work, self._writer, self._write_lock)

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one reading transaction."""
        return await self._run(work, self.engine, self._read_lock)

    async def _run(
        self, work: Callable[[AsyncConnection], Awaitable[T]], engine: AsyncEngine, lock: asyncio.Lock | None
    ) -> T:
        for attempt in range(RETRY_ATTEMPTS):
            try:
                async with lock or nullcontext(), engine.begin() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == RETRY_ATTEMPTS - 1 or not _is_transient(exc):
                    raise
            await asyncio.sleep(min(0.01 * 2**attempt, 1.0) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
