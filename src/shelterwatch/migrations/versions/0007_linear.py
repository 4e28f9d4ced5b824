"""Join the capability branches into one line: every later migration follows this one.

Revision ID: 0007_linear
Revises: 0003_alerts, 0004_observations, 0006_escalation
"""

from __future__ import annotations

revision = "0007_linear"
down_revision = ("0003_alerts", "0004_observations", "0006_escalation")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the merge only orders what follows."""


def downgrade() -> None:
    """Nothing to undo."""
