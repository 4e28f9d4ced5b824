"""What patrols and operators send about units and tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shelterwatch.answers import Answer
from shelterwatch.checks.schemas import CheckReceipt


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["open", "locked", "forced_open", "full", "unfit", "missing"]
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    note: str | None = Field(default=None, max_length=1000, description="kept private")
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> TaskResult:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together: send both or neither")
        return self


class UnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    available: bool | None = None


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class TaskShelter(Answer):
    id: int
    name: str
    address: str
    lat: float | None
    lon: float | None


class TaskOut(Answer):
    """A patrol task as the unit and the desk see it."""

    id: int
    kind: str = Field(description="open_locked (dispatch) or check (alert-time round)")
    shelter_id: int
    incident_id: int | None
    alert_id: int | None
    unit_id: int | None
    position: int | None
    state: str
    result: str | None
    eta_s: int | None
    created_at: str
    shelter: TaskShelter


class UnitOut(Answer):
    id: int
    name: str
    available: bool
    lat: float | None
    lon: float | None
    position_at: str | None


class NewUnit(UnitOut):
    token: str = Field(description="the unit's bearer token, shown once")


class UnitTasks(Answer):
    unit: UnitOut
    tasks: list[TaskOut]


class UnitsAndTasks(Answer):
    units: list[UnitOut]
    tasks: list[TaskOut]


class TaskDone(Answer):
    task: TaskOut
    check: CheckReceipt
