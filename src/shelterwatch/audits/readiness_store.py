"""Each shelter's readiness now and its ghost mark: the `shelter_readiness` projection.

The projection is the fold of the audit facts (`rules.readiness.after_audit` / `after_fix`), kept
in step in the same transaction as the facts that move it; `shelterwatch rebuild` folds the log
again and must arrive at the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.audits import checklist as checklists
from shelterwatch.audits.models import ShelterReadiness
from shelterwatch.log import service as log
from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import ShelterRecord, Tier
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Readiness

if TYPE_CHECKING:
    from shelterwatch.audits.service import Outcome


def aware(at: datetime) -> datetime:
    """A stored time in UTC with its offset: SQLite hands them back without one."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def iso(at: datetime | None) -> str | None:
    return None if at is None else aware(at).isoformat()


def record_of(row: ShelterReadiness | None) -> ShelterRecord:
    if row is None:
        return ShelterRecord()
    return ShelterRecord(answers=orjson.loads(row.answers), full_seen=row.full_seen,
                         checklist_version=row.checklist_version,
                         audited_at=iso(row.audited_at),
                         last_audit_id=row.last_audit_id)


def public_of(row: ShelterReadiness | None) -> dict[str, Any]:
    """The `readiness` property of a public shelter."""
    if row is None:
        return dict(readiness.UNAUDITED)
    return {"category": row.category, "reasons": orjson.loads(row.reasons),
            "audited_at": iso(row.audited_at),
            "rule_version": row.rule_version or None,
            "checklist_version": row.checklist_version or None}


def judged(record: ShelterRecord, rule_version: str, shelter: Any) -> readiness.Judgement:
    checklist = checklists.load(record.checklist_version or checklists.CURRENT)
    return readiness.current(checklist, checklists.rule(rule_version), record,
                             kind=shelter.kind, capacity=shelter.capacity)


def _store(row: ShelterReadiness, record: ShelterRecord, judgement: readiness.Judgement,
           rule_version: str) -> None:
    row.answers = orjson.dumps(record.answers).decode()
    row.full_seen = record.full_seen
    row.checklist_version = record.checklist_version
    row.rule_version = rule_version
    row.category = judgement.category.value if judgement.category else None
    row.reasons = orjson.dumps([r.public() for r in judgement.reasons]).decode()
    row.last_audit_id = record.last_audit_id


def _changed(session: Session, row: ShelterReadiness, before: Mapping[str, Any],
             actor: str) -> list[log.NewFact]:
    after = public_of(row)
    if after == before:
        return []
    return [log.NewFact(FactKind.READINESS_CHANGED, actor,
                        {"shelter_id": row.shelter_id, "readiness": after})]


def _row(session: Session, shelter_id: int) -> tuple[ShelterReadiness, dict[str, Any]]:
    row = session.get(ShelterReadiness, shelter_id)
    if row is None:
        row = ShelterReadiness(shelter_id=shelter_id, reasons="[]", answers="{}",
                               full_seen=False, checklist_version="", rule_version="",
                               ghost_evidence="{}")
        session.add(row)
        return row, dict(readiness.UNAUDITED)
    return row, public_of(row)


def after_audit(session: Session, outcome: Outcome, *, shelter: Shelter, actor: str,
                now: datetime, evidence: list[dict[str, str]]) -> list[log.NewFact]:
    """Fold one audit into the shelter's readiness; the facts that say what changed."""
    audit, judgement = outcome.audit, outcome.judgement
    row, before = _row(session, shelter.id)
    tier = Tier(audit.tier)
    record = readiness.after_audit(record_of(row), audit_id=audit.id, tier=tier,
                                   answers=orjson.loads(audit.answers),
                                   checklist_version=audit.checklist_version,
                                   at=now.isoformat())
    rule_version = (audit.rule_version if tier is Tier.FULL or not row.rule_version
                    else row.rule_version)
    _store(row, record, judged(record, rule_version, shelter), rule_version)
    row.audited_at = now
    if tier is Tier.FULL:
        row.full_audited_at = now
    facts = _changed(session, row, before, actor)
    if judgement.ghost is not None and row.ghost_reason is None:
        proof = {"audit_id": audit.id, "photos": evidence, "observations": []}
        row.ghost_reason, row.ghost_since = judgement.ghost.value, now
        row.ghost_evidence = orjson.dumps(proof).decode()
        outcome.ghosted = True
        facts.append(log.NewFact(FactKind.SHELTER_GHOSTED, actor, {
            "shelter_id": shelter.id, "reason": row.ghost_reason, "audit_id": audit.id,
            "evidence": proof}))
    elif tier is Tier.FULL and judgement.ghost is None and row.ghost_reason is not None:
        row.ghost_reason, row.ghost_since, row.ghost_evidence = None, None, "{}"
        outcome.restored = True
        facts.append(log.NewFact(FactKind.SHELTER_RESTORED, actor,
                                 {"shelter_id": shelter.id, "audit_id": audit.id}))
    session.flush()
    return facts


def after_fix(session: Session, *, shelter: Shelter, item_id: str,
              actor: str) -> list[log.NewFact]:
    """A deficiency of this item was closed: the category recomputes."""
    row, before = _row(session, shelter.id)
    record = readiness.after_fix(record_of(row), item_id)
    _store(row, record, judged(record, row.rule_version or "worst-of/1", shelter),
           row.rule_version or "worst-of/1")
    session.flush()
    return _changed(session, row, before, actor)


def ghost(session: Session, *, shelter_id: int, reason: readiness.GhostReason, now: datetime,
          actor: str, evidence: Mapping[str, Any]) -> list[log.NewFact]:
    """Residents' `missing` reports confirmed by an auditor: off every resident-facing answer."""
    row, _ = _row(session, shelter_id)
    if row.ghost_reason is not None:
        return []
    row.ghost_reason, row.ghost_since = reason.value, now
    row.ghost_evidence = orjson.dumps(dict(evidence)).decode()
    session.flush()
    return [log.NewFact(FactKind.SHELTER_GHOSTED, actor, {
        "shelter_id": shelter_id, "reason": reason.value, "audit_id": None,
        "evidence": dict(evidence)})]


def readiness_by_shelter(session: Session) -> dict[int, dict[str, Any]]:
    """Every audited shelter's public readiness (set-based: one query; for loads, not requests)."""
    return {row.shelter_id: public_of(row)
            for row in session.execute(select(ShelterReadiness)).scalars()}


def public_readiness(session: Session, shelter_id: int) -> dict[str, Any]:
    return public_of(session.get(ShelterReadiness, shelter_id))


def ghost_ids(session: Session) -> frozenset[int]:
    return frozenset(session.execute(select(ShelterReadiness.shelter_id).where(
        ShelterReadiness.ghost_reason.is_not(None))).scalars())


def not_ready_ids(session: Session) -> frozenset[int]:
    return frozenset(session.execute(select(ShelterReadiness.shelter_id).where(
        ShelterReadiness.category == Readiness.NOT_READY.value,
        ShelterReadiness.ghost_reason.is_(None))).scalars())


def ghost_of(session: Session, shelter_id: int) -> dict[str, Any] | None:
    row = session.get(ShelterReadiness, shelter_id)
    if row is None or row.ghost_reason is None:
        return None
    return {"reason": row.ghost_reason,
            "since": iso(row.ghost_since),
            "evidence": orjson.loads(row.ghost_evidence)}


def ghosts(session: Session) -> list[tuple[Shelter, ShelterReadiness]]:
    """Every ghost with its registry entry, newest first (the public list)."""
    return [(s, r) for s, r in session.execute(
        select(Shelter, ShelterReadiness).join(ShelterReadiness,
                                               ShelterReadiness.shelter_id == Shelter.id)
        .where(ShelterReadiness.ghost_reason.is_not(None))
        .order_by(ShelterReadiness.ghost_since.desc(), Shelter.id)).all()]
