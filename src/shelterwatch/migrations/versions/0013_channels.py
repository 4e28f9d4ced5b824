"""Residents' channels: who follows which case or area on Telegram or SMS, push subscriptions,
and a priority for every delivery in the outbox.

Revision ID: 0013_channels
Revises: 0010_log_tree
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_channels"
down_revision = "0010_log_tree"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_outbox_deliveries_state_priority", "outbox_deliveries",
                    ["state", "priority", "next_attempt_at"])
    op.create_table(
        "channel_follows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("address_digest", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS),
        sa.UniqueConstraint("channel", "address_digest", "subject",
                            name="uq_channel_follows_key"),
    )
    op.create_index("ix_channel_follows_subject", "channel_follows", ["subject"])
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("area_id", sa.String(32)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "push_shown",
        sa.Column("subscription_id", sa.Integer, primary_key=True),
        sa.Column("shelter_id", sa.Integer, primary_key=True, index=True),
        sa.Column("shown_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("push_shown")
    op.drop_table("push_subscriptions")
    op.drop_index("ix_channel_follows_subject", table_name="channel_follows")
    op.drop_table("channel_follows")
    op.drop_index("ix_outbox_deliveries_state_priority", table_name="outbox_deliveries")
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.drop_column("priority")
