"""Recording an audit: judge it, keep its photos, open and close deficiencies, mark ghosts.

Everything an audit changes is written in the caller's transaction with its facts (DESIGN §3.2):
the audit, every photo reference, each deficiency opened or closed, the shelter's new readiness,
and a ghost finding or restoration. The category comes from the pure rule in `rules.readiness`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.audits import checklist as checklists
from shelterwatch.audits import deficiencies, readiness_store
from shelterwatch.audits.models import Audit, AuditPhoto, CampaignShelter
from shelterwatch.audits.photos import Photo, PhotoStore
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.log import service as log
from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import Mark, Tier
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind


@dataclass(frozen=True, slots=True)
class Submission:
    """One filled-in checklist as a client or an import sends it."""

    shelter_id: int
    tier: Tier
    answers: Mapping[str, Any]
    photos: Sequence[tuple[str, Photo]] = ()  # (item id, photo)
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    started_at: datetime | None = None
    campaign_id: int | None = None
    note: str | None = None
    source: str = "api"
    external_id: str | None = None


@dataclass(slots=True)
class Outcome:
    audit: Audit
    judgement: readiness.Judgement
    opened: list[int] = field(default_factory=list)  # deficiency ids
    closed: list[int] = field(default_factory=list)
    ghosted: bool = False
    restored: bool = False


def _check(session: Session, sub: Submission, settings: Settings) -> tuple[Shelter,
                                                                          readiness.Judgement]:
    shelter = session.get(Shelter, sub.shelter_id)
    if shelter is None:
        raise InvalidInput(f"shelter_id: no shelter with id {sub.shelter_id}")
    checklist = checklists.load()
    problems = readiness.answer_problems(checklist, sub.answers, tier=sub.tier,
                                         kind=shelter.kind)
    if problems:
        raise InvalidInput("; ".join(problems[:10]))
    judgement = readiness.judge(checklist, checklists.rule(settings.readiness_rule),
                                sub.answers, kind=shelter.kind, capacity=shelter.capacity,
                                full=sub.tier is Tier.FULL)
    pictured = {item_id for item_id, _ in sub.photos}
    stray = sorted(pictured - set(sub.answers))
    if stray:
        raise InvalidInput(f"photos: item {', '.join(stray)} is not answered")
    unpictured = [i for i in judgement.failed if i not in pictured]
    if unpictured:
        raise InvalidInput(f"photos: every fail needs a photo; none for {', '.join(unpictured)}")
    if (sub.lat is None) != (sub.lon is None):
        raise InvalidInput("lat and lon come together")
    if sub.campaign_id is not None and session.get(
            CampaignShelter, (sub.campaign_id, sub.shelter_id)) is None:
        raise InvalidInput(f"campaign_id: shelter {sub.shelter_id} is not in campaign "
                           f"{sub.campaign_id}")
    return shelter, judgement


def record(session: Session, sub: Submission, *, actor: str, now: datetime, settings: Settings,
           store: PhotoStore) -> Outcome:
    """Take in one audit or quick-check; InvalidInput (changing nothing) when it does not fit."""
    shelter, judgement = _check(session, sub, settings)
    flagged = sub.accuracy_m is None or sub.accuracy_m > settings.gps_accuracy_flag_m
    closed_on_arrival = sub.answers.get("open_on_arrival") == Mark.FAIL.value
    audit = Audit(
        shelter_id=shelter.id, tier=sub.tier.value, actor=actor,
        checklist_version=judgement.checklist_version, rule_version=judgement.rule_version,
        answers=orjson.dumps(dict(sub.answers)).decode(),
        category=judgement.category.value if judgement.category else None,
        reasons=orjson.dumps([r.public() for r in judgement.reasons]).decode(),
        ghost_reason=judgement.ghost.value if judgement.ghost else None,
        closed_on_arrival=closed_on_arrival, lat=sub.lat, lon=sub.lon,
        accuracy_m=sub.accuracy_m, gps_flagged=flagged, campaign_id=sub.campaign_id,
        source=sub.source, external_id=sub.external_id, note=sub.note,
        started_at=sub.started_at, recorded_at=now)
    session.add(audit)
    session.flush()
    facts: list[log.NewFact] = []
    refs = []
    for item_id, photo in sub.photos:
        store.put(photo)  # before the commit: a record never names a photo that is not kept
        session.add(AuditPhoto(sha256=photo.sha256, audit_id=audit.id, item_id=item_id,
                               purpose="finding", content_type=photo.content_type,
                               size=len(photo.data), at=now))
        refs.append({"item_id": item_id, "sha256": photo.sha256})
        facts.append(log.NewFact(FactKind.PHOTO_STORED, actor, {
            "sha256": photo.sha256, "size": len(photo.data), "content_type": photo.content_type,
            "audit_id": audit.id, "item_id": item_id, "purpose": "finding"}))
    private = {"lat": sub.lat, "lon": sub.lon} if sub.lat is not None else None
    facts.append(log.NewFact(FactKind.AUDIT_RECORDED, actor, {
        "audit_id": audit.id, "shelter_id": shelter.id, "tier": sub.tier.value,
        "checklist_version": judgement.checklist_version,
        "rule_version": judgement.rule_version, "answers": dict(sub.answers),
        "category": audit.category, "failed": list(judgement.failed),
        "ghost": audit.ghost_reason, "photos": refs, "campaign_id": sub.campaign_id,
        "gps": {"accuracy_m": sub.accuracy_m, "flagged": flagged},
        "source": sub.source, "external_id": sub.external_id}, private))
    outcome = Outcome(audit=audit, judgement=judgement)
    checklist = checklists.load(judgement.checklist_version)
    facts += deficiencies.after_audit(session, outcome, checklist=checklist, actor=actor,
                                      now=now, settings=settings)
    facts += readiness_store.after_audit(session, outcome, shelter=shelter, actor=actor,
                                         now=now, evidence=refs)
    log.append_many(session, facts, now=now)
    deficiencies.route_opened(session, outcome, now=now, actor=actor)
    return outcome


def get_or_raise(session: Session, audit_id: int) -> Audit:
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFound(f"audit {audit_id} does not exist")
    return audit


def photos_of(session: Session, audit_id: int) -> list[AuditPhoto]:
    return list(session.execute(select(AuditPhoto).where(AuditPhoto.audit_id == audit_id)
                                .order_by(AuditPhoto.id)).scalars())


def public(session: Session, audit: Audit) -> dict[str, Any]:
    """An audit as `GET /v1/audits/{id}` shows it: never where the inspector stood."""
    return {
        "id": audit.id, "shelter_id": audit.shelter_id, "tier": audit.tier,
        "checklist_version": audit.checklist_version, "rule_version": audit.rule_version,
        "answers": orjson.loads(audit.answers), "category": audit.category,
        "reasons": orjson.loads(audit.reasons), "ghost": audit.ghost_reason,
        "closed_on_arrival": audit.closed_on_arrival,
        "gps": {"accuracy_m": audit.accuracy_m, "flagged": audit.gps_flagged},
        "campaign_id": audit.campaign_id, "source": audit.source,
        "started_at": readiness_store.iso(audit.started_at),
        "recorded_at": readiness_store.iso(audit.recorded_at),
        "photos": [{"item_id": p.item_id, "sha256": p.sha256, "purpose": p.purpose}
                   for p in photos_of(session, audit.id)],
        "deficiencies": deficiencies.of_audit(session, audit.id),
    }


def find_external(session: Session, source: str, external_id: str) -> Audit | None:
    """An imported submission already taken in (imports are idempotent by instance id)."""
    return session.execute(select(Audit).where(Audit.source == source,
                                               Audit.external_id == external_id)
                           ).scalar_one_or_none()
