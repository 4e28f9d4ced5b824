"""Rebuilding `shelter_readiness` from the log (DESIGN §3.3): categories and the ghost list.

Audits, photos, deficiencies and campaigns are primary records and stay; the projection is
folded again from `audit.recorded`, `deficiency.closed` (by a fix photo), `shelter.ghosted` and
`shelter.restored`, judged with the checklist and rule versions each audit recorded and the
registry's current kind and capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shelterwatch.audits import readiness_store
from shelterwatch.audits.models import ShelterReadiness
from shelterwatch.log.models import Fact
from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import ShelterRecord, Tier
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind

KINDS = (FactKind.AUDIT_RECORDED, FactKind.DEFICIENCY_CLOSED, FactKind.SHELTER_GHOSTED,
         FactKind.SHELTER_RESTORED)


@dataclass(slots=True)
class _State:
    record: ShelterRecord = field(default_factory=ShelterRecord)
    rule_version: str = ""
    audited_at: datetime | None = None
    full_audited_at: datetime | None = None
    ghost: dict[str, Any] | None = None
    ghost_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rebuilt:
    facts: int
    shelters: int
    ghosts: int
    mismatches: list[int]  # shelters whose stored readiness the log did not reproduce


def _fold(session: Session) -> tuple[dict[int, _State], int]:
    states: dict[int, _State] = {}
    count = 0
    rows = session.execute(select(Fact.kind, Fact.at, Fact.payload).where(Fact.kind.in_(KINDS))
                           .order_by(Fact.seq)).all()
    for kind, at, payload_json in rows:
        count += 1
        p = orjson.loads(payload_json)
        state = states.setdefault(int(p["shelter_id"]), _State())
        if kind == FactKind.AUDIT_RECORDED:
            tier = Tier(p["tier"])
            state.record = readiness.after_audit(
                state.record, audit_id=int(p["audit_id"]), tier=tier, answers=p["answers"],
                checklist_version=p["checklist_version"], at=at.isoformat())
            if tier is Tier.FULL or not state.rule_version:
                state.rule_version = p["rule_version"]
            state.audited_at = at
            if tier is Tier.FULL:
                state.full_audited_at = at
        elif kind == FactKind.DEFICIENCY_CLOSED and p.get("how") == "fix_photo":
            state.record = readiness.after_fix(state.record, p["item_id"])
        elif kind == FactKind.SHELTER_GHOSTED:
            state.ghost, state.ghost_since = {"reason": p["reason"],
                                              "evidence": p["evidence"]}, at
        elif kind == FactKind.SHELTER_RESTORED:
            state.ghost, state.ghost_since = None, None
    return states, count


def rebuild(session: Session) -> Rebuilt:
    """Fold the log into `shelter_readiness` again; name the shelters that came out different."""
    states, count = _fold(session)
    before = {r.shelter_id: (r.category, orjson.loads(r.reasons), r.ghost_reason)
              for r in session.execute(select(ShelterReadiness)).scalars()}
    session.execute(delete(ShelterReadiness))
    shelters = {s.id: s for s in session.execute(
        select(Shelter).where(Shelter.id.in_(sorted(states)))).scalars()} if states else {}
    mismatches = []
    for sid, state in sorted(states.items()):
        shelter = shelters.get(sid)
        if shelter is None:
            continue
        judged = readiness_store.judged(state.record, state.rule_version or "worst-of/1",
                                        shelter)
        row = ShelterReadiness(
            shelter_id=sid, category=judged.category.value if judged.category else None,
            reasons=orjson.dumps([r.public() for r in judged.reasons]).decode(),
            answers=orjson.dumps(state.record.answers).decode(),
            full_seen=state.record.full_seen,
            checklist_version=state.record.checklist_version, rule_version=state.rule_version,
            audited_at=state.audited_at, full_audited_at=state.full_audited_at,
            last_audit_id=state.record.last_audit_id,
            ghost_reason=state.ghost["reason"] if state.ghost else None,
            ghost_since=state.ghost_since,
            ghost_evidence=orjson.dumps(state.ghost["evidence"] if state.ghost else {}).decode())
        session.add(row)
        now = (row.category, orjson.loads(row.reasons), row.ghost_reason)
        if before.get(sid) != now:
            mismatches.append(sid)
    mismatches += [sid for sid in before if sid not in states]
    session.flush()
    return Rebuilt(facts=count, shelters=len(states),
                   ghosts=sum(1 for s in states.values() if s.ghost), mismatches=mismatches)
