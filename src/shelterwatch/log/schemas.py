"""The public shape of the fact log: every field the hash chain covers, nothing private."""

from __future__ import annotations

from typing import Any

from shelterwatch.answers import Answer


class PublicFact(Answer):
    seq: int
    at: str
    kind: str
    actor: str
    payload: dict[str, Any]
    private_digest: str | None
    prev_hash: str
    hash: str


class LogPage(Answer):
    facts: list[PublicFact]
    next_after: int | None  # ask again with ?after= this, or null when there is no more
    hashing: str  # how to recompute each hash
