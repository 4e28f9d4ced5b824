"""`GET /v1/health`: for load balancers and the people on call — is this process serving fresh
state? It answers 503 when the database does not answer or the process has fallen behind the log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from shelterwatch import db
from shelterwatch.answers import Answer, documented
from shelterwatch.log import service as log

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

MAX_LAG = 10_000  # facts not yet applied before the process counts as behind


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
    settings = request.app.state.settings
    applied = request.app.state.follower.applied_seq
    body: dict[str, Any] = {"database": db.engine_for(settings.database_url).dialect.name,
                            "applied_seq": applied}
    try:
        with db.reading(settings.database_url) as session:
            body["last_seq"] = log.last_seq(session)
    except SQLAlchemyError as exc:
        body.update(ok=False, detail=f"database does not answer: {type(exc).__name__}")
        return JSONResponse(body, status_code=503)
    behind = body["last_seq"] - applied
    body["ok"] = behind <= MAX_LAG
    if not body["ok"]:
        body["detail"] = f"{behind} facts not yet applied"
    return JSONResponse(body, status_code=200 if body["ok"] else 503)
