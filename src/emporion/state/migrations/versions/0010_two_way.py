"""Two-way flows: per-field baselines on links, and the conflicts found on fields both systems edit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
LIVE = sa.text("state IN ('open', 'reverted')")


def upgrade() -> None:
    """Add link.fields; create the conflict table with at most one live row per record and field."""
    with op.batch_alter_table("link") as batch:
        batch.add_column(sa.Column("fields", JSON, nullable=True))
    op.create_table(
        "conflict",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pair", sa.String(length=255), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("natural_key", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("policy", sa.String(length=20), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict")),
    )
    op.create_index(
        "uq_conflict_live",
        "conflict",
        ["pair", "entity", "natural_key", "field"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_index(
        op.f("ix_conflict_state_pair_last_seen"), "conflict", ["state", "pair", "last_seen"], unique=False
    )
    op.create_index(op.f("ix_conflict_resolved_at"), "conflict", ["resolved_at"], unique=False)


def downgrade() -> None:
    """Drop the conflict table and link.fields."""
    op.drop_index(op.f("ix_conflict_resolved_at"), table_name="conflict")
    op.drop_index(op.f("ix_conflict_state_pair_last_seen"), table_name="conflict")
    op.drop_index("uq_conflict_live", table_name="conflict", sqlite_where=LIVE, postgresql_where=LIVE)
    op.drop_table("conflict")
    with op.batch_alter_table("link") as batch:
        batch.drop_column("fields")
