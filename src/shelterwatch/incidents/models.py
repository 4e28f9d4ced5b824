"""The incident table, derived from `incident.*` facts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Incident(Base):
    """One locked-door case; `tracking_id` is the public number residents follow."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_shelter_id_resolved_at", "shelter_id", "resolved_at"),)

    # Allocated under the log lock (max + 1), so a rebuild from facts reproduces the same ids.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tracking_id: Mapped[str] = mapped_column(String(16), unique=True)
    shelter_id: Mapped[int] = mapped_column(Integer)
    area_id: Mapped[str] = mapped_column(String(32))
    alert_id: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[str] = mapped_column(String(16))  # the observation that opened it
    me_too: Mapped[int] = mapped_column(Integer, default=0)  # later `locked` reports joined
    last_report_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolved_by: Mapped[str | None] = mapped_column(String(16))  # observation id, if any
    time_to_open_s: Mapped[int | None] = mapped_column(Integer)
