"""Initial schema: link, cursor, inbox, work, dead, journal.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table of the state database."""
    op.create_table(
        "cursor",
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("flow", "entity", name=op.f("pk_cursor")),
    )
    op.create_table(
        "dead",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", sa.String(length=255), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead")),
    )
    op.create_index(op.f("ix_dead_status_failed_at"), "dead", ["status", "failed_at"], unique=False)
    op.create_index(
        "uq_dead_open",
        "dead",
        ["flow", "entity", "key"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("source", "delivery_id", name=op.f("uq_inbox_source_delivery_id")),
    )
    op.create_index(
        op.f("ix_inbox_processed_at_received_at"), "inbox", ["processed_at", "received_at"], unique=False
    )
    op.create_table(
        "journal",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("before_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("after_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("target_ref", JSON, nullable=True),
        sa.Column("detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    op.create_index(op.f("ix_journal_at"), "journal", ["at"], unique=False)
    op.create_index(op.f("ix_journal_flow_entity_key"), "journal", ["flow", "entity", "key"], unique=False)
    op.create_table(
        "link",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("target_ref", JSON, nullable=True),
        sa.Column("natural_key", sa.String(length=255), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=20), server_default="synced", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("synced_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
        sa.UniqueConstraint("flow", "entity", "source_key", name=op.f("uq_link_flow_entity_source_key")),
    )
    op.create_index(
        op.f("ix_link_flow_entity_natural_key"), "link", ["flow", "entity", "natural_key"], unique=False
    )
    op.create_table(
        "work",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("generation", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_generation", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("enqueued_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work")),
        sa.UniqueConstraint("flow", "entity", "key", name=op.f("uq_work_flow_entity_key")),
    )
    op.create_index(
        "ix_work_due",
        "work",
        ["flow", "entity", sa.literal_column("priority DESC"), "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop every table of the state database."""
    op.drop_index("ix_work_due", table_name="work")
    op.drop_table("work")
    op.drop_index(op.f("ix_link_flow_entity_natural_key"), table_name="link")
    op.drop_table("link")
    op.drop_index(op.f("ix_journal_flow_entity_key"), table_name="journal")
    op.drop_index(op.f("ix_journal_at"), table_name="journal")
    op.drop_table("journal")
    op.drop_index(op.f("ix_inbox_processed_at_received_at"), table_name="inbox")
    op.drop_table("inbox")
    op.drop_index(
        "uq_dead_open",
        table_name="dead",
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(op.f("ix_dead_status_failed_at"), table_name="dead")
    op.drop_table("dead")
    op.drop_table("cursor")
