"""Where to go instead of a door reported locked: the best shelter the ranking (the same rule as
`/v1/nearest`) offers from that door, other than the door itself and none reported locked,
unfit or closed. Plain data in and out, so the API and the worker ask it alike."""

from __future__ import annotations

from typing import Any

from shelterwatch.messages import status as wording
from shelterwatch.rules import ranking
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.vocabulary import Status

NOT_THERE = frozenset({Status.LOCKED_REPORTED, Status.LOCKED_CONFIRMED, Status.UNFIT,
                       Status.CLOSED})
POOL = 12


def instead(index: ShelterIndex, model: ranking.WalkingModel,
            shelter_id: int) -> dict[str, Any] | None:
    """A `/v1/nearest`-shaped result to go to from this shelter's door, or None if none is near."""
    shelter = index.get(shelter_id)
    if shelter is None:
        return None
    hits = [(s, d) for s, d in index.nearest(shelter.lat, shelter.lon, POOL + 1)
            if s.id != shelter_id]
    candidates = [ranking.Candidate(s.id, d, index.status_of(s.id), s.step_free, s.capacity,
                                    None, index.readiness_of(s.id))
                  for s, d in hits]
    by_id = {s.id: s for s, _ in hits}
    for best in ranking.rank(candidates, model=model, limit=len(candidates)):
        if best.status not in NOT_THERE:
            return {"shelter": by_id[best.shelter_id].feature(status=best.status),
                    "distance_m": round(best.distance_m, 1), "walk_s": best.walk_s,
                    "reachable_in_time": best.reachable_in_time, "status": best.status,
                    "why": wording.why(best.why)}
    return None
