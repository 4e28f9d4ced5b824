"""Alert endpoints: the live state for everyone, start/end and CAP upload for the operator desk,
and the ukrainealarm push receiver. Thin: each view calls one service and commits."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shelterwatch.alerts import feeds, service
from shelterwatch.alerts.schemas import (
    ActiveAlerts,
    AlertEndIn,
    AlertIn,
    AlertOut,
    AreaAlerts,
    CapImported,
    PushApplied,
)
from shelterwatch.alerts.sources import cap, operator, ukrainealarm
from shelterwatch.answers import documented
from shelterwatch.areas import service as areas
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.errors import InvalidInput, NotFound, Unauthorized
from shelterwatch.rules.warning import AlertWarning
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["alerts"])
Operator = Depends(require_role(Role.OPERATOR))


def warning_view(w: AlertWarning) -> dict[str, Any]:
    """The warning verdict as JSON."""
    return {"under_alert": w.under_alert, "alert_id": w.alert_id, "area_id": w.area_id,
            "type": w.type, "threat": w.threat, "warning_s": w.warning_s,
            "started_at": w.started_at.isoformat() if w.started_at else None,
            "alert_ids": list(w.alert_ids)}


@router.get("/v1/alerts/active", summary="Alerts in force now, and whether each feed is fresh",
            **documented(ActiveAlerts))
def active_alerts(session: ReadSession, settings: SettingsDep) -> dict[str, Any]:
    now = utcnow()
    states = feeds.states(session, now=now, stale_after_s=settings.feed_stale_after_s)
    return {
        "as_of": now.isoformat(),
        "alerts": [service.public_fields(a) for a in service.list_active(session, now=now)],
        "feeds": [s.as_public() for s in states],
        "stale": any(s.stale for s in states),
    }


@router.get("/v1/areas/{area_id}/alerts",
            summary="Alerts covering an area (its own and its ancestors') since a moment",
            **documented(AreaAlerts))
def area_alerts(session: ReadSession, settings: SettingsDep, area_id: str,
                since: datetime | None = None) -> dict[str, Any]:
    areas.get_or_raise(session, area_id)
    now = utcnow()
    chain = areas.ancestors_of(session, area_id)
    return {
        "area_id": area_id,
        "covered_by": chain,
        "now": warning_view(service.active_for_area(session, area_id, now, settings=settings)),
        "alerts": [service.public_fields(a)
                   for a in service.list_for_areas(session, area_ids=chain, since=since)],
    }


@router.post("/v1/alerts", status_code=201, summary="Start an alert on an area (operator)",
             **documented(AlertOut, 201))
def start_alert(body: AlertIn, session: WriteSession, response: Response,
                actor: Actor = Operator) -> dict[str, Any]:
    t = operator.start(session, area_id=body.area_id, type=body.type, threat=body.threat,
                       started_at=body.started_at, actor=actor.label, now=utcnow())
    session.commit()
    if not t.changed:
        response.status_code = 200  # already on: the same alert again
    return service.public_fields(t.alert)


@router.post("/v1/alerts/{alert_id}/end", summary="End an alert (operator)",
             **documented(AlertOut))
def end_alert(alert_id: DbId, session: WriteSession, body: AlertEndIn | None = None,
              actor: Actor = Operator) -> dict[str, Any]:
    t = operator.end(session, alert_id=alert_id, ended_at=body.ended_at if body else None,
                     actor=actor.label, now=utcnow())
    session.commit()
    return service.public_fields(t.alert)


@router.post("/v1/alerts/cap", summary="Import a CAP 1.2 alert or an Atom feed of them (operator)",
             **documented(CapImported))
async def upload_cap(request: Request, session: WriteSession, settings: SettingsDep,
                     actor: Actor = Operator) -> dict[str, Any]:
    body = await request.body()

    def work() -> dict[str, Any]:
        """Parsing a large polygon and waiting for the database happen off the event loop,
        so no other request (the nearest shelter least of all) waits for this one."""
        messages = cap.parse_document(body)
        now = utcnow()
        outcomes = [cap.apply(session, m, geocode_map=settings.cap_geocodes, actor=actor.label,
                              now=now) for m in messages]
        session.commit()
        return {"messages": [vars(o) for o in outcomes]}

    return await run_in_threadpool(work)


@router.post("/v1/alerts/webhooks/ukrainealarm", summary="Receive ukrainealarm pushes",
             **documented(PushApplied))
async def ukrainealarm_push(request: Request, session: WriteSession,
                            settings: SettingsDep) -> JSONResponse:
    secret = settings.ukrainealarm_webhook_secret
    given = request.headers.get("x-webhook-secret", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized("the push must carry the configured X-Webhook-Secret")
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput(f"the push body is not JSON: {exc}") from exc
    push = ukrainealarm.parse_push(body)
    if push is None:
        return JSONResponse({"applied": False, "reason": "alert type not tracked"})

    def work() -> JSONResponse:
        """The database work, off the event loop: another process may hold the write lock."""
        assert push is not None
        try:
            areas.get_or_raise(session, push.area_id)
        except NotFound:
            return JSONResponse({"applied": False, "reason": f"unknown region {push.area_id}"})
        t = ukrainealarm.apply_push(session, push, now=utcnow())
        session.commit()
        return JSONResponse({"applied": bool(t and t.changed),
                             "alert": service.public_fields(t.alert) if t else None})

    return await run_in_threadpool(work)
