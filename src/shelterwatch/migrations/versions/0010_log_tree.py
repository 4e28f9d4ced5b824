"""The log's Merkle tree, its signed heads and keys; the accountability rollups.

Revision ID: 0010_log_tree
Revises: 0007_linear
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_log_tree"
down_revision = "0007_linear"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("idx", BIGINT, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_merkle_nodes"),
    )
    op.create_table(
        "merkle_state",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("size", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merkle_state"),
    )
    op.create_table(
        "tree_heads",
        sa.Column("tree_size", BIGINT, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_tree_heads"),
    )
    op.create_index("ix_tree_heads_key_id", "tree_heads", ["key_id"])
    op.create_table(
        "log_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_log_keys"),
    )
    _rollups()


def _rollups() -> None:
    op.create_table(
        "stats_shelters",
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer),
        sa.PrimaryKeyConstraint("shelter_id", name="pk_stats_shelters"),
    )
    op.create_index("ix_stats_shelters_area_id", "stats_shelters", ["area_id"])
    op.create_index("ix_stats_shelters_owner_id", "stats_shelters", ["owner_id"])
    op.create_table(
        "stats_pairs",
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("open_after_s", sa.Integer),
        sa.Column("open_by", sa.String(16)),
        sa.Column("check_in_after_s", sa.Integer),
        sa.Column("full_reports", sa.Integer, nullable=False),
        sa.Column("unfit_reports", sa.Integer, nullable=False),
        sa.Column("missing_reports", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "shelter_id", name="pk_stats_pairs"),
    )
    op.create_index("ix_stats_pairs_started_at", "stats_pairs", ["started_at"])
    op.create_index("ix_stats_pairs_shelter_id_started_at", "stats_pairs",
                    ["shelter_id", "started_at"])
    op.create_index("ix_stats_pairs_owner_id_started_at", "stats_pairs",
                    ["owner_id", "started_at"])
    op.create_index("ix_stats_pairs_ended_at", "stats_pairs", ["ended_at"])
    counts = ("pairs", "open_5", "open_during", "check_ins", "full_reports", "unfit_reports",
              "missing_reports")
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer, nullable=False),
        *(sa.Column(c, sa.Integer, nullable=False) for c in counts),
        sa.Column("alert_s", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("day", "area_id", "owner_id", name="pk_stats_daily"),
    )
    op.create_table(
        "stats_open_times",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("bucket_s", sa.Integer, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("day", "area_id", "bucket_s", name="pk_stats_open_times"),
    )
    op.create_table(
        "stats_cases",
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("tracking_id", sa.String(16), nullable=False),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer),
        sa.Column("alert_id", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_notified_at", TS),
        sa.Column("patrol_dispatched_at", TS),
        sa.Column("door_open_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("resolution", sa.String(32)),
        sa.Column("evidence_kind", sa.String(40)),
        sa.PrimaryKeyConstraint("incident_id", name="pk_stats_cases"),
    )
    op.create_index("ix_stats_cases_created_at", "stats_cases", ["created_at"])
    op.create_index("ix_stats_cases_shelter_id", "stats_cases", ["shelter_id"])
    op.create_table(
        "stats_fact_subjects",
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("subject", "seq", name="pk_stats_fact_subjects"),
    )
    op.create_table(
        "stats_cursor",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stats_cursor"),
    )


ROLLUPS = ("stats_cursor", "stats_fact_subjects", "stats_cases", "stats_open_times",
           "stats_daily", "stats_pairs", "stats_shelters")


def downgrade() -> None:
    for table in (*ROLLUPS, "log_keys", "tree_heads", "merkle_state", "merkle_nodes"):
        op.drop_table(table)
