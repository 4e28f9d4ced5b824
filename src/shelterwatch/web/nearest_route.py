"""`GET /v1/nearest` over HTTP: the query, the bare ASGI endpoint and its published contract.

This is a resident's hot path in the first minute of an alert, so it is a bare ASGI endpoint
that the app answers ahead of FastAPI's stack (`app.App`): FastAPI's per-request validation and
response model cost more than the look-up itself (see bench/nearest.py). Its contract is still
published in /docs: the schema is added to the OpenAPI document by `document`. Invalid input gets
the app's problem+json, like everywhere else. The answer itself is `web.nearest`'s.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from pydantic import Field
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from shelterwatch import problems
from shelterwatch.answers import Answer, Text
from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.vocabulary import Threat
from shelterwatch.web.nearest import Nearest

MAX_LIMIT = 50
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
THREATS = frozenset(t.value for t in Threat)


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


# What a phone holding the offline pack is told while look-ups give way (`web.saturation`),
# with the alert in force where it is so that its page ranks the pack against the warning time
# instead of claiming calm. Calm, the body is the same for everyone, so it is written once: it
# is sent most when the process has least to spare.
GIVE_WAY_PROBLEM = {
    "type": "about:blank", "title": "Busy: rank your offline pack", "status": 503,
    "detail": "this server is taking residents' reports first; rank the shelters of your "
              "offline pack now, or ask again in a few seconds"}
GIVE_WAY_CALM = orjson.dumps({**GIVE_WAY_PROBLEM, "alert": None})


def give_way_body(alert: dict[str, Any] | None) -> bytes:
    return GIVE_WAY_CALM if alert is None else orjson.dumps({**GIVE_WAY_PROBLEM, "alert": alert})


def give_way_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"), (b"retry-after", b"5")]


GIVE_WAY_CALM_HEADERS = give_way_headers(GIVE_WAY_CALM)


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
                given_way = True
                body = give_way_body(nearest.alert_at(lat, lon, threat))
            else:
                given_way = False
                hits = nearest.candidates(lat, lon, limit=limit, step_free=step_free)
                routed = (await nearest.routed(lat, lon, hits) if nearest.router is not None
                          else None)
                body = nearest.body(lat, lon, limit=limit, step_free=step_free, threat=threat,
                                    routed=routed, hits=hits)
        except ShelterwatchError as exc:
            await problems.domain_problem(exc)(scope, receive, send)
            return
        except Exception as exc:  # nothing is sent before the body is whole
            await problems.internal_problem(scope["method"], scope["path"], exc)(
                scope, receive, send)
            return
        if given_way:
            await send({"type": "http.response.start", "status": 503, "headers":
                        GIVE_WAY_CALM_HEADERS if body is GIVE_WAY_CALM
                        else give_way_headers(body)})
            await send({"type": "http.response.body", "body": body})
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
                               "rank the offline pack (problem+json, Retry-After); its "
                               "`alert` is the alert in force there, as in the 200 answer"},
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
