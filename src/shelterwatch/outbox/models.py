"""Deliveries waiting to be sent, and the record of those that never could be."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base
from shelterwatch.outbox.queue import QueueState


class Delivery(Base):
    """One message to one recipient on one channel; its unique key makes a resend impossible."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        # At most one delivery per (subject, step, recipient), whoever enqueues it and how often.
        UniqueConstraint("subject", "step", "recipient", name="uq_outbox_deliveries_key"),
        Index("ix_outbox_deliveries_state_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(64))  # "incident:17", "alert:3:shelter:88"
    step: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(96))  # "keyholder:4:email"
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(Text)  # private: never in a public response
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default=QueueState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    # Higher first: people heading to a door just reported locked, then new alerts (issue 16).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeadLetter(Base):
    """A delivery given up on, kept for the operator to see and act on by hand."""

    __tablename__ = "outbox_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(Integer, unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(96))
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
