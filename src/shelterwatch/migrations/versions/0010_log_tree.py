"""The log's Merkle tree, its signed tree heads and the keys that sign them.

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


def downgrade() -> None:
    for table in ("log_keys", "tree_heads", "merkle_state", "merkle_nodes"):
        op.drop_table(table)
