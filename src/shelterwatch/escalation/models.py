"""Durable timers and the steps of each ladder already taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base
from shelterwatch.outbox.queue import QueueState


class Timer(Base):
    """When the worker must next look at a subject; claimed like an outbox row."""

    __tablename__ = "escalation_timers"
    __table_args__ = (
        UniqueConstraint("subject", "kind", name="uq_escalation_timers_subject_kind"),
        Index("ix_escalation_timers_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(64))  # "incident:17", "alert:5"
    kind: Mapped[str] = mapped_column(String(16))  # "incident", "rounds"
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=QueueState.PENDING.value)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))


class StepTaken(Base):
    """One rung of one incident's ladder, taken once (derivable from `escalation.step` facts)."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("incident_id", "step", name="uq_escalation_steps_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
