"""Migrations, URLs and connection set-up of the state database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from emporion.state import SchemaNotCurrent, StateStore
from emporion.state.db import Database
from emporion.state.tables import metadata
from emporion.state.urls import async_url, sync_url


def _diff(connection: object) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_the_metadata(state_url: str) -> None:
    await StateStore.migrate(state_url)
    await StateStore.migrate(state_url)  # idempotent
    database = Database.open(state_url)
    try:
        assert await database.read(lambda conn: conn.run_sync(_diff)) == []
        tables = await database.read(lambda conn: conn.run_sync(lambda c: set(inspect(c).get_table_names())))
        assert tables == {
            "link",
            "cursor",
            "inbox",
            "work",
            "dead",
            "journal",
            "reservation",
            "alert",
            "reconcile_report",
            "lease",
            "rate_budget",
            "circuit",
            "flow_control",
            "console_user",
            "console_session",
            "api_token",
            "audit_log",
            "installation_meta",
            "conflict",
            "alembic_version",
        }
    finally:
        await database.dispose()


async def test_connect_without_migrate_refuses_an_old_schema(state_url: str) -> None:
    with pytest.raises(SchemaNotCurrent, match="emporion db upgrade"):
        await StateStore.connect(state_url, migrate=False)
    await StateStore.migrate(state_url)
    store = await StateStore.connect(state_url, migrate=False)
    await store.close()


async def test_concurrent_migrations_do_not_collide(state_url: str) -> None:
    import asyncio

    stores = await asyncio.gather(*(StateStore.connect(state_url, migrate=True) for _ in range(3)))
    for store in stores:
        await store.close()


async def test_sqlite_connections_use_wal_and_a_busy_timeout(sqlite_url: str) -> None:
    store = await StateStore.connect(sqlite_url)
    assert store.dialect == "sqlite"
    database = Database.open(sqlite_url)
    try:
        pragmas = await database.read(
            lambda conn: _pragmas(conn, ["journal_mode", "busy_timeout", "foreign_keys"])
        )
        assert pragmas == ["wal", 30000, 1]
    finally:
        await database.dispose()
        await store.close()


async def _pragmas(conn: object, names: list[str]) -> list[object]:
    return [(await conn.execute(text(f"PRAGMA {name}"))).scalar() for name in names]  # type: ignore[attr-defined]


async def test_in_memory_sqlite_works_for_tests() -> None:
    store = await StateStore.connect("sqlite://")
    await store.enqueue("f", "e", ["a"], cursor="1")
    assert [i.key for i in await store.claim("f", "e", worker="w", limit=5)] == ["a"]
    assert await store.get_cursor("f", "e") == "1"
    await store.close()


async def test_postgresql_store_reports_its_dialect(pg_url: str) -> None:
    store = await StateStore.connect(pg_url)
    assert store.dialect == "postgresql"
    await store.close()


def test_urls_get_async_and_sync_drivers(tmp_path: Path) -> None:
    assert str(async_url(f"sqlite:///{tmp_path}/x.db")).startswith("sqlite+aiosqlite:///")
    assert async_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert sync_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert sync_url("sqlite:///x.db").drivername == "sqlite+pysqlite"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")
