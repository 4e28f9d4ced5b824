"""Foundation: the fact log, areas, shelters and tokens.

Revision ID: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("seq", BIGINT, primary_key=True, autoincrement=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("private", sa.Text),
        sa.Column("private_digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_facts_at", "facts", ["at"])
    op.create_index("ix_facts_kind", "facts", ["kind"])
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", BIGINT, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "areas",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(32), sa.ForeignKey("areas.id")),
        sa.Column("katottg", sa.String(32)),
        sa.Column("geometry", sa.Text),
    )
    op.create_index("ix_areas_parent_id", "areas", ["parent_id"])
    op.create_index("ix_areas_katottg", "areas", ["katottg"])
    op.create_table(
        "shelters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("area_id", sa.String(32), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("step_free", sa.Boolean),
        sa.Column("obligation", sa.String(16), nullable=False),
        sa.Column("facilities", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("owner", sa.String(300)),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("source", "source_id", name="uq_shelters_source_id"),
    )
    op.create_index("ix_shelters_area_id", "shelters", ["area_id"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("shelter_ids", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )


def downgrade() -> None:
    for table in ("tokens", "shelters", "areas", "log_head", "facts"):
        op.drop_table(table)
