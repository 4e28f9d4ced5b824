"""The public shapes of shelters: GeoJSON Features with the public properties only."""

from __future__ import annotations

from typing import Any, Literal

from shelterwatch.answers import Answer, Text
from shelterwatch.vocabulary import Status


class Point(Answer):
    type: Literal["Point"]
    coordinates: list[float]  # longitude, latitude (WGS84)


class ShelterCard(Answer):
    """What the registry publishes beyond its columns, where it does (each may be absent)."""

    pets_allowed: Literal["yes", "no"] | None = None
    entrances: str | None = None
    sign_phone: str | None = None  # the owner's number on the door sign; never a keyholder's
    registry_date: str | None = None  # the day the registry's data is from (YYYY-MM-DD)


class ShelterProperties(Answer):
    """What anyone may read of a shelter; owner and keyholders are never here."""

    id: int
    name: str
    address: str
    kind: str
    capacity: int | None
    step_free: bool | None
    obligation: str
    facilities: list[str]
    area_id: str
    source: str
    card: ShelterCard
    status: Status
    status_explanation: Text | None = None  # on the one-shelter answer
    readiness: Readiness | None = None  # what the last audits found (issue 12)
    ghost: bool | None = None  # an audit found no shelter there (the card only)


class ReadinessReason(Answer):
    item_id: str
    severity: str
    uk: str
    en: str


class Readiness(Answer):
    """`category` ready / limited / not_ready, or null when never audited, with its reasons."""

    category: Literal["ready", "limited", "not_ready"] | None
    reasons: list[ReadinessReason]
    audited_at: str | None
    rule_version: str | None = None
    checklist_version: str | None = None


class ShelterFeature(Answer):
    type: Literal["Feature"]
    id: int
    geometry: Point
    properties: ShelterProperties


class ShelterPage(Answer):
    """A page of shelters; follow `next_cursor` (null on the last page)."""

    type: Literal["FeatureCollection"]
    features: list[ShelterFeature]
    next_cursor: str | None


class RegistryFeature(Answer):
    """A shelter with its private fields (owner, source id, the registry's details)."""

    type: Literal["Feature"]
    id: int
    geometry: Point
    properties: dict[str, Any]
