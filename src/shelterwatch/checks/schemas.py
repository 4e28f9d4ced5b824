"""What a keyholder, patrol, auditor or door controller records about a shelter."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shelterwatch.answers import Answer, Text
from shelterwatch.vocabulary import Status

CheckKind = Literal["locked", "open", "full", "unfit", "missing", "forced_open", "refused"]


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    shelter_id: int = Field(ge=1, le=2**31 - 1)
    kind: CheckKind
    reason: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000, description="kept private")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _consistent(self) -> CheckIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together: send both or neither")
        if self.kind == "unfit" and not self.reason:
            raise ValueError("reason is required when kind is unfit (e.g. 'flooded')")
        return self


class CheckCase(Answer):
    id: int
    tracking_id: str
    state: Literal["open", "resolved"]
    resolution: str | None


class CheckReceipt(Answer):
    """What a recorded check did: the shelter's status now and the case it touched."""

    id: str
    shelter_id: int
    kind: str
    status: Status
    status_explanation: Text
    action: str  # the incident rule's decision: open, join, resolve, record, …
    incident: CheckCase | None
