"""Deficiencies: every failed item, with a deadline, routed to the shelter's owner.

A later full audit that finds the item passing closes it; otherwise only a photo of the fix does,
and the shelter's category recomputes at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.audits import readiness_store
from shelterwatch.audits.models import AuditPhoto, Deficiency
from shelterwatch.audits.photos import Photo, PhotoStore
from shelterwatch.config import Settings
from shelterwatch.errors import Conflict, Forbidden, NotFound
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.outbox import service as outbox
from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import Severity, Tier
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Noun, Role, Subject

if TYPE_CHECKING:
    from shelterwatch.audits.service import Outcome

OPEN, CLOSED = "open", "closed"
STEP = "deficiency_opened"


def deadline_days(settings: Settings, severity: Severity) -> int:
    return {Severity.CRITICAL: settings.deficiency_days_critical,
            Severity.MAJOR: settings.deficiency_days_major,
            Severity.MINOR: settings.deficiency_days_minor}[severity]


def open_of_shelter(session: Session, shelter_id: int) -> list[Deficiency]:
    return list(session.execute(select(Deficiency).where(
        Deficiency.shelter_id == shelter_id, Deficiency.state == OPEN)
        .order_by(Deficiency.id)).scalars())


def after_audit(session: Session, outcome: Outcome, *, checklist: readiness.Checklist,
                actor: str, now: datetime, settings: Settings) -> list[log.NewFact]:
    """Open a deficiency for each new fail; a full audit closes those it finds fixed."""
    audit = outcome.audit
    failed = {r.item_id: r for r in readiness.deficiency_items(checklist, outcome.judgement)}
    facts: list[log.NewFact] = []
    existing = {d.item_id: d for d in open_of_shelter(session, audit.shelter_id)}
    if Tier(audit.tier) is Tier.FULL and outcome.judgement.ghost is None:
        for item_id, d in existing.items():
            if item_id not in failed:
                d.state, d.closed_at, d.closed_how = CLOSED, now, "reaudit"
                outcome.closed.append(d.id)
                facts.append(log.NewFact(FactKind.DEFICIENCY_CLOSED, actor, {
                    "deficiency_id": d.id, "shelter_id": d.shelter_id, "item_id": item_id,
                    "how": "reaudit", "audit_id": audit.id, "photo_sha256": None}))
    for item_id, reason in failed.items():
        if item_id in existing:
            continue
        d = Deficiency(shelter_id=audit.shelter_id, audit_id=audit.id, item_id=item_id,
                       severity=reason.severity.value, state=OPEN, opened_at=now,
                       deadline=now + timedelta(days=deadline_days(settings, reason.severity)))
        session.add(d)
        session.flush()
        outcome.opened.append(d.id)
        facts.append(log.NewFact(FactKind.DEFICIENCY_OPENED, actor, {
            "deficiency_id": d.id, "shelter_id": d.shelter_id, "audit_id": audit.id,
            "item_id": item_id, "severity": d.severity, "deadline": d.deadline.isoformat()}))
    return facts


def route_opened(session: Session, outcome: Outcome, *, now: datetime, actor: str) -> int:
    """Tell the owner, on each of their channels, what failed and by when it must be fixed."""
    if not outcome.opened:
        return 0
    rows = session.execute(select(Deficiency).where(Deficiency.id.in_(outcome.opened))).scalars()
    found = [f"{d.item_id} ({d.severity}, by {d.deadline.date().isoformat()})" for d in rows]
    shelter_id = outcome.audit.shelter_id
    subject = f"{Subject(Noun.SHELTER, shelter_id)}:audit:{outcome.audit.id}"
    queued = 0
    for person in keyholders.owner_addresses(session, shelter_id):
        outbox.enqueue(session, outbox.Outgoing(
            subject=subject, step=STEP, recipient=person.recipient, channel=person.channel,
            address=person.address, title=f"Audit of shelter #{shelter_id}: "
                                          f"{len(found)} deficiencies",
            body=("An inspection found these items failing: " + "; ".join(found)
                  + ". Close each with a photo of the fix before its deadline."),
            data={"shelter_id": shelter_id, "audit_id": outcome.audit.id,
                  "deficiencies": outcome.opened, "event": STEP}), now=now, actor=actor)
        queued += 1
    return queued


def close(session: Session, *, deficiency_id: int, photo: Photo, role: Role,
          bound: frozenset[int], actor: str, now: datetime, store: PhotoStore) -> Deficiency:
    """Close a deficiency with a photo of the fix; the shelter's category recomputes."""
    d = session.get(Deficiency, deficiency_id)
    if d is None:
        raise NotFound(f"deficiency {deficiency_id} does not exist")
    if role is Role.OWNER and d.shelter_id not in bound:
        raise Forbidden(f"deficiency {deficiency_id} is at a shelter this owner does not keep")
    if d.state != OPEN:
        raise Conflict(f"deficiency {deficiency_id} was already closed "
                       f"({d.closed_how}, {d.closed_at.isoformat() if d.closed_at else ''})")
    store.put(photo)
    d.state, d.closed_at, d.closed_how, d.fix_photo = CLOSED, now, "fix_photo", photo.sha256
    session.add(AuditPhoto(sha256=photo.sha256, audit_id=None, deficiency_id=d.id,
                           item_id=d.item_id, purpose="fix", content_type=photo.content_type,
                           size=len(photo.data), at=now))
    shelter = session.get(Shelter, d.shelter_id)
    assert shelter is not None
    facts = [log.NewFact(FactKind.PHOTO_STORED, actor, {
                 "sha256": photo.sha256, "size": len(photo.data),
                 "content_type": photo.content_type, "audit_id": None,
                 "deficiency_id": d.id, "item_id": d.item_id, "purpose": "fix"}),
             log.NewFact(FactKind.DEFICIENCY_CLOSED, actor, {
                 "deficiency_id": d.id, "shelter_id": d.shelter_id, "item_id": d.item_id,
                 "how": "fix_photo", "audit_id": None, "photo_sha256": photo.sha256})]
    facts += readiness_store.after_fix(session, shelter=shelter, item_id=d.item_id, actor=actor)
    log.append_many(session, facts, now=now)
    return d


def public(d: Deficiency) -> dict[str, Any]:
    return {"id": d.id, "shelter_id": d.shelter_id, "audit_id": d.audit_id,
            "item_id": d.item_id, "severity": d.severity, "state": d.state,
            "opened_at": readiness_store.iso(d.opened_at),
            "deadline": readiness_store.iso(d.deadline),
            "closed_at": readiness_store.iso(d.closed_at),
            "closed_how": d.closed_how, "fix_photo": d.fix_photo}


def of_audit(session: Session, audit_id: int) -> list[dict[str, Any]]:
    return [public(d) for d in session.execute(
        select(Deficiency).where(Deficiency.audit_id == audit_id).order_by(Deficiency.id)
    ).scalars()]


def open_for(session: Session, shelter_ids: list[int], *, now: datetime) -> list[dict[str, Any]]:
    """The open deficiencies at these shelters, overdue first (the owners' view)."""
    rows = session.execute(select(Deficiency).where(
        Deficiency.shelter_id.in_(shelter_ids), Deficiency.state == OPEN)
        .order_by(Deficiency.deadline, Deficiency.id)).scalars()
    return [{**public(d), "overdue": readiness_store.aware(d.deadline) < now} for d in rows]


def open_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Deficiency)
                               .where(Deficiency.state == OPEN)).scalar_one())


def shelters_with_open(session: Session) -> list[int]:
    return list(session.execute(select(Deficiency.shelter_id).where(Deficiency.state == OPEN)
                                .distinct().order_by(Deficiency.shelter_id)).scalars())
