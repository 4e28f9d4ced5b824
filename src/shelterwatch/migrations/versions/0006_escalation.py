"""Escalation: outbox, owners and keyholders, patrols and tasks, timers, door controllers.

Revision ID: 0006_escalation
Revises: 0001_foundation
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_escalation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _contact() -> list[sa.Column[Any]]:
    return [
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("sms", sa.String(32)),
        sa.Column("telegram", sa.String(64)),
        sa.Column("webhook", sa.Text),
        sa.Column("created_at", TS, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(96), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_at", TS),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("sent_at", TS),
        sa.Column("provider_ref", sa.String(200)),
        sa.UniqueConstraint("subject", "step", "recipient", name="uq_outbox_deliveries_key"),
    )
    op.create_index("ix_outbox_deliveries_state_due", "outbox_deliveries",
                    ["state", "next_attempt_at"])
    op.create_table(
        "outbox_dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(96), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table("owners", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    *_contact())
    op.create_table(
        "keyholders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_contact(),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")),
        sa.Column("token_id", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "keyholder_shelters",
        sa.Column("keyholder_id", sa.Integer, sa.ForeignKey("keyholders.id"), primary_key=True),
        sa.Column("shelter_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_keyholder_shelters_shelter_id", "keyholder_shelters", ["shelter_id"])
    op.create_table(
        "owner_shelters",
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"), primary_key=True),
        sa.Column("shelter_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_owner_shelters_shelter_id", "owner_shelters", ["shelter_id"])
    op.create_table(
        "patrol_units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_id", sa.Integer, unique=True),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("position_at", TS),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "patrol_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(96), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("shelter_id", sa.Integer, nullable=False),
        sa.Column("incident_id", sa.Integer),
        sa.Column("alert_id", sa.Integer),
        sa.Column("unit_id", sa.Integer),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("eta_s", sa.Float),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16)),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("taken_at", TS),
        sa.Column("done_at", TS),
    )
    op.create_index("ix_patrol_tasks_shelter_id", "patrol_tasks", ["shelter_id"])
    op.create_index("ix_patrol_tasks_incident_id", "patrol_tasks", ["incident_id"])
    op.create_index("ix_patrol_tasks_unit_id_state", "patrol_tasks", ["unit_id", "state"])
    op.create_table(
        "escalation_timers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", TS),
        sa.Column("claim_token", sa.String(32)),
        sa.UniqueConstraint("subject", "kind", name="uq_escalation_timers_subject_kind"),
    )
    op.create_index("ix_escalation_timers_state_due_at", "escalation_timers",
                    ["state", "due_at"])
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("incident_id", "step", name="uq_escalation_steps_key"),
    )
    op.create_table(
        "door_controllers",
        sa.Column("shelter_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("last_state", sa.String(16)),
        sa.Column("last_seen_at", TS),
        sa.Column("silent", sa.Boolean, nullable=False),
        sa.Column("registered_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("door_controllers", "escalation_steps", "escalation_timers", "patrol_tasks",
                  "patrol_units", "owner_shelters", "keyholder_shelters", "keyholders", "owners",
                  "outbox_dead_letters", "outbox_deliveries"):
        op.drop_table(table)
