"""The daily rollup sums the seconds to open and to the keyholder's check-in, so every owner and
district is ranked on time to open and on keyholder responsiveness from the rows already summed.

Revision ID: 0030_t_owner_times
Revises: 0020_audits

Rollups are derived state: the new sums start at 0, and `shelterwatch stats rebuild` after
upgrading fills them from the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_t_owner_times"
down_revision = "0020_audits"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("stats_daily") as batch:
        batch.add_column(sa.Column("open_s", BIGINT, nullable=False, server_default="0"))
        batch.add_column(sa.Column("check_in_s", BIGINT, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("stats_daily") as batch:
        batch.drop_column("check_in_s")
        batch.drop_column("open_s")
