"""What the operator board and the tracking page are answered with."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer
from shelterwatch.incidents.schemas import IncidentOut
from shelterwatch.patrols.schemas import TaskOut, UnitOut


class BoardIncident(IncidentOut):
    address: str
    open_for_s: int
    ladder: list[dict[str, Any]] = Field(description="step, due_at, taken_at per rung")
    reach: list[dict[str, Any]] = Field(description="who was reached on each rung, and how")


class BoardDoor(Answer):
    shelter_id: int
    state: str | None
    silent: bool
    last_seen_at: str | None


class Unreachable(Answer):
    shelter_id: int
    address: str
    budget_s: float


class Console(Answer):
    """Everything the operator board shows."""

    now: str
    zone: str
    alerts: list[dict[str, Any]] = Field(
        description="active alerts with their area's name (area_name, area_name_en)")
    incidents: list[BoardIncident]
    units: list[UnitOut]
    tasks: list[TaskOut]
    doors: list[BoardDoor]
    dead_letters: int
    unreachable: list[Unreachable]


class OwnerStanding(Answer):
    id: int
    name: str
    shelter_ids: list[int]
    reports_against: int
    incidents: int


class OwnerStandings(Answer):
    owners: list[OwnerStanding]
