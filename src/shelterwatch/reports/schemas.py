"""What a resident may send, validated field by field so every error names its field."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shelterwatch.answers import Answer, Text
from shelterwatch.vocabulary import Status

ResidentKind = Literal["locked", "open", "full", "unfit", "missing", "refused"]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    shelter_id: int = Field(ge=1, le=2**31 - 1)
    kind: ResidentKind
    reason: str | None = Field(default=None, max_length=200,
                               description="why `unfit` (flooded, no light, …)")
    note: str | None = Field(default=None, max_length=1000, description="kept private")
    lat: float | None = Field(default=None, ge=-90, le=90, description="where you stand")
    lon: float | None = Field(default=None, ge=-180, le=180)
    device_id: str | None = Field(default=None, min_length=8, max_length=64,
                                  pattern=r"^[A-Za-z0-9_\-:.]+$",
                                  description="a random id your phone keeps; kept private")
    contact: str | None = Field(default=None, max_length=200,
                                description="phone or e-mail for follow-up; kept private")
    made_at: datetime | None = Field(
        default=None, description="when the phone made the report (one queued offline is sent "
        "later); the server keeps it no later than its arrival and no earlier than a day before")

    @model_validator(mode="after")
    def _consistent(self) -> ReportIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together: send both or neither")
        if self.kind == "unfit" and not self.reason:
            raise ValueError("reason is required when kind is unfit (e.g. 'flooded')")
        return self


class CaseBrief(Answer):
    tracking_id: str
    me_too: int  # how many more residents reported the same locked door
    state: Literal["open", "resolved"]


class ReportReceipt(Answer):
    """The 201 a resident gets once the report is committed: only what happened."""

    tracking_id: str
    shelter_id: int
    kind: str
    status: Status
    status_explanation: Text
    incident: CaseBrief | None
    routed_to: str | None  # "owner" outside an alert
    next_steps: Text
    follow: str  # where the report's timeline is


class ReportTimeline(Answer):
    """A report's public story: its shelter, its case and what happened since (no reporter)."""

    tracking_id: str
    reported_at: str
    reported_at_local: str
    kind: str
    shelter: dict[str, Any] | None = Field(description="id, name, address")
    status: dict[str, Any] | None = Field(description="the shelter's status now, with why")
    incident: dict[str, Any] | None
    routed_to: str | None
    timeline: list[dict[str, Any]]
    place: dict[str, float] | None = Field(default=None, description="for no_shelter_nearby: "
                                                                     "rounded to about 100 m")


class ReportProgress(ReportTimeline):
    """The timeline and one line per party of its case: reached, pending or nobody."""

    reach: list[dict[str, Any]]
    now: str
    zone: str
    dossier: str | None = Field(
        None, description="the case's dossier page; null without a case, or where the location "
                          "policy keeps it from the public")
