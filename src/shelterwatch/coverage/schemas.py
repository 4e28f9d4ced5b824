"""The coverage figures as documented (served as bytes computed once per change)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer


class CoverageSummary(Answer):
    """Who cannot reach a usable shelter in time, per district, with the method and sources."""

    model_config = {"extra": "allow"}
    area: dict[str, Any]
    threat: str
    population_source: dict[str, Any]
    reach: dict[str, Any]
    grid: dict[str, Any]
    shelters: dict[str, Any]
    total: dict[str, Any] = Field(description="population, out_of_reach, share")
    districts: list[dict[str, Any]]


class CoverageLive(Answer):
    """During an alert: its threat, people out of reach now and because of doors shut."""

    area_id: str
    under_alert: bool
    threat: str
    warning_s: int | None
    population: float
    out_of_reach: float
    share: float | None
    newly_out_of_reach: float
    unusable_shelters: int
    recent_changes: list[dict[str, Any]]
    as_of_seq: int
    last_recompute_s: float | None
    population_source: dict[str, Any]


class CoverageComputing(Answer):
    """202: the area's figures are being built ahead of any request (at start, or after the
    registry changed); nothing is computed because a client asked."""

    area_id: str
    computing: bool
    detail: str
    retry_after_s: int
