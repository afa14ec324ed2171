"""Database URLs: what people write ("sqlite:///x.db", "postgresql://...") to the async drivers we use."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def _parse(url: str | URL) -> URL:
    """Parse a URL, accepting the common "postgres://" spelling."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.get_backend_name() not in ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return parsed


def async_url(url: str | URL) -> URL:
    """The URL with the async driver of its database (aiosqlite, psycopg 3)."""
    parsed = _parse(url)
    return parsed.set(drivername=ASYNC_DRIVERS[parsed.get_backend_name()])


def sync_url(url: str | URL) -> URL:
    """The URL with a blocking driver, for tools such as the alembic command line."""
    parsed = _parse(url)
    return parsed.set(drivername=SYNC_DRIVERS[parsed.get_backend_name()])


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite database, which lives in one connection only."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
