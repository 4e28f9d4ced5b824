"""The audit endpoints' answers as documented in /docs (each built as a plain dict)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer


class Checklist(Answer):
    """The published checklist, its items, and the versioned rules that judge them."""

    version: Any
    items: list[dict[str, Any]]
    rule: dict[str, Any]
    rules: list[dict[str, Any]]
    tiers: dict[str, list[str]] = Field(description="item ids per tier: quick, full")


class AuditOut(Answer):
    """One audit as it was judged: its answers, the category and why."""

    id: int
    shelter_id: int
    tier: str
    checklist_version: Any
    rule_version: Any
    answers: dict[str, Any]
    category: str | None
    reasons: list[Any]
    ghost: str | None
    closed_on_arrival: bool | None
    gps: dict[str, Any] = Field(description="accuracy_m, flagged")
    campaign_id: int | None
    source: str | None
    started_at: str | None
    recorded_at: str
    photos: list[dict[str, Any]]
    deficiencies: list[dict[str, Any]]


class DeficiencyOut(Answer):
    id: int
    shelter_id: int
    audit_id: int | None
    item_id: str
    severity: str
    state: str
    opened_at: str
    deadline: str
    closed_at: str | None
    closed_how: str | None
    fix_photo: str | None


class Deficiencies(Answer):
    deficiencies: list[dict[str, Any]] = Field(description="open ones, overdue first")


class DeficiencyClosed(Answer):
    deficiency: DeficiencyOut
    readiness: dict[str, Any] | None


class Ghosts(Answer):
    ghosts: list[dict[str, Any]] = Field(description="shelter, reason, reason_text, since, "
                                                     "evidence")


class GhostConfirmed(Answer):
    shelter_id: int
    ghost: dict[str, Any] | None


class CampaignOut(Answer):
    id: int
    name: str
    area_id: str | None
    kinds: list[str]
    deadline: str
    reaudit_days: int
    shelters: int
    groups: dict[str, int]


class CampaignProgress(Answer):
    campaign_id: int
    districts: list[dict[str, Any]]
    days: list[dict[str, Any]]


class CampaignBacklog(Answer):
    campaign_id: int
    overdue: int
    shelters: list[dict[str, Any]]


class Worklist(Answer):
    campaign: CampaignOut
    shelters: list[dict[str, Any]]
