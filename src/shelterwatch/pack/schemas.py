"""The offline pack as documented (it is served as stored bytes, never re-validated)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer


class Pack(Answer):
    """Every shelter with its status, the alerts in force and the area tree to walk them on."""

    format: int
    shelters: list[dict[str, Any]] = Field(description="id, position, kind, status, … per shelter")
    generated_at: str | None = None
    alerts: list[dict[str, Any]] | None = Field(default=None,
                                                description="with their warning_s")
    area_parents: dict[str, str | None] | None = None
