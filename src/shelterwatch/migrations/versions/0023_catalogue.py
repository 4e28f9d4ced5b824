"""A status keeps its reason codes, not its sentences: the catalogue words them when read.

Revision ID: 0023_catalogue
Revises: 0022_quarantine

Statuses are derived state (`shelterwatch rebuild` reproduces them), so the stored sentences are
dropped rather than translated back into codes; a rebuild after upgrading fills the reasons.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_catalogue"
down_revision = "0022_quarantine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shelter_statuses") as batch:
        batch.add_column(sa.Column("reasons", sa.Text, nullable=False, server_default="[]"))
        batch.drop_column("explanation_uk")
        batch.drop_column("explanation_en")


def downgrade() -> None:
    with op.batch_alter_table("shelter_statuses") as batch:
        batch.add_column(sa.Column("explanation_uk", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("explanation_en", sa.Text, nullable=False, server_default=""))
        batch.drop_column("reasons")
