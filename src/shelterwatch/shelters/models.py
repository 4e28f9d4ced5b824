"""The shelter table. `owner` is private: it never leaves through a public endpoint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Shelter(Base):
    __tablename__ = "shelters"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_shelters_source_id"),)

    # Allocated by the importer under the log lock, so ids follow the order facts were written.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int | None] = mapped_column(Integer)
    step_free: Mapped[bool | None] = mapped_column(Boolean)
    obligation: Mapped[str] = mapped_column(String(16))
    facilities: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of Facility
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON of public source attributes
    owner: Mapped[str | None] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))  # digest of the imported values
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
