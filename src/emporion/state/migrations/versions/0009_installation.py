"""The installation's own facts (its id, which names the webhooks it registers in the shops).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create installation_meta (the id is generated on first use)."""
    op.create_table(
        "installation_meta",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_meta")),
    )


def downgrade() -> None:
    """Drop installation_meta."""
    op.drop_table("installation_meta")
