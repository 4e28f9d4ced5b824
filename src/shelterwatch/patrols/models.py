"""Patrol units and their tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class PatrolUnit(Base):
    __tablename__ = "patrol_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    available: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Task(Base):
    """Work for a unit: `open_locked` for an incident, or one stop of a `check` round."""

    __tablename__ = "patrol_tasks"
    __table_args__ = (Index("ix_patrol_tasks_unit_id_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "incident:17:open_locked" or "alert:5:check:88": one task per purpose, however often asked.
    key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    shelter_id: Mapped[int] = mapped_column(Integer, index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within a round
    eta_s: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="open")
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
