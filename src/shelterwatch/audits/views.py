"""Audit endpoints: the published checklist, audits and quick-checks, deficiencies, ghosts,
photos. Reads of the checklist, audits and the ghost list are public; writes need a role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response

from shelterwatch import receipts
from shelterwatch.answers import documented
from shelterwatch.audits import campaigns, deficiencies, exports, ghosts, photos, readiness_store
from shelterwatch.audits import checklist as checklists
from shelterwatch.audits import service as audits
from shelterwatch.audits.answers import (
    AuditOut,
    CampaignBacklog,
    CampaignOut,
    CampaignProgress,
    Checklist,
    Deficiencies,
    DeficiencyClosed,
    GhostConfirmed,
    Ghosts,
    Worklist,
)
from shelterwatch.audits.schemas import AuditIn, CampaignIn, FixIn, GhostIn
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.errors import Forbidden
from shelterwatch.observations import idempotency
from shelterwatch.rules.readiness import Tier
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["audits"])
Checker = Annotated[Actor, Depends(require_role(Role.AUDITOR, Role.PATROL, Role.KEYHOLDER))]
Fixer = Annotated[Actor, Depends(require_role(Role.OWNER, Role.AUDITOR, Role.OPERATOR))]
Auditor = Annotated[Actor, Depends(require_role(Role.AUDITOR))]
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]
Planner = Annotated[Actor, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]
Viewer = Annotated[Actor, Depends(require_role(Role.AUDITOR, Role.OPERATOR, Role.OWNER))]


def store_of(request: Request) -> photos.PhotoStore:
    """The app's photo store, made once."""
    store = getattr(request.app.state, "photo_store", None)
    if store is None:
        store = request.app.state.photo_store = photos.store_for(request.app.state.settings)
    return store


@router.get("/v1/checklist", summary="The current checklist with its items and category rule",
            **documented(Checklist))
def get_checklist(settings: SettingsDep) -> dict[str, Any]:
    return checklists.published(settings.readiness_rule)


@router.post("/v1/audits", status_code=201,
             summary="Record a full audit (auditor) or a door quick-check (patrol, keyholder)",
             **documented(AuditOut, 201))
def create_audit(body: AuditIn, actor: Checker, session: WriteSession, settings: SettingsDep,
                 request: Request,
                 idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = idempotency.check_key(idempotency_key)
    tier = Tier(body.tier)
    if tier is Tier.FULL and actor.role is not Role.AUDITOR:
        raise Forbidden("a full audit needs role auditor; patrols and keyholders send "
                        "tier \"quick\"")
    if actor.role is Role.KEYHOLDER and body.shelter_id not in actor.shelter_ids:
        raise Forbidden(f"this keyholder token is not bound to shelter {body.shelter_id}")
    now = utcnow()

    def write() -> idempotency.Receipt:
        pictures = [(p.item_id, photos.decode(p.data, field=f"photos[{i}].data",
                                              max_bytes=settings.photo_max_bytes))
                    for i, p in enumerate(body.photos)]
        sub = audits.Submission(
            shelter_id=body.shelter_id, tier=tier, answers=body.answers, photos=pictures,
            lat=body.lat, lon=body.lon, accuracy_m=body.accuracy_m, started_at=body.started_at,
            campaign_id=body.campaign_id, note=body.note)
        outcome = audits.record(session, sub, actor=actor.label, now=now, settings=settings,
                                store=store_of(request))
        return idempotency.Receipt(201, audits.public(session, outcome.audit))

    receipt = receipts.respond_once(session, scope=f"audits:{actor.label}", key=key,
                                       body=body.model_dump(mode="json"), write=write, now=now)
    request.app.state.follower.catch_up()  # this process shows the new readiness at once
    return JSONResponse(receipt.body, status_code=receipt.status_code)


@router.get("/v1/audits/{audit_id}", summary="One audit as it was judged",
            **documented(AuditOut))
def get_audit(session: ReadSession, audit_id: DbId) -> dict[str, Any]:
    return audits.public(session, audits.get_or_raise(session, audit_id))


@router.get("/v1/audits/{audit_id}/act.pdf", summary="The audit's inspection act (PDF)")
def get_act(session: ReadSession, settings: SettingsDep, audit_id: DbId) -> Response:
    pdf = exports.act_pdf(session, audit_id, timezone=settings.timezone)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="act-{audit_id}.pdf"'})


@router.get("/v1/deficiencies", summary="Open deficiencies at shelters (owners: their own)",
            **documented(Deficiencies))
def list_deficiencies(session: ReadSession, actor: Viewer,
                      shelter_id: int | None = None) -> dict[str, Any]:
    if actor.role is Role.OWNER:
        wanted = sorted(actor.shelter_ids)
        if shelter_id is not None:
            wanted = [shelter_id] if shelter_id in actor.shelter_ids else []
    else:
        wanted = [shelter_id] if shelter_id is not None else []
    if actor.role is not Role.OWNER and shelter_id is None:
        wanted = deficiencies.shelters_with_open(session)
    return {"deficiencies": deficiencies.open_for(session, wanted, now=utcnow())}


@router.post("/v1/deficiencies/{deficiency_id}/close",
             summary="Close a deficiency with a photo of the fix (owner, auditor, operator)",
             **documented(DeficiencyClosed))
def close_deficiency(deficiency_id: DbId, body: FixIn, actor: Fixer, session: WriteSession,
                     settings: SettingsDep, request: Request,
                     idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = idempotency.check_key(idempotency_key)
    now = utcnow()

    def write() -> idempotency.Receipt:
        photo = photos.decode(body.photo, field="photo", max_bytes=settings.photo_max_bytes)
        d = deficiencies.close(session, deficiency_id=deficiency_id, photo=photo,
                               role=actor.role, bound=actor.shelter_ids, actor=actor.label,
                               now=now, store=store_of(request))
        return idempotency.Receipt(200, {
            "deficiency": deficiencies.public(d),
            "readiness": readiness_store.public_readiness(session, d.shelter_id)})

    receipt = receipts.respond_once(
        session, scope=f"fix:{actor.label}", key=key,
        body={"id": deficiency_id, **body.model_dump()}, write=write, now=now)
    request.app.state.follower.catch_up()
    return JSONResponse(receipt.body, status_code=receipt.status_code)


@router.get("/v1/ghosts", summary="Shelters found not to exist or used for something else",
            **documented(Ghosts))
def list_ghosts(session: ReadSession) -> dict[str, Any]:
    return {"ghosts": ghosts.public_list(session)}


@router.post("/v1/ghosts", status_code=201,
             summary="Confirm residents' missing reports: the shelter is a ghost (auditor)",
             **documented(GhostConfirmed, 201))
def confirm_ghost(body: GhostIn, actor: Auditor, session: WriteSession, settings: SettingsDep,
                  request: Request) -> JSONResponse:
    now = utcnow()
    photo = (photos.decode(body.photo, field="photo", max_bytes=settings.photo_max_bytes)
             if body.photo else None)
    with idempotency.one_writer(session):
        result = ghosts.confirm_missing(session, shelter_id=body.shelter_id,
                                        reason=body.reason, observation_ids=body.observation_ids,
                                        photo=photo, actor=actor.label, now=now,
                                        store=store_of(request))
        session.commit()
    request.app.state.follower.catch_up()
    return JSONResponse(result, status_code=201)


@router.get("/v1/photos/{sha256}", summary="An audit photo by its SHA-256 (auditor, operator, "
            "owner)")
def get_photo(sha256: str, actor: Viewer, request: Request) -> Response:
    data = store_of(request).get(photos.check_name(sha256))
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=86400"})


@router.post("/v1/campaigns", status_code=201,
             summary="Create an inspection campaign and split it among groups (operator)",
             **documented(CampaignOut, 201))
def create_campaign(body: CampaignIn, actor: Operator, session: WriteSession,
                    settings: SettingsDep) -> JSONResponse:
    with idempotency.one_writer(session):
        campaign = campaigns.create(session, body, now=utcnow(), actor=actor.label,
                                    reaudit_days=settings.reaudit_days)
        session.commit()
        return JSONResponse(campaigns.public(session, campaign), status_code=201)


@router.get("/v1/campaigns/{campaign_id}", summary="A campaign and its groups",
            **documented(CampaignOut))
def get_campaign(session: ReadSession, actor: Planner, campaign_id: DbId) -> dict[str, Any]:
    return campaigns.public(session, campaigns.get_or_raise(session, campaign_id))


@router.get("/v1/campaigns/{campaign_id}/progress",
            summary="Inspected / closed / not ready per district and day",
            **documented(CampaignProgress))
def campaign_progress(session: ReadSession, actor: Planner, settings: SettingsDep,
                      campaign_id: DbId) -> dict[str, Any]:
    return campaigns.progress(session, campaign_id, timezone=settings.timezone)


@router.get("/v1/campaigns/{campaign_id}/backlog", summary="Shelters overdue for (re-)audit",
            **documented(CampaignBacklog))
def campaign_backlog(session: ReadSession, actor: Planner,
                     campaign_id: DbId) -> dict[str, Any]:
    return campaigns.backlog(session, campaign_id, now=utcnow())


@router.get("/v1/campaigns/{campaign_id}/worklist",
            summary="A group's shelters, for the inspectors' page to keep offline",
            **documented(Worklist))
def campaign_worklist(session: ReadSession, actor: Planner, campaign_id: DbId,
                      group: str | None = None) -> dict[str, Any]:
    return campaigns.worklist(session, campaign_id, group)
