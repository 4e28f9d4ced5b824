"""How a status is recorded: the JSON of its row's columns and the payload of `status.changed`.

Written by the intake (live) and the evaluations of observations (fading, quarantines, rebuild)
alike, so a status recorded either way is the same bytes and its fact the same hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from shelterwatch.vocabulary import Reason, Role, format_at


class StatusView(Protocol):
    """A status row as read: the stored one, or the values a batch of reports is writing."""

    @property
    def shelter_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def reasons(self) -> str: ...
    @property
    def observation_ids(self) -> str: ...
    @property
    def evaluated_at(self) -> datetime: ...


def reasons_json(reasons: Sequence[Reason]) -> str:
    """Reason codes as stored in a status row (compact JSON, params in sorted order)."""
    return orjson.dumps([r.as_json() for r in reasons]).decode()


def status_fact(row: StatusView) -> dict[str, Any]:
    """A status as its `status.changed` fact records it: codes and parameters, no sentence, so
    rewording the catalogue changes no fact."""
    return {"shelter_id": row.shelter_id, "status": row.status, "confidence": row.confidence,
            "reasons": orjson.loads(row.reasons),
            "observation_ids": orjson.loads(row.observation_ids),
            "evaluated_at": format_at(row.evaluated_at)}


def is_set_aside(role: Role, source: str, aside: frozenset[str]) -> bool:
    """Whether an observation weighs nothing: a resident's, from a quarantined source. Tokens
    are not quarantined (an operator revokes a token instead)."""
    return role is Role.RESIDENT and bool(source) and source in aside
