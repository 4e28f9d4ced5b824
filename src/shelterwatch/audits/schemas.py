"""What inspectors, owners and operators send about audits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PhotoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(max_length=64)
    data: str = Field(description="base64 JPEG or PNG, at most 500 KB (the page downscales)",
                      max_length=700_000)


class AuditIn(BaseModel):
    """A full audit or a door quick-check: an answer per checklist item id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    shelter_id: int = Field(ge=1, le=2**31 - 1)
    tier: Literal["quick", "full"] = "full"
    answers: dict[str, str | float] = Field(
        description='item id → "pass", "fail", "na", or a measured number')
    photos: list[PhotoIn] = Field(default_factory=list, max_length=60,
                                  description="at least one for every failed item")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0,
                                     description="the GPS fix's accuracy; > 30 m is flagged")
    started_at: datetime | None = None
    campaign_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _together(self) -> AuditIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together: send both or neither")
        return self


class FixIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    photo: str = Field(description="base64 JPEG or PNG of the fix", max_length=700_000)
    note: str | None = Field(default=None, max_length=1000)


class GhostIn(BaseModel):
    """An auditor confirming residents' `missing` reports: the shelter is not there."""

    model_config = ConfigDict(extra="forbid")

    shelter_id: int = Field(ge=1, le=2**31 - 1)
    reason: Literal["does_not_exist", "used_for_something_else"]
    observation_ids: list[str] = Field(min_length=1, max_length=100,
                                       description="the residents' missing reports confirmed")
    photo: str | None = Field(default=None, max_length=700_000)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    area_id: str = Field(min_length=1, max_length=64)
    kinds: list[str] = Field(default_factory=list, description="empty: every kind")
    deadline: datetime
    groups: list[str] = Field(min_length=1, max_length=5000,
                              description="inspection groups; shelters are split among them "
                                          "district by district")
    reaudit_days: int | None = Field(default=None, ge=1, le=3650)
