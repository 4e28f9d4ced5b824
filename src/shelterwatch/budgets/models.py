"""Budget rows: one cell per rate-limited key, one mark per (source, thing it touched).

They are operational state, not evidence: losing them loosens a limit for a window, it changes no
status, so they are not in the fact log and `rebuild` does not touch them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class RateCell(Base):
    """A generic cell-rate limit's theoretical arrival time for one key (epoch seconds)."""

    __tablename__ = "rate_cells"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


class SourceMark(Base):
    """That a source touched an item (a shelter, a challenge) and when it last did."""

    __tablename__ = "source_marks"
    __table_args__ = (Index("ix_source_marks_at", "at"),)

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
