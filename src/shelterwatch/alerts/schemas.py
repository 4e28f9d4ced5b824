"""Request shapes of the alert endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shelterwatch.vocabulary import AlertType, Threat


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: str = Field(min_length=1, max_length=32)
    type: AlertType = AlertType.AIR_RAID
    threat: Threat = Threat.UNKNOWN
    started_at: datetime | None = None  # default: now


class AlertEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_at: datetime | None = None  # default: now
