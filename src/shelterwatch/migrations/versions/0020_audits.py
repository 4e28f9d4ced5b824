"""Readiness audits: audits, their photos, deficiencies, the readiness projection, campaigns.

Revision ID: 0020_audits
Revises: 0023_catalogue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_audits"
down_revision = "0023_catalogue"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("checklist_version", sa.String(32), nullable=False),
        sa.Column("rule_version", sa.String(32), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("category", sa.String(16)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("ghost_reason", sa.String(32)),
        sa.Column("closed_on_arrival", sa.Boolean, nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("gps_flagged", sa.Boolean, nullable=False),
        sa.Column("campaign_id", sa.Integer),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("started_at", TZ),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_audits_external"),
    )
    op.create_index("ix_audits_shelter_id", "audits", ["shelter_id"])
    op.create_index("ix_audits_campaign_recorded", "audits", ["campaign_id", "recorded_at"])
    op.create_table(
        "audit_photos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("audit_id", sa.Integer),
        sa.Column("deficiency_id", sa.Integer),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_audit_photos_sha256", "audit_photos", ["sha256"])
    op.create_index("ix_audit_photos_audit_id", "audit_photos", ["audit_id"])
    op.create_table(
        "deficiencies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("audit_id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("closed_at", TZ),
        sa.Column("closed_how", sa.String(16)),
        sa.Column("fix_photo", sa.String(64)),
    )
    op.create_index("ix_deficiencies_shelter_state", "deficiencies", ["shelter_id", "state"])
    op.create_table(
        "shelter_readiness",
        sa.Column("shelter_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("category", sa.String(16)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("full_seen", sa.Boolean, nullable=False),
        sa.Column("checklist_version", sa.String(32), nullable=False),
        sa.Column("rule_version", sa.String(32), nullable=False),
        sa.Column("audited_at", TZ),
        sa.Column("full_audited_at", TZ),
        sa.Column("last_audit_id", sa.Integer),
        sa.Column("ghost_reason", sa.String(32)),
        sa.Column("ghost_since", TZ),
        sa.Column("ghost_evidence", sa.Text, nullable=False),
    )
    op.create_index("ix_shelter_readiness_category", "shelter_readiness", ["category"])
    op.create_index("ix_shelter_readiness_ghost_reason", "shelter_readiness", ["ghost_reason"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("kinds", sa.Text, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("reaudit_days", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "campaign_shelters",
        sa.Column("campaign_id", sa.Integer, primary_key=True),
        sa.Column("shelter_id", sa.Integer, primary_key=True),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False),
    )
    op.create_index("ix_campaign_shelters_group", "campaign_shelters",
                    ["campaign_id", "group_name"])


def downgrade() -> None:
    for table in ("campaign_shelters", "campaigns", "shelter_readiness", "deficiencies",
                  "audit_photos", "audits"):
        op.drop_table(table)
