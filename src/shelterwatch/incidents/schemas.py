"""A locked-door case as answered: its public fields, and what the desk sees besides."""

from __future__ import annotations

from pydantic import Field

from shelterwatch.answers import Answer


class IncidentOut(Answer):
    """A case as anyone following its tracking id may see it."""

    id: int
    tracking_id: str
    shelter_id: int
    area_id: str
    alert_id: int | None
    opened_at: str
    me_too: int
    state: str = Field(description="open or resolved")
    resolved_at: str | None
    resolution: str | None
    time_to_open_s: float | None


class IncidentShelter(Answer):
    id: int
    name: str
    address: str
    lat: float
    lon: float
    owner: str | None


class DeskIncident(IncidentOut):
    shelter: IncidentShelter | None = None
    open_for_s: int | None = None


class IncidentList(Answer):
    incidents: list[DeskIncident]
