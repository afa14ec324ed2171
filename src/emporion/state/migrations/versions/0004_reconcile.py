"""Reconciliation reports: per flow and run, the counts and the drift items found (and whether repaired).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the reconcile_report table."""
    op.create_table(
        "reconcile_report",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("repair", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_report")),
    )
    op.create_index(
        op.f("ix_reconcile_report_flow_started_at"), "reconcile_report", ["flow", "started_at"], unique=False
    )
    op.create_index(op.f("ix_reconcile_report_started_at"), "reconcile_report", ["started_at"], unique=False)


def downgrade() -> None:
    """Drop the reconcile_report table."""
    op.drop_index(op.f("ix_reconcile_report_started_at"), table_name="reconcile_report")
    op.drop_index(op.f("ix_reconcile_report_flow_started_at"), table_name="reconcile_report")
    op.drop_table("reconcile_report")
