"""Shared rate limits and spread limits: rate cells and source marks.

Revision ID: 0008_budgets
Revises: 0013_channels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_budgets"
down_revision = "0013_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_cells",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("tat", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_rate_cells"),
    )
    op.create_table(
        "source_marks",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "item", name="pk_source_marks"),
    )
    op.create_index("ix_source_marks_at", "source_marks", ["at"])


def downgrade() -> None:
    op.drop_index("ix_source_marks_at", "source_marks")
    op.drop_table("source_marks")
    op.drop_table("rate_cells")
