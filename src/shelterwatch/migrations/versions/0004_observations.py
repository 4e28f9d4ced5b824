"""Observations, shelter statuses, incidents and idempotency receipts.

Revision ID: 0004_observations
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_observations"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("distance_m", sa.Float),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.Column("incident_id", sa.Integer),
        sa.Column("routed_to", sa.String(16)),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
    )
    op.create_index("ix_observations_shelter_id_at", "observations", ["shelter_id", "at"])
    op.create_index("ix_observations_incident_id", "observations", ["incident_id"])
    op.create_table(
        "shelter_statuses",
        sa.Column("shelter_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("explanation_uk", sa.Text, nullable=False),
        sa.Column("explanation_en", sa.Text, nullable=False),
        sa.Column("observation_ids", sa.Text, nullable=False),
        sa.Column("evaluated_at", TS, nullable=False),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("shelter_id", name="pk_shelter_statuses"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("tracking_id", sa.String(16), nullable=False),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("opened_by", sa.String(16), nullable=False),
        sa.Column("me_too", sa.Integer, nullable=False),
        sa.Column("last_report_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("resolution", sa.String(32)),
        sa.Column("resolved_by", sa.String(16)),
        sa.Column("time_to_open_s", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("tracking_id", name="uq_incidents_tracking_id"),
    )
    op.create_index("ix_incidents_shelter_id_resolved_at", "incidents",
                    ["shelter_id", "resolved_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_table(
        "place_reports",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_place_reports"),
    )


def downgrade() -> None:
    op.drop_table("place_reports")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_incidents_shelter_id_resolved_at", table_name="incidents")
    op.drop_table("incidents")
    op.drop_table("shelter_statuses")
    op.drop_index("ix_observations_incident_id", table_name="observations")
    op.drop_index("ix_observations_shelter_id_at", table_name="observations")
    op.drop_table("observations")
