"""The accountability figures and dossiers as answered (definitions travel with the figures)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer


class StatsReport(Answer):
    """Figures for a scope, each beside the city's, with their definitions and rankings."""

    scope: dict[str, Any] = Field(description="area, owner, from, to")
    figures: dict[str, float | None]
    counts: dict[str, float]
    versus_city: dict[str, dict[str, Any]]
    definitions: dict[str, dict[str, Any]]
    case_target_s: float
    districts: list[dict[str, Any]]
    owners: list[dict[str, Any]]
    worst_owners_7_days: list[dict[str, Any]]
    monthly: list[dict[str, Any]]
    time_to_open_distribution: list[dict[str, Any]]
    rankings: dict[str, dict[str, list[dict[str, Any]]]] = Field(
        description="figure → districts/owners → ranked rows (1 = best; ties share a rank)")
    cases: list[dict[str, Any]] | None = None


class OwnerReport(StatsReport):
    shelter_ids: list[int]
    open_deficiencies: list[dict[str, Any]]


class Dossier(Answer):
    """Every public fact about a subject with its audit path to the signed tree head."""

    format: str
    subject: dict[str, Any]
    timezone: str
    generated_at: str
    sth: dict[str, Any] | None
    public_key: str | None
    facts: list[dict[str, Any]]
    not_yet_signed: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="audit and fix photos by SHA-256")
    verify_with: str
