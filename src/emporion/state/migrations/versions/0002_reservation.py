"""Stock reservations of shop orders the ERP has not taken yet (available-to-promise).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the reservation table."""
    op.create_table(
        "reservation",
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("order_key", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Numeric(18, 4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow", "order_key", "sku", name=op.f("pk_reservation")),
    )
    op.create_index(op.f("ix_reservation_sku"), "reservation", ["sku"], unique=False)


def downgrade() -> None:
    """Drop the reservation table."""
    op.drop_index(op.f("ix_reservation_sku"), table_name="reservation")
    op.drop_table("reservation")
