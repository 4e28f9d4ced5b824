"""The surge detector's list and one-click quarantine of a source's evidence (operator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import ReadSession, SettingsDep, WriteSession, require_role
from shelterwatch.log import chain
from shelterwatch.sources import service as sources
from shelterwatch.sources.schemas import (
    FlaggedSource,
    FlaggedSources,
    QuarantineIn,
    QuarantineOutcome,
)
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["sources"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]
SourceKey = Annotated[str, Path(max_length=64, pattern=r"^[a-z]:[0-9a-f]{8,60}$",
                                description="a source key as the flagged list shows it")]


@router.get("/v1/sources/flagged", summary="Sources whose reports look like a flood (operator)")
def flagged(actor: Operator, session: ReadSession, settings: SettingsDep) -> FlaggedSources:
    now = utcnow()
    return FlaggedSources(now=chain.format_at(now), sources=[
        FlaggedSource(**sources.public(f))
        for f in sources.flagged(session, settings=settings, now=now)])


@router.post("/v1/sources/{source}/quarantine",
             summary="Set a source's evidence aside and re-derive what it moved (operator)")
def quarantine(source: SourceKey, actor: Operator, session: WriteSession,
               body: QuarantineIn | None = None) -> QuarantineOutcome:
    outcome = sources.quarantine(session, source=source, reason=body.reason if body else "",
                                 actor=actor.label, now=utcnow())
    session.commit()
    return _view(outcome)


@router.post("/v1/sources/{source}/release",
             summary="Put a quarantined source's evidence back (operator)")
def release(source: SourceKey, actor: Operator, session: WriteSession) -> QuarantineOutcome:
    outcome = sources.release(session, source=source, actor=actor.label, now=utcnow())
    session.commit()
    return _view(outcome)


def _view(outcome: sources.Outcome) -> QuarantineOutcome:
    return QuarantineOutcome(source=outcome.source, quarantined=outcome.quarantined,
                             shelter_ids=outcome.shelters, changed=outcome.changed,
                             closed_incidents=outcome.closed)
