"""The operator board's state, the owners' standings, a report's progress, the keyholder's one-tap
check-in page, and the patrol and console pages. (Actions on a case live with the cases, in
`incidents.views`.)"""

from __future__ import annotations

from datetime import timedelta
from html import escape
from importlib.resources import files
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.alerts import service as alerts
from shelterwatch.answers import documented
from shelterwatch.areas.models import Area
from shelterwatch.auth.service import Actor
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.deps import ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.doors import service as doors
from shelterwatch.doors.models import DoorController
from shelterwatch.escalation import evidence, ladder, links, owners, reach
from shelterwatch.escalation.models import StepTaken
from shelterwatch.escalation.schemas import Console, OwnerStandings
from shelterwatch.incidents import service as incidents
from shelterwatch.log import chain
from shelterwatch.log.models import Fact
from shelterwatch.outbox.models import DeadLetter
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.views import task_view, unit_view
from shelterwatch.reports.schemas import ReportProgress
from shelterwatch.rules.escalation import ladder as rungs
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Role

router = APIRouter(tags=["escalation"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]
PAGES = files("shelterwatch.escalation") / "pages"


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((PAGES / name).read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-cache"})


@router.get("/patrol", include_in_schema=False)
def patrol_page() -> HTMLResponse:
    return _page("patrol.html")


@router.get("/console", include_in_schema=False)
def console_page() -> HTMLResponse:
    return _page("console.html")


@router.get("/console.js", include_in_schema=False)
def console_js() -> Response:
    return Response((PAGES / "console.js").read_bytes(), media_type="text/javascript")


@router.get("/patrol.js", include_in_schema=False)
def patrol_js() -> Response:
    return Response((PAGES / "patrol.js").read_bytes(), media_type="text/javascript")


@router.get("/v1/console", summary="Everything the operator board shows, with ladder timers",
            **documented(Console))
def console_state(actor: Operator, session: ReadSession,
                  settings: SettingsDep) -> dict[str, Any]:
    now = utcnow()
    board = []
    for incident in incidents.list_(session, state="open"):
        shelter = session.get(Shelter, incident.shelter_id)
        policy = ladder.policy_for_area(session, settings, incident.area_id)
        facts = ladder.facts_of(session, incident)
        taken = dict(session.execute(select(StepTaken.step, StepTaken.at)
                                     .where(StepTaken.incident_id == incident.id)).all())
        opened = as_utc(incident.opened_at)
        board.append({
            **incidents.public_fields(incident),
            "address": shelter.address if shelter else "",
            "open_for_s": int((now - opened).total_seconds()),
            "ladder": [{"step": step.value, "due_at": chain.format_at(
                opened + timedelta(seconds=delay)),
                "taken_at": chain.format_at(taken[step.value]) if step.value in taken else None}
                for step, delay in rungs(facts, policy)],
            # What actually happened on each rung: a ticked rung with nobody registered
            # reached nobody, and the desk must see that.
            "reach": reach.of_incident(session, incident, settings=settings, now=now),
        })
    return {
        "now": chain.format_at(now),
        "zone": settings.timezone,
        "alerts": [{**alerts.public_fields(a), **_area_names(session, a.area_id)}
                   for a in alerts.list_active(session, now=now)],
        "incidents": board,
        "units": [unit_view(u) for u in patrols.list_units(session)],
        "tasks": [task_view(session, t) for t in patrols.list_open(session)],
        "doors": [{"shelter_id": d.shelter_id, "state": d.last_state, "silent": d.silent,
                   "last_seen_at": chain.format_at(d.last_seen_at) if d.last_seen_at else None}
                  for d in doors.in_shelters(session, _all_door_ids(session))],
        "dead_letters": session.scalar(select(func.count()).select_from(DeadLetter)) or 0,
        "unreachable": _unreachable(session, [a.id for a in alerts.list_active(session, now=now)]),
    }


def _unreachable(session: Session, alert_ids: list[int]) -> list[dict[str, Any]]:
    """Shelters the latest check round of an active alert could give no patrol within its time
    budget: nobody is on the way there, and the desk must know it."""
    if not alert_ids:
        return []
    rows = session.execute(select(Fact.payload).where(Fact.kind == FactKind.ESCALATION_ROUNDS)
                           .order_by(Fact.seq.desc()).limit(50)).scalars()
    latest: dict[int, dict[str, Any]] = {}
    for raw in rows:
        payload = orjson.loads(raw)
        if payload.get("alert_id") in alert_ids:
            latest.setdefault(int(payload["alert_id"]), payload)
    ids = sorted({sid for p in latest.values() for sid in p.get("unreachable", [])})
    shelters = {s.id: s for s in session.execute(
        select(Shelter).where(Shelter.id.in_(ids))).scalars()} if ids else {}
    return [{"shelter_id": sid, "address": shelters[sid].address if sid in shelters else "",
             "budget_s": max(p.get("budget_s", 0) for p in latest.values())} for sid in ids]


@router.get("/v1/reports/{tracking_id}/progress",
            summary="A report's timeline and who was reached, by which channel and when",
            **documented(ReportProgress))
def report_progress(tracking_id: str, session: ReadSession,
                    settings: SettingsDep) -> dict[str, Any]:
    """What the tracking page and the resident's receipt show: the public timeline of the
    report, and one line per party of its case, read from the outbox, the ladder and the
    patrol tasks (roles, channels and times only; nobody's name or contact)."""
    return reach.progress(session, tracking_id=tracking_id, settings=settings, now=utcnow())


@router.get("/v1/owners", summary="Owners and the reports that count against them (operator)",
            **documented(OwnerStandings))
def owner_standings(actor: Operator, session: ReadSession) -> dict[str, Any]:
    return {"owners": [{"id": s.owner_id, "name": s.name, "shelter_ids": s.shelter_ids,
                        "reports_against": s.reports_against, "incidents": s.incidents}
                       for s in owners.standings(session)]}


def _area_names(session: Session, area_id: str) -> dict[str, str]:
    """The desk reads "Київ" (or "Kyiv"), not the alert source's numeric UID "31"."""
    area = session.get(Area, area_id)
    if area is None:
        return {"area_name": area_id, "area_name_en": area_id}
    return {"area_name": area.name, "area_name_en": area.name_en or area.name}


def _all_door_ids(session: Session) -> list[int]:
    return list(session.execute(select(DoorController.shelter_id)).scalars())


CHECK_IN_PAGE = """<!doctype html><html lang="uk"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Укриття відчинене? / Shelter open?</title>
<style>body{{font:18px system-ui;margin:2em;max-width:30em}}button{{font-size:1.4em;
padding:.8em 1.2em;background:#1a7f37;color:#fff;border:0;border-radius:.4em;width:100%}}</style>
<h1>{title}</h1><p>{text}</p>{form}</html>"""


def _where(session: Session, shelter_id: int) -> str:
    """The keyholder knows the door by its address, not by our number."""
    shelter = session.get(Shelter, shelter_id)
    return escape(shelter.address if shelter else f"#{shelter_id}")


@router.get("/check-in/{token}", include_in_schema=False)
def check_in_page(token: str, session: ReadSession, settings: SettingsDep) -> HTMLResponse:
    # A GET only shows the button: mail scanners follow links, and must not record "open".
    grant = links.read_token(settings.secret_key, token, now=utcnow())
    form = (f'<form method="post" action="/check-in/{escape(token)}">'
            '<button type="submit">Відчинено / It is open</button></form>')
    where = _where(session, grant.shelter_id)
    return HTMLResponse(CHECK_IN_PAGE.format(
        title="Підтвердіть: укриття відчинене / Confirm: the shelter is open", form=form,
        text=f"<strong>{where}</strong><br>Натисніть, коли двері відчинені. / "
             "Tap when the door is open."))


@router.post("/check-in/{token}", include_in_schema=False)
def check_in(token: str, session: WriteSession, settings: SettingsDep) -> HTMLResponse:
    intake = evidence.check_in_by_link(session, token=token, settings=settings, now=utcnow())
    where = _where(session, intake.shelter.id)
    session.commit()
    return HTMLResponse(CHECK_IN_PAGE.format(
        title="Дякуємо! / Thank you!", form="",
        text=f"Записано: укриття <strong>{where}</strong> відчинене ({intake.observation.id}). "
             "Мешканців тепер скеровують сюди.<br>Recorded: the shelter at "
             f"<strong>{where}</strong> is open ({intake.observation.id}). Residents are now "
             "sent here."), status_code=201)
