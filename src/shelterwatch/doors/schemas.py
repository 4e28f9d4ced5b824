"""What an operator sends to register a shelter's door controller."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shelterwatch.answers import Answer


class DoorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    shelter_id: int = Field(ge=1)
    device_id: str = Field(min_length=1, max_length=64)


class DoorOut(Answer):
    shelter_id: int
    device_id: str


class UnlockQueued(Answer):
    delivery: int = Field(description="the outbox delivery carrying the unlock command")
    state: str
