"""Outbox lanes: a priority per delivery and an index that claims by channel, then priority.

Revision ID: 0012_outbox_lanes
Revises: 0007_linear
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_outbox_lanes"
down_revision = "0007_linear"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `priority` (existing rows: 1, an incident's) and the lane index."""
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False,
                                   server_default="1"))
    op.create_index("ix_outbox_deliveries_lane", "outbox_deliveries",
                    ["channel", "state", "priority", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_deliveries_lane", table_name="outbox_deliveries")
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.drop_column("priority")
