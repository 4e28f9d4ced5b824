"""`GET /v1/nearest`: where to go now, answered from memory.

This is a resident's hot path in the first minute of an alert, so it is a bare ASGI endpoint
that the app answers ahead of FastAPI's stack, and its body is joined from JSON kept per
shelter: FastAPI's per-request validation and response model, and building three GeoJSON
Features a request, each cost more than the look-up itself (see bench/nearest.py). Its contract
is still published in /docs: the schema is added to the OpenAPI document by `document`. Invalid
input gets the app's problem+json, like everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from pydantic import Field
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from shelterwatch import problems
from shelterwatch.answers import Answer, Text
from shelterwatch.clock import utcnow
from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.messages import status as wording
from shelterwatch.rules import ranking, warning
from shelterwatch.rules.readiness import UNAUDITED
from shelterwatch.shelters.index import IndexedShelter, ShelterIndex
from shelterwatch.shelters.routing import FootRouter
from shelterwatch.vocabulary import AlertType, Reason, Status, Threat
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.saturation import LoopWatch

MAX_LIMIT = 50
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
THREATS = frozenset(t.value for t in Threat)


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


def _number(params: Any, name: str, low: float, high: float) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        raise InvalidInput(f"query parameter {name!r} is required")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _flag(params: Any, name: str) -> bool:
    raw = (params.get(name) or "").lower()
    if raw not in TRUE_WORDS and raw not in FALSE_WORDS:
        raise InvalidInput(f"{name} must be true or false, got {raw!r}")
    return raw in TRUE_WORDS


def parse(params: Any) -> tuple[float, float, int, bool, str | None, bool]:
    """lat, lon, limit, step_free, threat and pack from the query string, or InvalidInput
    saying why."""
    lat = _number(params, "lat", -90, 90)
    lon = _number(params, "lon", -180, 180)
    raw_limit = params.get("limit") or "3"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}, "
                           f"got {raw_limit!r}")
    step_free = _flag(params, "step_free")
    threat = params.get("threat") or None
    if threat is not None and threat not in THREATS:
        raise InvalidInput(f"threat must be one of {', '.join(sorted(THREATS))}, got {threat!r}")
    return lat, lon, int(raw_limit), step_free, threat, _flag(params, "pack")


# What a phone holding the offline pack is told while look-ups give way (`web.saturation`):
# written once, for it is sent most when the process has least to spare.
GIVE_WAY_BODY = orjson.dumps({
    "type": "about:blank", "title": "Busy: rank your offline pack", "status": 503,
    "detail": "this server is taking residents' reports first; rank the shelters of your "
              "offline pack now, or ask again in a few seconds"})
GIVE_WAY_HEADERS = [(b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(GIVE_WAY_BODY)).encode()),
                    (b"cache-control", b"no-store"), (b"retry-after", b"5")]


def query_params(raw: bytes) -> dict[str, str]:
    """The query string's parameters, the last of a repeated name winning, as
    `dict(parse_qsl(…, keep_blank_values=True))` reads them; a phone's plain `lat=…&lon=…` is
    split without unquoting, which parse_qsl does for every pair whatever it holds."""
    text = raw.decode("latin-1")
    if "%" in text or "+" in text or ";" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    out = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            out[name] = value
    return out


class NearestEndpoint:
    """The route as a bare ASGI app: no Request, no Response object, the body written once.

    The app also calls it ahead of FastAPI's middleware stack (`app.FrontDoor`), so it renders
    its own domain errors as the app's problem+json would.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            query = query_params(scope["query_string"])
            lat, lon, limit, step_free, threat, pack = parse(query)
            nearest: Nearest = scope["app"].state.nearest
            watch = nearest.watch
            if pack and watch is not None and watch.giving_way:
                watch.given_way += 1
                await send({"type": "http.response.start", "status": 503,
                            "headers": GIVE_WAY_HEADERS})
                await send({"type": "http.response.body", "body": GIVE_WAY_BODY})
                return
            hits = nearest.candidates(lat, lon, limit=limit, step_free=step_free)
            routed = await nearest.routed(lat, lon, hits) if nearest.router is not None else None
            body = nearest.body(lat, lon, limit=limit, step_free=step_free, threat=threat,
                                routed=routed, hits=hits)
        except ShelterwatchError as exc:
            await problems.domain_problem(exc)(scope, receive, send)
            return
        except Exception as exc:  # nothing is sent before the body is whole
            await problems.internal_problem(scope["method"], scope["path"], exc)(
                scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": body})


class NearestAlert(Answer):
    """The alert in force where the nearest shelter is, and the seconds a walk is compared with."""

    id: int | None
    area_id: str | None
    type: str | None
    threat: str | None
    started_at: str | None
    warning_s: int | None


class NearestResult(Answer):
    shelter: dict[str, Any] = Field(description="a GeoJSON Feature, as in /v1/shelters/{id}")
    distance_m: float
    walk_s: float | None
    reachable_in_time: bool | None
    status: str
    why: Text


class NearestAnswer(Answer):
    """Documents the orjson answer of `/v1/nearest`; tests validate real answers with it."""

    alert: NearestAlert | None
    results: list[NearestResult]


# A plain Starlette route: FastAPI's validation and serialisation would cost more than the look-up.
route = Route("/v1/nearest", NearestEndpoint(), methods=["GET"], include_in_schema=False)

_PARAM = {"in": "query", "required": False}
OPENAPI_PATH: dict[str, Any] = {"get": {
    "tags": ["residents"],
    "summary": "The nearest shelters to go to now, best first, with why",
    "description": "Expected time to safety: the walk, plus the chance the door does not "
                   "admit times the walk on to the next door. Doors reported locked, full, "
                   "unfit or closed after every door that might admit; shelters an audit found "
                   "not ready after the ready ones (labelled). "
                   "At least three results. `reachable_in_time` compares the walk with the "
                   "active alert's warning time (null without an alert or `threat`).",
    "parameters": [
        {"name": "lat", "in": "query", "required": True,
         "schema": {"type": "number", "minimum": -90, "maximum": 90}},
        {"name": "lon", "in": "query", "required": True,
         "schema": {"type": "number", "minimum": -180, "maximum": 180}},
        {**_PARAM, "name": "limit",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 3}},
        {**_PARAM, "name": "step_free", "schema": {"type": "boolean", "default": False}},
        {**_PARAM, "name": "threat", "schema": {"type": "string", "enum": sorted(THREATS)}},
        {**_PARAM, "name": "pack", "schema": {"type": "boolean", "default": False},
         "description": "The caller holds the offline pack and ranks it itself if refused: "
                        "while the server is too busy, such a look-up gets a 503 at once "
                        "(Retry-After) so that residents' reports are not kept waiting."},
    ],
    "responses": {
        "200": {"description": '`{"alert": {…}|null, "results": [{"shelter": Feature, '
                               '"distance_m", "walk_s", "reachable_in_time", "status", '
                               '"why": {"uk", "en"}}]}`',
                "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/NearestAnswer"}}}},
        "422": {"$ref": "#/components/responses/422"},
        "431": {"$ref": "#/components/responses/431"},
        "503": {"description": "Only with `pack=true`, while the server gives way to reports: "
                               "rank the offline pack (problem+json, Retry-After)"},
    },
}}


def document(app: FastAPI) -> None:
    """Add `/v1/nearest` to the OpenAPI document the app builds."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("paths", {}).setdefault("/v1/nearest", OPENAPI_PATH)
        answer = NearestAnswer.model_json_schema(ref_template="#/components/schemas/{model}")
        models = schema.setdefault("components", {}).setdefault("schemas", {})
        models.update(answer.pop("$defs", {}))
        models["NearestAnswer"] = answer
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
