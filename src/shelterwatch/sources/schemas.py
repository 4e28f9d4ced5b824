"""What the desk sees of a source and sends to quarantine it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FlaggedSource(BaseModel):
    """A source of residents' reports that looks like a flood, or is quarantined."""

    source: str = Field(description="a keyed digest of the network, never its address")
    reports: int = Field(description="residents' reports in the last hour")
    shelters: int = Field(description="different shelters those reports were about")
    reporters: int = Field(description="distinct witnesses among them (issued ids, networks)")
    reports_last_5_min: int
    first_at: str
    last_at: str
    shelter_ids: list[int]
    reasons: list[str] = Field(description="why it is shown")
    quarantined: bool


class FlaggedSources(BaseModel):
    now: str
    sources: list[FlaggedSource]


class QuarantineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=200,
                        description="kept in the private part of the fact")


class QuarantineOutcome(BaseModel):
    """What a quarantine or a release did."""

    source: str
    quarantined: bool
    shelter_ids: list[int] = Field(description="shelters whose status was derived again")
    changed: list[int] = Field(description="shelters whose status moved")
    closed_incidents: list[int] = Field(description="cases only this source reported, closed "
                                                    "as false reports")
