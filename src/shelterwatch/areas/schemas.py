"""The public shape of the areas alerts are issued for."""

from __future__ import annotations

from typing import Any

from shelterwatch.answers import Answer


class AreaOut(Answer):
    id: str
    name: str
    name_en: str | None
    level: str
    parent_id: str | None
    katottg: str | None
    shelters: int  # how many shelters the registry holds in it
    geometry: dict[str, Any] | None = None  # GeoJSON, with ?geometry=true


class AreaList(Answer):
    areas: list[AreaOut]
