"""Ghost shelters: in the registry with their reason and evidence, off every resident-facing
answer (ranking, pack, map), listed publicly, restored only by a later full audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.audits import readiness_store
from shelterwatch.audits.models import AuditPhoto
from shelterwatch.audits.photos import Photo, PhotoStore
from shelterwatch.errors import Conflict, InvalidInput
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.rules.readiness import GHOST_TEXT, GhostReason
from shelterwatch.shelters import service as shelters
from shelterwatch.vocabulary import FactKind, ObservationKind


def confirm_missing(session: Session, *, shelter_id: int, reason: str,
                    observation_ids: list[str], photo: Photo | None, actor: str,
                    now: datetime, store: PhotoStore) -> dict[str, Any]:
    """An auditor confirms residents' `missing` reports at this shelter: it becomes a ghost."""
    shelters.get_or_raise(session, shelter_id)
    found = {o.id: o for o in session.execute(
        select(Observation).where(Observation.id.in_(observation_ids))).scalars()}
    wrong = [i for i in observation_ids if i not in found
             or found[i].shelter_id != shelter_id or found[i].kind != ObservationKind.MISSING]
    if wrong:
        raise InvalidInput(f"observation_ids: not missing reports of shelter {shelter_id}: "
                           f"{', '.join(wrong[:10])}")
    if readiness_store.ghost_of(session, shelter_id) is not None:
        raise Conflict(f"shelter {shelter_id} is already a ghost")
    photos: list[dict[str, str]] = []
    facts: list[log.NewFact] = []
    if photo is not None:
        store.put(photo)
        session.add(AuditPhoto(sha256=photo.sha256, audit_id=None, deficiency_id=None,
                               item_id="exists", purpose="finding",
                               content_type=photo.content_type, size=len(photo.data), at=now))
        photos.append({"item_id": "exists", "sha256": photo.sha256})
        facts.append(log.NewFact(FactKind.PHOTO_STORED, actor, {
            "sha256": photo.sha256, "size": len(photo.data),
            "content_type": photo.content_type, "audit_id": None, "item_id": "exists",
            "purpose": "finding"}))
    evidence = {"audit_id": None, "photos": photos, "observations": sorted(observation_ids)}
    facts += readiness_store.ghost(session, shelter_id=shelter_id, reason=GhostReason(reason),
                                   now=now, actor=actor, evidence=evidence)
    log.append_many(session, facts, now=now)
    return {"shelter_id": shelter_id, "ghost": readiness_store.ghost_of(session, shelter_id)}


def public_list(session: Session) -> list[dict[str, Any]]:
    """The public list: which shelter, why, since when, and the evidence's references."""
    out = []
    for shelter, row in readiness_store.ghosts(session):
        reason = GhostReason(row.ghost_reason or GhostReason.DOES_NOT_EXIST)
        uk, en = GHOST_TEXT[reason]
        out.append({"shelter": shelters.feature(shelter), "reason": reason.value,
                    "reason_text": {"uk": uk, "en": en},
                    "since": readiness_store.iso(row.ghost_since),
                    "evidence": orjson.loads(row.ghost_evidence)})
    return out
