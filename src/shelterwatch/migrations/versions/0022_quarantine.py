"""Quarantined sources: where each resident's report came from, and the sources set aside.

Revision ID: 0022_quarantine
Revises: 0008_budgets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_quarantine"
down_revision = "0008_budgets"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.add_column("observations", sa.Column("source", sa.String(64), nullable=False,
                                            server_default=""))
    op.create_index("ix_observations_at", "observations", ["at"])
    op.create_table(
        "source_quarantines",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(64), nullable=True),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_source_quarantines"),
    )


def downgrade() -> None:
    op.drop_table("source_quarantines")
    op.drop_index("ix_observations_at", "observations")
    op.drop_column("observations", "source")
