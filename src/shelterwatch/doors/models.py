"""Door controllers fitted to shelters, and what each last said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shelterwatch.db import Base


class DoorController(Base):
    __tablename__ = "door_controllers"

    shelter_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    device_id: Mapped[str] = mapped_column(String(64))
    last_state: Mapped[str | None] = mapped_column(String(16))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    silent: Mapped[bool] = mapped_column(default=False)  # flagged: stopped reporting
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
