"""The state database's tables (SQLAlchemy Core metadata), the single source the migrations follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC in and out on every dialect (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC (without tzinfo on SQLite so that text order is time order)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the state store takes timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Hand back aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> Any:
    """JSON column (JSONB on PostgreSQL); Python None is SQL NULL so that COALESCE can keep old values."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

link = Table(
    "link",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("source_key", String(255), nullable=False),
    Column("target_ref", _json()),
    Column("natural_key", String(255)),
    Column("fingerprint", String(128)),
    Column("state", String(20), nullable=False, server_default="synced"),
    Column("last_error", Text),
    Column("synced_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("flow", "entity", "source_key"),
    Index(None, "flow", "entity", "natural_key"),
)

cursor = Table(
    "cursor",
    metadata,
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("flow", "entity"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("headers", _json(), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("lease_owner", String(255)),
    Column("lease_expires_at", UTCDateTime),
    UniqueConstraint("source", "delivery_id"),
    Index(None, "processed_at", "received_at"),
)

work = Table(
    "work",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("generation", Integer, nullable=False, server_default=text("1")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(255)),
    Column("lease_expires_at", UTCDateTime),
    Column("claimed_generation", Integer),  # generation when last claimed: did the key change since?
    Column("last_error", Text),
    Column("enqueued_at", UTCDateTime, nullable=False),
    UniqueConstraint("flow", "entity", "key"),
)
# claim order is priority desc, next_attempt_at asc: the index has that order so a claim reads only its rows
Index("ix_work_due", work.c.flow, work.c.entity, work.c.priority.desc(), work.c.next_attempt_at)

dead = Table(
    "dead",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", String(255)),
    Column("field", String(255)),
    Column("payload", _json()),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("failed_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False, server_default="open"),
    # at most one open dead letter per key: the upsert's conflict target
    Index(
        "uq_dead_open",
        "flow",
        "entity",
        "key",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
    Index(None, "status", "failed_at"),
)

journal = Table(
    "journal",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("action", String(20), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("before_fingerprint", String(128)),
    Column("after_fingerprint", String(128)),
    Column("target_ref", _json()),
    Column("detail", _json()),
    Index(None, "flow", "entity", "key"),
    Index(None, "at"),
)

reservation = Table(
    "reservation",
    metadata,
    Column("flow", String(100), nullable=False),
    Column("order_key", String(255), nullable=False),
    Column("sku", String(255), nullable=False),
    Column("quantity", Numeric(18, 4), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("flow", "order_key", "sku"),
    Index(None, "sku"),
)
