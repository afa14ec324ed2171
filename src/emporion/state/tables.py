"""The state database's tables (SQLAlchemy Core metadata), the single source the migrations follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
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
    Column("fields", _json()),  # two-way flows: per field, a hash of the value both systems last agreed on
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
    Column("correlation_id", String(64)),  # the id of the delivery or request that queued the key (logs)
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

LIVE_CONFLICT = "state IN ('open', 'reverted')"  # at most one such row per record and field

conflict = Table(
    "conflict",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pair", String(255), nullable=False),  # the two connections, sorted, joined by " <> "
    Column("entity", String(100), nullable=False),
    Column("natural_key", String(255), nullable=False),
    Column("field", String(255), nullable=False),
    Column("owner", String(100), nullable=False),  # the owning connection, or "either"
    Column("policy", String(20), nullable=False),  # revert, report
    Column("values", _json(), nullable=False),  # each connection's value (may be personal data: never logged)
    Column("flow", String(100), nullable=False),  # the flow that found it last
    Column("source_key", String(255), nullable=False),  # the record's key in that flow's source
    Column("state", String(20), nullable=False),  # open, reverted, resolved, dismissed
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),  # when it was resolved or dismissed
    Column("resolved_by", String(255)),  # who dismissed it (None: resolved by a sync)
    Index(
        "uq_conflict_live",
        "pair",
        "entity",
        "natural_key",
        "field",
        unique=True,
        sqlite_where=text(LIVE_CONFLICT),
        postgresql_where=text(LIVE_CONFLICT),
    ),
    Index(None, "state", "pair", "last_seen"),
    Index(None, "resolved_at"),
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

alert = Table(
    "alert",
    metadata,
    Column("key", String(400), primary_key=True),  # Alert.key: kind, flow and subject
    Column("kind", String(50), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("flow", String(100)),
    Column("severity", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # open, resolved
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("last_sent", UTCDateTime),  # when a person was last told (None: not yet)
    Column("resolved_at", UTCDateTime),
    Column("count", Integer, nullable=False, server_default=text("1")),
    Column("message", Text, nullable=False),
    Column("details", _json()),  # the details of the last message sent
    Index(None, "last_seen"),
    Index(None, "kind", "status"),
)

reconcile_report = Table(
    "reconcile_report",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("flow", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # clean, drift, repaired, failed
    Column("repair", Boolean, nullable=False, server_default=text("false")),
    Column("counts", _json(), nullable=False),
    Column("items", _json(), nullable=False),  # drift items with their fields (see engine/reconcile.py)
    Column("error", Text),
    Index(None, "flow", "started_at"),
    Index(None, "started_at"),
)

lease = Table(
    "lease",
    metadata,
    Column("name", String(255), nullable=False),  # the job, e.g. "feed:catalogue-de"
    Column("owner", String(255), nullable=False),  # the process holding it (host:pid)
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("name"),
)

rate_budget = Table(
    "rate_budget",
    metadata,
    Column("name", String(100), nullable=False),  # the connection
    Column("rate", Float),  # tokens per second; NULL: no limit, the row only carries pauses
    Column("capacity", Float, nullable=False),  # the largest burst
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("paused_until", UTCDateTime, nullable=False),  # a 429's Retry-After, for every process
    PrimaryKeyConstraint("name"),
)

circuit = Table(
    "circuit",
    metadata,
    Column("connection", String(100), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Column("opened_count", Integer, nullable=False, server_default=text("0")),
    Column("worker", String(255)),
    Column("updated_at", UTCDateTime, nullable=False),
)

flow_control = Table(
    "flow_control",
    metadata,
    Column("flow", String(100), primary_key=True),
    Column("paused", Boolean, nullable=False, server_default=text("false")),  # feed and work loops wait
    Column("changed_by", String(255)),
    Column("changed_at", UTCDateTime, nullable=False),
)

console_user = Table(
    "console_user",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),  # viewer, operator, admin
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

console_session = Table(
    "console_session",
    metadata,
    Column("id", String(32), primary_key=True),  # a random handle, to list and revoke a session by
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the secret the signed cookie carries
    Column("user_name", String(100), nullable=False),
    Column("csrf_token", String(64), nullable=False),  # the synchronizer token bound to this login
    Column("client", String(100)),  # the address it logged in from
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("secret_hash"),
    Index(None, "user_name"),
    Index(None, "expires_at"),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("scope", String(20), nullable=False),  # read, operate, admin
    Column("prefix", String(32), nullable=False),  # the first characters, to recognise a token in lists
    Column("token_hash", String(128), nullable=False),  # SHA-256 of the token (tokens are random, long)
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    UniqueConstraint("token_hash"),
)

installation_meta = Table(
    "installation_meta",
    metadata,
    Column("name", String(100), primary_key=True),  # "installation_id": names this installation's webhooks
    Column("value", String(255), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),  # user:NAME, token:NAME, cli:USER
    Column("action", String(100), nullable=False),
    Column("target", String(400)),
    Column("outcome", String(20), nullable=False),  # ok, failed, denied
    Column("client", String(100)),  # the client address
    Column("detail", _json()),
    Index(None, "at"),
)
