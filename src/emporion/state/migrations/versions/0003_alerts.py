"""Alerts: one row per alert key, so that restarts and several workers do not tell a person twice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    """Create the alert table."""
    op.create_table(
        "alert",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("last_sent", TIMESTAMP, nullable=True),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert")),
    )
    op.create_index(op.f("ix_alert_last_seen"), "alert", ["last_seen"], unique=False)
    op.create_index(op.f("ix_alert_kind_status"), "alert", ["kind", "status"], unique=False)


def downgrade() -> None:
    """Drop the alert table."""
    op.drop_index(op.f("ix_alert_kind_status"), table_name="alert")
    op.drop_index(op.f("ix_alert_last_seen"), table_name="alert")
    op.drop_table("alert")
