"""Alerts and the health of the feeds that report them.

Revision ID: 0003_alerts
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("threat", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("source", "source_ref", name="uq_alerts_source_source_ref"),
    )
    op.create_index("ix_alerts_area_id_ended_at", "alerts", ["area_id", "ended_at"])
    op.create_index("ix_alerts_ended_at", "alerts", ["ended_at"])
    op.create_table(
        "alert_feeds",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cursor", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("source", name="pk_alert_feeds"),
    )


def downgrade() -> None:
    op.drop_table("alert_feeds")
    op.drop_index("ix_alerts_ended_at", table_name="alerts")
    op.drop_index("ix_alerts_area_id_ended_at", table_name="alerts")
    op.drop_table("alerts")
