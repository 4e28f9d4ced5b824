"""Public accountability figures (JSON, CSV, pages), the owners' view and dossiers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from shelterwatch.answers import documented
from shelterwatch.audits import deficiencies
from shelterwatch.auth import service as auth
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import (
    DbId,
    ReadSession,
    SettingsDep,
    StaleReadSession,
    bearer,
    require_role,
)
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.rules import figures
from shelterwatch.stats import dossier, dossier_render, pages, queries, report
from shelterwatch.stats.queries import Scope
from shelterwatch.stats.schemas import Dossier, OwnerReport, StatsReport
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["stats"])
page_router = APIRouter(include_in_schema=False)

Area = Annotated[str | None, Query(description="area id: figures for it and all under it")]
Owner = Annotated[int | None, Query(description="owner (balance-keeper) id")]
OneShelter = Annotated[int | None, Query(description="one shelter's figures")]
From = Annotated[datetime | None, Query(alias="from", description="ISO 8601, inclusive")]
To = Annotated[datetime | None, Query(description="ISO 8601, exclusive")]
Days = Annotated[int | None, Query(description="a window back from now: 7, 30, 90 or 365")]


def _scope(session: StaleReadSession, area: Area = None, owner: Owner = None,
           shelter: OneShelter = None, start: From = None, to: To = None,
           days: Days = None) -> Scope:
    if days is not None and days not in figures.WINDOWS_DAYS:
        raise InvalidInput(f"days must be one of {', '.join(map(str, figures.WINDOWS_DAYS))}")
    if days is not None and (start or to):
        raise InvalidInput("give either days or from/to, not both")
    begin, end = queries.window(days, start, to, utcnow())
    if begin and end and begin >= end:
        raise InvalidInput("from must be before to")
    return Scope(area_ids=queries.descendants(session, area) if area else None,
                 owner_id=owner, shelter_ids=(shelter,) if shelter is not None else None,
                 start=begin, end=end, area=area)


ScopeDep = Annotated[Scope, Depends(_scope)]


@router.get("/v1/stats", summary="Accountability figures for an area, an owner and a window",
            **documented(StatsReport))
def stats_json(session: StaleReadSession, settings: SettingsDep, scope: ScopeDep) -> dict[str, Any]:
    """Every figure with its definition, the city's value beside it, rankings, chart data and
    each locked-door case's lifecycle (created, first notified, patrol dispatched, door open,
    closed, resolution, alert_id, evidence kind)."""
    return report.build(session, settings, scope, now=utcnow())


@router.get("/v1/stats.csv", response_class=PlainTextResponse,
            summary="The figures as CSV (figure, value, city, unit, definition)")
def stats_csv(session: StaleReadSession, settings: SettingsDep,
              scope: ScopeDep) -> PlainTextResponse:
    body = report.figures_csv(report.build(session, settings, scope, now=utcnow(),
                                           with_cases=False))
    return PlainTextResponse(body, media_type="text/csv; charset=utf-8")


@router.get("/v1/stats/cases.csv", response_class=PlainTextResponse,
            summary="Each locked-door case's lifecycle as CSV")
def cases_csv(session: StaleReadSession, settings: SettingsDep,
              scope: ScopeDep) -> PlainTextResponse:
    body = report.cases_csv(report.build(session, settings, scope, now=utcnow()))
    return PlainTextResponse(body, media_type="text/csv; charset=utf-8")


@router.get("/v1/owner/stats", summary="An owner's own figures and cases (role owner)",
            **documented(OwnerReport))
def owner_stats(session: StaleReadSession, settings: SettingsDep,
                actor: Annotated[Actor, Depends(require_role(Role.OWNER))],
                days: Days = None) -> dict[str, Any]:
    """Figures over the shelters the owner's token is bound to, with their case numbers and
    shelters named (the location policy hides them from the public, not from their owner)."""
    if not actor.shelter_ids:
        raise InvalidInput("this owner token is bound to no shelters")
    begin, end = queries.window(days, None, None, utcnow())
    scope = Scope(shelter_ids=tuple(sorted(actor.shelter_ids)), start=begin, end=end)
    built = report.build(session, settings, scope, now=utcnow(), hide=False)
    built["shelter_ids"] = sorted(actor.shelter_ids)
    built["open_deficiencies"] = deficiencies.open_for(session, sorted(actor.shelter_ids),
                                                       now=utcnow())
    return built


def _caller(request: Request, session: ReadSession) -> Actor | None:
    """The token's holder if a bearer token came (a bad one is refused), else nobody."""
    token = bearer(request)
    return auth.authenticate(session, token) if token is not None else None


Caller = Annotated[Actor | None, Depends(_caller)]


def _dossier(session: StaleReadSession, settings: SettingsDep, caller: Actor | None, kind: str,
             subject_id: int) -> dict[str, Any]:
    subject = dossier.subject_of(kind, subject_id)
    dossier.check_policy(session, subject=subject, actor=caller,
                         hidden=report.hidden_areas(session, settings))
    return dossier.build(session, subject=subject, timezone=settings.timezone, now=utcnow())


@router.get("/v1/dossiers/{kind}/{subject_id}", summary="Dossier bundle, verifiable offline",
            **documented(Dossier))
def dossier_json(session: StaleReadSession, settings: SettingsDep, caller: Caller, kind: str,
                 subject_id: DbId) -> dict[str, Any]:
    """Every public fact about a shelter or an incident with its RFC 6962 audit path to the
    latest signed tree head; check it with GET /v1/log/verifier.py. A shelter in an oblast the
    location policy hides: operators, auditors and its owner only (bearer token)."""
    return _dossier(session, settings, caller, kind, subject_id)


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "uk"


def _page(request: Request, session: StaleReadSession, settings: SettingsDep, scope: Scope,
          heading: str, query: str) -> HTMLResponse:
    lang = _lang(request)
    built = report.build(session, settings, scope, now=utcnow())
    other = "uk" if lang == "en" else "en"
    html = pages.render(built, lang=lang, heading=heading, json_url=f"/v1/stats?{query}",
                        csv_url=f"/v1/stats.csv?{query}",
                        cases_csv_url=f"/v1/stats/cases.csv?{query}",
                        other_url=f"{request.url.path}?lang={other}", zone=settings.timezone)
    return HTMLResponse(html, headers={"Cache-Control": "max-age=60"})


@page_router.get("/stats", response_class=HTMLResponse)
def city_page(request: Request, session: StaleReadSession, settings: SettingsDep,
              days: Days = None) -> HTMLResponse:
    begin, end = queries.window(days, None, None, utcnow())
    heading = "Київ" if _lang(request) == "uk" else "Kyiv"
    return _page(request, session, settings, Scope(start=begin, end=end), heading,
                 f"days={days}" if days else "")


@page_router.get("/stats/areas/{area_id}", response_class=HTMLResponse)
def area_page(request: Request, session: StaleReadSession, settings: SettingsDep, area_id: str,
              days: Days = None) -> HTMLResponse:
    from shelterwatch.areas.models import Area as AreaRow

    area = session.get(AreaRow, area_id)
    if area is None:
        raise NotFound(f"no area {area_id}")
    begin, end = queries.window(days, None, None, utcnow())
    scope = Scope(area_ids=queries.descendants(session, area_id), start=begin, end=end,
                  area=area_id)
    name = area.name if _lang(request) == "uk" else (area.name_en or area.name)
    return _page(request, session, settings, scope, name, f"area={area_id}")


@page_router.get("/stats/owners/{owner_id}", response_class=HTMLResponse)
def owner_page(request: Request, session: StaleReadSession, settings: SettingsDep, owner_id: int,
               days: Days = None) -> HTMLResponse:
    begin, end = queries.window(days, None, None, utcnow())
    word = pages.words(_lang(request))["owner"]
    return _page(request, session, settings, Scope(owner_id=owner_id, start=begin, end=end),
                 f"{word} #{owner_id}", f"owner={owner_id}")


@page_router.get("/dossiers/{kind}/{subject_id}.pdf")
def dossier_pdf(request: Request, session: StaleReadSession, settings: SettingsDep, caller: Caller,
                kind: str, subject_id: DbId) -> Response:
    """The dossier on paper, for a case file: the same facts, evidence and proofs."""
    body = dossier_render.pdf(_dossier(session, settings, caller, kind, subject_id),
                              lang=_lang(request))
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="dossier-{kind}-{subject_id}.pdf"'})


@page_router.get("/dossiers/{kind}/{subject_id}", response_class=HTMLResponse)
def dossier_page(request: Request, session: StaleReadSession, settings: SettingsDep,
                 caller: Caller, kind: str, subject_id: DbId) -> HTMLResponse:
    bundle = _dossier(session, settings, caller, kind, subject_id)
    return HTMLResponse(dossier_render.html(bundle, lang=_lang(request),
                                            base=f"/dossiers/{kind}/{subject_id}"))
