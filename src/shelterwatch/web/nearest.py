"""Where to go now: the nearest shelters' answer, made from memory.

Asked on every `/v1/nearest` request (`web.nearest_route`) and by the residents' channels
(Telegram, SMS), so its body is joined from JSON kept per shelter: building three GeoJSON
Features a request, and working out a dozen shelters' facts, each cost as much as the index
query itself (see bench/nearest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from shelterwatch.clock import utcnow
from shelterwatch.messages import status as wording
from shelterwatch.rules import ranking, warning
from shelterwatch.rules.readiness import UNAUDITED
from shelterwatch.shelters.index import IndexedShelter, ShelterIndex
from shelterwatch.shelters.routing import FootRouter
from shelterwatch.vocabulary import AlertType, Reason, Status, Threat
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.saturation import LoopWatch


class Nearest:
    """Everything `/v1/nearest` needs, loaded once per process and kept current by the log."""

    def __init__(self, index: ShelterIndex, board: AlertBoard, model: ranking.WalkingModel, *,
                 pool: int = 12, router: FootRouter | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.index = index
        self.board = board
        self.model = model
        self.pool = pool
        self.router = router
        self.clock = clock
        self.kept = KeptShelters(index)
        self.watch: LoopWatch | None = None  # set by the app: whether look-ups give way

    def warning_s(self, area_id: str | None,
                  threat: str | None) -> tuple[warning.AlertWarning, int | None]:
        """The alert in force here and the seconds to compare walks against.

        A `threat` named by the caller (the resident heard "ballistic") sets the seconds even
        when no alert is recorded yet; otherwise the covering alert's warning time does.
        """
        # The clock is read only when an alert or a threat makes time matter.
        now = self.clock() if threat is not None or self.board.has_active() else None
        verdict = (self.board.warning_at(area_id, now) if now is not None
                   else warning.AlertWarning.calm())
        if threat is None or now is None:
            return verdict, verdict.warning_s
        chain = self.board.chain(area_id) if area_id else ()
        typed = warning.ActiveAlert(id=0, area_id=chain[0] if chain else "",
                                    type=verdict.type or AlertType.AIR_RAID,
                                    threat=Threat(threat), started_at=now)
        return verdict, warning.seconds_for(typed, chain, self.board.config)

    def alert_at(self, lat: float, lon: float,
                 threat: str | None = None) -> dict[str, Any] | None:
        """The alert in force where the nearest shelter is, as `body` would say it.

        A phone sent to its offline pack still needs it: ranked without it, its page would
        have no warning time and could claim calm. One shelter from the index, and only while
        an alert is on the board.
        """
        if not self.board.has_active():
            return None
        hit = self.index.nearest(lat, lon, 1)
        verdict, seconds = self.warning_s(hit[0][0].area_id if hit else None, threat)
        return alert_json(verdict, seconds)

    def answer(self, lat: float, lon: float, *, limit: int = 3, step_free: bool = False,
               threat: str | None = None,
               routed: list[float | None] | None = None,
               hits: list[tuple[IndexedShelter, float]] | None = None) -> dict[str, Any]:
        """The response body for one resident at (lat, lon), as a dict (SMS, Telegram)."""
        return self._body(lat, lon, limit=limit, step_free=step_free, threat=threat,
                          routed=routed, hits=hits, feature=_plain_feature, why=wording.why)

    def body(self, lat: float, lon: float, *, limit: int = 3, step_free: bool = False,
             threat: str | None = None,
             routed: list[float | None] | None = None,
             hits: list[tuple[IndexedShelter, float]] | None = None) -> bytes:
        """The same answer as JSON bytes, for the HTTP route.

        Each shelter's Feature and each distinct set of reasons are serialised once and kept
        (`KeptShelters`, `_why_json`); only the per-resident numbers are written per request.
        Building and encoding three Features cost as much as the index query itself.
        """
        return orjson.dumps(self._body(lat, lon, limit=limit, step_free=step_free,
                                       threat=threat, routed=routed, hits=hits,
                                       feature=_encoded_feature, why=_why_json))

    def _body(self, lat: float, lon: float, *, limit: int, step_free: bool,
              threat: str | None, routed: list[float | None] | None,
              hits: list[tuple[IndexedShelter, float]] | None,
              feature: Callable[[Kept], Any],
              why: Callable[[tuple[Reason, ...]], Any]) -> dict[str, Any]:
        if hits is None:
            hits = self.candidates(lat, lon, limit=limit, step_free=step_free)
        verdict, seconds = self.warning_s(hits[0][0].area_id if hits else None, threat)
        facts, distances = self.kept.entries(hits)
        walks = None
        if routed is not None:
            speed = (self.model.reduced_mobility_speed_mps if step_free
                     else self.model.speed_mps)
            walks = [None if w is None else w / speed for w in routed]
        ranked = ranking.rank_facts(facts, distances, walks, model=self.model, limit=limit,
                                    step_free=step_free, warning_s=seconds)
        kept = self.kept
        results = [{
            # orjson writes the StrEnum as its value; no .value look-ups on the hot path.
            "shelter": feature(kept[r.shelter_id]),
            "distance_m": round(r.distance_m, 1),
            "walk_s": r.walk_s,
            "reachable_in_time": r.reachable_in_time,
            "status": r.status,
            "why": why(r.why),
        } for r in ranked]
        return {"alert": alert_json(verdict, seconds) if verdict.under_alert else None,
                "results": results}

    def candidates(self, lat: float, lon: float, *, limit: int,
                   step_free: bool) -> list[tuple[IndexedShelter, float]]:
        """The nearest shelters by distance that the ranking chooses among."""
        pool = max(self.pool, limit * 2)
        if step_free:
            pool *= 3  # most basements have stairs; look further for step-free doors
        return self.index.nearest(lat, lon, pool)

    async def routed(self, lat: float, lon: float,
                     hits: list[tuple[IndexedShelter, float]]) -> list[float | None] | None:
        """Walking distances from the foot router, or None (then the estimate is used)."""
        if self.router is None or not hits:
            return None
        return await self.router.distances((lat, lon), [(s.lat, s.lon) for s, _ in hits])


def _plain_feature(kept: Kept) -> dict[str, Any]:
    return kept.shelter.feature(status=kept.facts.status, readiness=kept.readiness or UNAUDITED)


def _encoded_feature(kept: Kept) -> orjson.Fragment:
    return kept.feature


class Kept(NamedTuple):
    """One shelter as `/v1/nearest` answers with it: the ranking's facts and its public Feature
    as JSON, for the shelter, status and readiness they were made from."""

    shelter: IndexedShelter
    status: Status | str  # as the status board holds it: identity tells a change
    readiness: Mapping[str, Any] | None
    facts: ranking.Facts
    feature: orjson.Fragment


class KeptShelters:
    """Each shelter's `Kept` entry, made when a look-up first meets it after a change.

    The index swaps in a new `IndexedShelter` when the registry changes, the status board a new
    status, the audits a new readiness mapping, so an identity check tells whether an entry
    still holds; a look-up then costs three dictionary reads per shelter instead of working out
    a dozen shelters' facts and Features. At most one entry per shelter in the registry,
    whatever the crowd.
    """

    def __init__(self, index: ShelterIndex) -> None:
        self.index = index
        self._entries: dict[int, Kept] = {}

    def entries(self, hits: list[tuple[IndexedShelter, float]]
                ) -> tuple[list[ranking.Facts], list[float]]:
        """The ranking's facts and the distances of `hits`, their entries made where needed."""
        kept = self._entries.get
        status = self.index.statuses.get
        ready = self.index.readiness.get
        unknown = Status.UNKNOWN
        facts, distances = [], []
        for shelter, distance in hits:
            sid = shelter.id
            entry = kept(sid)
            current, readiness = status(sid, unknown), ready(sid)
            if (entry is None or entry.shelter is not shelter or entry.status is not current
                    or entry.readiness is not readiness):
                entry = self._make(shelter, current, readiness)
            facts.append(entry.facts)
            distances.append(distance)
        return facts, distances

    def __getitem__(self, shelter_id: int) -> Kept:
        """The entry `entries` last made or found for this shelter."""
        return self._entries[shelter_id]

    def _make(self, shelter: IndexedShelter, status: Status | str,
              readiness: Mapping[str, Any] | None) -> Kept:
        facts = ranking.facts(shelter.id, status, step_free=shelter.step_free,
                              capacity=shelter.capacity, readiness=readiness)
        feature = orjson.Fragment(orjson.dumps(shelter.feature(
            status=facts.status, readiness=readiness or UNAUDITED)))
        entry = Kept(shelter, status, readiness, facts, feature)
        self._entries[shelter.id] = entry
        return entry


@lru_cache(maxsize=16_384)
def _why_bytes(reasons: tuple[Reason, ...]) -> orjson.Fragment:
    # Few distinct values (a status, whole minutes, a capacity): see `wording.why`.
    return orjson.Fragment(orjson.dumps(wording.why(reasons)))


_WHY_SEEN: dict[int, tuple[tuple[Reason, ...], orjson.Fragment]] = {}


def _why_json(reasons: tuple[Reason, ...]) -> orjson.Fragment:
    # The ranking hands out the same tuple for the same reasons, so it is found by identity
    # before hashing its Reasons (a Python-level hash each). The entry holds the tuple, so its
    # id is not reused while it is kept; cleared, not grown, past the value cache's size.
    seen = _WHY_SEEN.get(id(reasons))
    if seen is not None and seen[0] is reasons:
        return seen[1]
    if len(_WHY_SEEN) >= 16_384:
        _WHY_SEEN.clear()
    encoded = _why_bytes(reasons)
    _WHY_SEEN[id(reasons)] = (reasons, encoded)
    return encoded


def alert_json(verdict: warning.AlertWarning, seconds: int | None) -> dict[str, Any] | None:
    if not verdict.under_alert:
        return None
    return {
        "id": verdict.alert_id, "area_id": verdict.area_id,
        "type": verdict.type.value if verdict.type else None,
        "threat": verdict.threat.value if verdict.threat else None,
        "started_at": verdict.started_at.isoformat() if verdict.started_at else None,
        "warning_s": seconds,
    }
