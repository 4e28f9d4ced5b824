"""The area table: a tree of oblasts, cities, raions, hromadas and city districts."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class Area(Base):
    __tablename__ = "areas"

    # alerts.in.ua location UID for oblasts and cities ("31" = Kyiv city), KATOTTG code otherwise.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("areas.id"), index=True)
    katottg: Mapped[str | None] = mapped_column(String(32), index=True)
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry, WGS84
