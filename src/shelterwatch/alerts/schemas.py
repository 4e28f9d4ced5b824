"""Request and answer shapes of the alert endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shelterwatch.answers import Answer
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


class AlertOut(Answer):
    """An alert as anyone may see it (also the payload of its facts)."""

    id: int
    area_id: str
    type: AlertType
    threat: Threat
    started_at: str
    ended_at: str | None
    source: str
    source_ref: str | None


class FeedOut(Answer):
    source: str
    stale: bool
    failures: int
    last_ok_at: str | None
    last_error: str | None


class ActiveAlerts(Answer):
    as_of: str
    alerts: list[AlertOut]
    feeds: list[FeedOut]
    stale: bool  # some feed has not answered for too long: the list may be missing an alert


class WarningOut(Answer):
    """Is a place under alert now, which threat, how many seconds of warning."""

    under_alert: bool
    alert_id: int | None
    area_id: str | None
    type: AlertType | None
    threat: Threat | None
    warning_s: int | None
    started_at: str | None
    alert_ids: list[int]


class AreaAlerts(Answer):
    area_id: str
    covered_by: list[str]  # the area and every area above it
    now: WarningOut
    alerts: list[AlertOut]


class CapMessageOut(Answer):
    """What importing one CAP message did."""

    identifier: str
    action: str = Field(description="started, ended or ignored")
    alert_ids: list[int]
    reason: str


class CapImported(Answer):
    messages: list[CapMessageOut]


class PushApplied(Answer):
    """What a ukrainealarm push did: applied, or why not."""

    applied: bool
    reason: str | None = None
    alert: AlertOut | None = None
