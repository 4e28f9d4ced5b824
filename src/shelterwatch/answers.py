"""What every documented answer shares: the shape of a response model and how a route names it.

Answers are built as plain dicts (the hot paths serialise them with orjson); a response model here
documents the answer in the OpenAPI document without FastAPI re-validating it on the way out.
Tests validate real answers against their models, so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """A documented answer: every field named (tests validate real answers with extra=forbid)."""

    model_config = ConfigDict(extra="forbid")


class Text(Answer):
    """The same words in Ukrainian and English."""

    uk: str
    en: str


def documented(model: type[BaseModel], status: int = 200, description: str = "") -> dict[str, Any]:
    """Route keyword arguments that document `model` as the answer to `status`, unvalidated."""
    answer: dict[str, Any] = {"model": model}
    if description:
        answer["description"] = description
    return {"response_model": None, "responses": {status: answer}}
