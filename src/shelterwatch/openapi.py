"""The OpenAPI document tells the truth about every operation: who may call it, what can go wrong.

FastAPI documents the success answer and a generic 422. Here, once for every route: role-only
operations name the bearer scheme and their 401/403 answers; every error the app can give an
operation is documented as RFC 9457 problem+json (404 where a path names a resource, 409 where a
write can conflict, 413 where a body is read, 422 where input is validated, 429 and 503 where
limits and warm-up apply, 431 for oversized headers). Schemathesis, run by `make test`, checks
real answers against this document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from shelterwatch.problems import PROBLEM, required_roles

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details; `detail` says precisely what was wrong",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
ANSWERS = {
    "400": "The request could not be read (problem+json)",
    "401": "No valid bearer token (problem+json, WWW-Authenticate: Bearer)",
    "403": "The token's role or shelters do not allow this (problem+json)",
    "404": "Nothing by that id (problem+json)",
    "409": "Conflicts with the current state, or an Idempotency-Key reused (problem+json)",
    "413": "The body is over the size limit (problem+json)",
    "422": "A field or parameter is invalid (problem+json, `errors` lists each)",
    "429": "Over a rate limit (problem+json, Retry-After)",
    "431": "The request headers are over the size limit (problem+json)",
    "503": "Not ready yet or overloaded (problem+json, Retry-After)",
}
# Operations behind the shared limits of anonymous writes and streams (reports/limits.py,
# devices/, stream.py), and those that answer 503 while their data is being built (coverage is
# built ahead of requests and answers 202 meanwhile: coverage/views.py).
LIMITED = ("/v1/reports", "/v1/devices", "/open311/v2/requests", "/v1/stream")
WARMING = ("/v1/pack",)
# Open311 clients expect the GeoReport error list, in the format they asked for; the body and
# header limits are enforced before the router and answer problem+json everywhere.
OPEN311 = "/open311/"
OPEN311_ERRORS: dict[str, Any] = {
    "description": "GeoReport v2 errors: a list of {code, description}, as JSON or XML",
    "content": {"application/json": {"schema": {"type": "array", "items": {
        "type": "object", "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}},
                "application/xml": {"schema": {"type": "string"}}}}
OPEN311_ROWS: dict[str, Any] = {"application/json": {"schema": {"type": "array", "items": {
    "type": "object", "additionalProperties": True}}},
    "application/xml": {"schema": {"type": "string"}}}
BEFORE_ROUTING = {"413", "431"}
# Answers that are not one resource by id: a log without a signed head or key yet (404), a proof
# asked of a tree size the log has not reached (409), coverage of an unknown area (404).
NOT_YET = ("/v1/log/", "/v1/coverage")
# Receivers authenticated by a shared secret header rather than a bearer token, and public reads
# a policy may keep from the public (a dossier of a shelter in a hidden oblast: stats/dossier.py).
SECRET_HEADER = ("/v1/alerts/webhooks/", "/v1/channels/", "/v1/dossiers/")
# What these answer is not JSON; the document names the media type each one sends.
MEDIA: dict[str, dict[str, Any]] = {
    "/v1/log/verifier.py": {"text/x-python": {"schema": {"type": "string"}}},
    "/metrics": {"text/plain": {"schema": {"type": "string"}}},
    "/v1/stats.csv": {"text/csv": {"schema": {"type": "string"}}},
    "/v1/stats/cases.csv": {"text/csv": {"schema": {"type": "string"}}},
    "/v1/stream": {"text/event-stream": {"schema": {"type": "string"}}},
    "/v1/audits/{audit_id}/act.pdf": {"application/pdf": {"schema": {"type": "string",
                                                                     "format": "binary"}}},
    "/v1/photos/{sha256}": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}}},
    "/v1/coverage/cells": {"application/geo+json": {"schema": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"const": "FeatureCollection"},
                       "features": {"type": "array", "items": {"type": "object"}}}}}},
}


# OpenAPI links: what a created thing's answer lets a client (and a stateful fuzzer) do next.
# (operation, its success code) → link name → (method and path of the next operation, where
# each of its parameters comes from). Shelters come from imports and tokens and patrol units
# have no GET by id, so their links are the operations that act on them.
_BODY = "$response.body#/"
_SHELTER = {"shelter_id": _BODY + "shelter_id"}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/v1/reports", "201"): {
        "TrackReport": ("get", "/v1/reports/{tracking_id}", {"tracking_id": _BODY + "tracking_id"}),
        "ReportProgress": ("get", "/v1/reports/{tracking_id}/progress",
                           {"tracking_id": _BODY + "tracking_id"}),
        "ReadTheShelter": ("get", "/v1/shelters/{shelter_id}", _SHELTER),
        "ShelterCard": ("get", "/v1/shelters/{shelter_id}/card",
                        {"shelter_id": _BODY + "shelter_id"}),
    },
    ("post", "/v1/checks", "201"): {
        "ReadTheShelter": ("get", "/v1/shelters/{shelter_id}", _SHELTER),
        "RegistryEntry": ("get", "/v1/registry/shelters/{shelter_id}",
                          {"shelter_id": _BODY + "shelter_id"}),
    },
    ("post", "/v1/tokens", "201"): {
        "RevokeTheToken": ("post", "/v1/tokens/{token_id}/revoke", {"token_id": _BODY + "id"}),
    },
    ("post", "/v1/alerts", "201"): {
        "EndTheAlert": ("post", "/v1/alerts/{alert_id}/end", {"alert_id": _BODY + "id"}),
        "AreaAlerts": ("get", "/v1/areas/{area_id}/alerts", {"area_id": _BODY + "area_id"}),
    },
    ("post", "/v1/keyholders", "201"): {
        "Deactivate": ("post", "/v1/keyholders/{keyholder_id}/deactivate",
                       {"keyholder_id": _BODY + "id"}),
    },
    ("post", "/v1/doors", "201"): {
        "Unlock": ("post", "/v1/doors/{shelter_id}/unlock", {"shelter_id": _BODY + "shelter_id"}),
        "ReadTheShelter": ("get", "/v1/shelters/{shelter_id}", _SHELTER),
    },
    ("post", "/v1/audits", "201"): {
        "ReadTheAudit": ("get", "/v1/audits/{audit_id}", {"audit_id": _BODY + "id"}),
        "TheAct": ("get", "/v1/audits/{audit_id}/act.pdf", {"audit_id": _BODY + "id"}),
    },
    ("post", "/v1/campaigns", "201"): {
        "ReadTheCampaign": ("get", "/v1/campaigns/{campaign_id}", {"campaign_id": _BODY + "id"}),
        "Progress": ("get", "/v1/campaigns/{campaign_id}/progress", {"campaign_id": _BODY + "id"}),
        "Worklist": ("get", "/v1/campaigns/{campaign_id}/worklist", {"campaign_id": _BODY + "id"}),
    },
}


def add_links(schema: dict[str, Any]) -> None:
    """Write `LINKS` into the document, naming each next operation by its operationId."""
    paths = schema.get("paths", {})
    for (method, path, code), links in LINKS.items():
        answer = paths.get(path, {}).get(method, {}).get("responses", {}).get(code)
        if answer is None:
            continue
        for name, (next_method, next_path, parameters) in links.items():
            target = paths.get(next_path, {}).get(next_method, {}).get("operationId")
            if target is not None:
                answer.setdefault("links", {})[name] = {"operationId": target,
                                                        "parameters": parameters}


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Wrap the app's OpenAPI builder so every operation of `routers` documents its errors and
    security."""
    build: Callable[[], dict[str, Any]] = app.openapi
    built: dict[str, Any] = {}
    routes = [r for router in routers for r in router.routes
              if isinstance(r, APIRoute) and r.include_in_schema]

    def openapi() -> dict[str, Any]:
        if not built:
            schema = build()
            complete(schema, routes)
            add_links(schema)
            built.update(schema)
        return built

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], routes: list[APIRoute]) -> None:
    """Add the bearer scheme and the problem answers to `schema`, in place."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer",
        "description": "a token from `shelterwatch token create` (role-only endpoints)"}
    components.setdefault("responses", {}).update({
        code: {"description": text,
               "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for code, text in ANSWERS.items()})
    components["responses"]["Open311Errors"] = OPEN311_ERRORS
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    for route in routes:
        roles = required_roles(route.dependant)
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _complete_operation(operation, route, method, bool(roles))


def _complete_operation(operation: dict[str, Any], route: APIRoute, method: str,
                        role_only: bool) -> None:
    params = {p.get("in") for p in operation.get("parameters", [])}
    body = "requestBody" in operation or method in ("POST", "PUT", "PATCH")
    codes = {"431"}
    if role_only:
        operation["security"] = [{"bearer": []}]
        codes |= {"401", "403"}
    if params or body:
        codes.add("422")
    if "path" in params or body:
        codes.add("404")
    if body:
        codes |= {"400", "409", "413"}
    if route.path.startswith(NOT_YET):
        codes |= {"404", "409"}
    if route.path.startswith(SECRET_HEADER):
        codes |= {"401", "403"}
    if route.path.startswith(LIMITED):
        codes.add("429")
    if route.path.startswith(WARMING):
        codes.add("503")
    responses = operation.setdefault("responses", {})
    if route.path in MEDIA:
        for code, answer in responses.items():
            if code in ("200", "201"):  # a 202 "computing" stays JSON
                answer["content"] = MEDIA[route.path]
    if route.path.startswith(OPEN311):
        for code, answer in responses.items():
            if code.startswith("2"):
                answer["content"] = OPEN311_ROWS
        for code in sorted(codes | {"404"}):
            responses[code] = {"$ref": "#/components/responses/" + (
                code if code in BEFORE_ROUTING else "Open311Errors")}
        return
    for code in sorted(codes):
        described = responses.get(code, {}).get("description")
        responses[code] = {"$ref": f"#/components/responses/{code}"}
        if described and described != "Validation Error" and code != "422":
            responses[code] = {"description": described,
                               "content": {PROBLEM: {"schema": {
                                   "$ref": "#/components/schemas/Problem"}}}}
