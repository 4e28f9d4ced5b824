"""Alert rows and the health of each feed that reports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Alert(Base):
    """One alert on one area, from start to end; an open alert has no `ended_at`."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_alerts_source_source_ref"),
        Index("ix_alerts_area_id_ended_at", "area_id", "ended_at"),
        Index("ix_alerts_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Not a foreign key: a feed may name an area before the registry knows it, and the alert
    # must still be kept (it covers nobody until the area exists).
    area_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    threat: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(32))
    # The source's own id for the alert, so repeats and late ends find the same row.
    source_ref: Mapped[str] = mapped_column(String(200))


class FeedHealth(Base):
    """When a feed last answered well, and what went wrong since; drives the stale flag."""

    __tablename__ = "alert_feeds"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Provider cursors: Last-Modified for alerts.in.ua, lastActionIndex for ukrainealarm.
    cursor: Mapped[str | None] = mapped_column(String(200))
