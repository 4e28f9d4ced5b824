"""What operators get back about keyholders and owners (contacts only to operators)."""

from __future__ import annotations

from pydantic import Field

from shelterwatch.answers import Answer


class KeyholderOut(Answer):
    id: int
    name: str
    active: bool
    shelter_ids: list[int]
    email: str | None
    sms: str | None
    telegram: str | None
    webhook: str | None


class KeyholderList(Answer):
    keyholders: list[KeyholderOut]


class PersonCreated(Answer):
    id: int
    shelter_ids: list[int]


class KeyholderDeactivated(Answer):
    id: int
    active: bool


class KeyholdersImported(Answer):
    imported: dict[str, int] = Field(description="rows taken, per role and rejected")
