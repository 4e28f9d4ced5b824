"""Where to go instead of a door reported locked: the best shelter the ranking offers from that
door, other than the door itself and none reported locked, unfit or closed."""

from __future__ import annotations

from typing import Any

NOT_THERE = frozenset({"locked_reported", "locked_confirmed", "unfit", "closed"})


def instead(nearest: Any, shelter_id: int) -> dict[str, Any] | None:
    """The `/v1/nearest` result to go to from this shelter's door, or None when none is near."""
    shelter = nearest.index.get(shelter_id)
    if shelter is None:
        return None
    answer = nearest.answer(shelter.lat, shelter.lon, limit=4)
    for result in answer["results"]:
        if result["shelter"]["properties"]["id"] != shelter_id and \
                str(result["status"]) not in NOT_THERE:
            found: dict[str, Any] = result
            return found
    return None
