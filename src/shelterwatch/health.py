"""`GET /v1/health`: for load balancers and the people on call — is this process serving fresh
state? It answers 503 when the database does not answer or the process has fallen behind the log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shelterwatch.answers import Answer, documented
from shelterwatch.log.readiness import readiness

router = APIRouter(tags=["health"])


class Live(Answer):
    ok: bool


class Health(Answer):
    """Readiness: the same shape when ready (200) and when not (503, with `detail`)."""

    ok: bool
    database: str
    applied_seq: int
    last_seq: int | None = None
    detail: str | None = None


@router.get("/v1/health/live", summary="This process answers (liveness; no database look)",
            **documented(Live))
def live() -> JSONResponse:
    """For a supervisor deciding whether to restart the process: it answers, nothing more.
    Readiness (database reachable, state following the log) is `/v1/health`."""
    return JSONResponse({"ok": True})


@router.get("/v1/health", summary="Database reachable and in-memory state following the log",
            response_model=None,
            responses={200: {"model": Health}, 503: {"model": Health, "description": "not ready"}})
def health(request: Request) -> JSONResponse:
    state = request.app.state
    ok, body = readiness(state.settings.database_url, state.follower.applied_seq)
    return JSONResponse(body, status_code=200 if ok else 503)
