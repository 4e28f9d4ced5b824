"""`GET /v1/coverage` (the summary), its cells, the operator's live panel, and the `/coverage` page.

Requests only read what `coverage.live` has already derived, and never start any work: an area
the start-up sweep has not reached yet is answered 202 with `computing: true` and Retry-After.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from shelterwatch.answers import documented
from shelterwatch.areas import service as areas
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.coverage import figures
from shelterwatch.coverage.live import AreaCoverage, Computing, LiveCoverage
from shelterwatch.coverage.schemas import CoverageComputing, CoverageLive, CoverageSummary
from shelterwatch.deps import ReadSession, require_role
from shelterwatch.errors import InvalidInput, ShelterwatchError
from shelterwatch.log.follower import LogFollower
from shelterwatch.observations.board import StatusBoard
from shelterwatch.vocabulary import Role, Threat

router = APIRouter()
PAGES = files("shelterwatch.coverage") / "pages"
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]
AreaQuery = Annotated[str, Query(max_length=32, description="area id, e.g. 31 (Kyiv city)")]
ThreatQuery = Annotated[Threat, Query(description="the threat whose warning time bounds the walk")]


def _state(request: Request, session: Session, area: str) -> AreaCoverage | Computing:
    """The area's live coverage, "computing", or the reason there is none; reads only."""
    live: LiveCoverage = request.app.state.coverage
    found = live.state(area)
    if isinstance(found, AreaCoverage | Computing):
        return found
    if isinstance(found, ShelterwatchError):
        raise found
    areas.get_or_raise(session, area)  # 404 for an area that does not exist
    raise InvalidInput(f"this server keeps no live coverage for area {area} (no shelter is "
                       "registered in it, or SHELTERWATCH_COVERAGE_AREAS leaves it out); "
                       "`shelterwatch coverage` computes any area")


def computing_answer(computing: Computing) -> Response:
    """202 with Retry-After: the figures are being computed ahead of any request."""
    body = {"area_id": computing.area_id, "computing": True, "detail": computing.detail,
            "retry_after_s": computing.retry_after_s}
    return Response(orjson.dumps(body), status_code=202, media_type="application/json",
                    headers={"Retry-After": str(computing.retry_after_s),
                             "Cache-Control": "no-store"})


RETRY_AFTER = {"description": "seconds until the figures are likely ready",
               "schema": {"type": "integer"}}
COMPUTING: dict[int | str, dict[str, Any]] = {202: {
    "model": CoverageComputing, "headers": {"Retry-After": RETRY_AFTER},
    "description": "the area's figures are being computed ahead of requests; ask again"}}


def _documented(model: type[Any]) -> dict[str, Any]:
    out = documented(model)
    out["responses"].update(COMPUTING)
    return out


@router.get("/v1/coverage", summary="Who cannot reach a usable shelter in time, per district",
            **_documented(CoverageSummary))
def coverage_summary(request: Request, session: ReadSession, area: AreaQuery = "31",
                     threat: ThreatQuery = Threat.BALLISTIC) -> Response:
    state = _state(request, session, area)
    if isinstance(state, Computing):
        return computing_answer(state)
    return Response(orjson.dumps(state.summaries[threat]), media_type="application/json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/v1/coverage/cells", summary="The coverage grid: one Polygon per H3 cell",
            responses=COMPUTING)
def coverage_cells(request: Request, session: ReadSession, area: AreaQuery = "31",
                   threat: ThreatQuery = Threat.BALLISTIC) -> Response:
    state = _state(request, session, area)
    if isinstance(state, Computing):
        return computing_answer(state)
    key = (threat, state.as_of_seq, id(state))
    cache: dict[Any, bytes] = request.app.state.coverage_cells
    body = cache.get(key)
    if body is None:
        ev = figures.evaluate(state.model, state.usable, state.reach, threat)
        body = orjson.dumps({"type": "FeatureCollection",
                             "features": list(figures.features(state.model, ev))})
        cache.clear()  # one grid in memory at a time: they are megabytes each
        cache[key] = body
    etag = f'"{state.as_of_seq}-{threat.value}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/geo+json", headers={"ETag": etag})


@router.get("/v1/coverage/live", summary="Population newly out of reach, for the console",
            **_documented(CoverageLive))
def coverage_live(actor: Operator, request: Request, session: ReadSession,
                  area: AreaQuery = "31") -> dict[str, Any] | Response:
    """During an alert: the alert's threat, people out of reach now and because of doors shut."""
    state = _state(request, session, area)
    if isinstance(state, Computing):
        return computing_answer(state)
    board = request.app.state.alert_board
    alert = board.warning_at(area, utcnow())
    threat = Threat(alert.threat) if alert.under_alert and alert.threat else Threat.BALLISTIC
    total = state.summaries[threat]["total"]
    return {
        "area_id": area, "under_alert": alert.under_alert, "threat": threat.value,
        "warning_s": alert.warning_s if alert.under_alert else None,
        "population": total["population"], "out_of_reach": total["out_of_reach"],
        "share": total["share"], "newly_out_of_reach": total.get("newly_out_of_reach", 0),
        "unusable_shelters": int((~state.usable).sum()),
        "recent_changes": list(state.changes), "as_of_seq": state.as_of_seq,
        "last_recompute_s": state.last_recompute_s,
        "population_source": state.summaries[threat]["population_source"],
    }


@router.get("/coverage", include_in_schema=False, response_class=HTMLResponse)
def coverage_page() -> HTMLResponse:
    return HTMLResponse((PAGES / "coverage.html").read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-cache"})


@router.get("/coverage.js", include_in_schema=False)
def coverage_js() -> Response:
    return Response((PAGES / "coverage.js").read_bytes(), media_type="text/javascript")


@router.get("/coverage-panel.js", include_in_schema=False)
def coverage_panel_js() -> Response:
    return Response((PAGES / "coverage-panel.js").read_bytes(), media_type="text/javascript")


def start(settings: Settings, follower: LogFollower, board: StatusBoard) -> LiveCoverage:
    """Coverage gaps kept live from the log's status and registry changes, every served area
    built by a background sweep from the start."""

    def statuses() -> dict[int, str]:
        return {sid: str(v["status"]) for sid, v in board.snapshot().items()
                if v.get("status")}

    live = LiveCoverage(settings, statuses)
    follower.subscribe(live.apply)
    live.start()
    return live
