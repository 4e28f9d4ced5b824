"""The audits' accountability figures: the ghost rate and audit freshness, set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from shelterwatch.audits.models import ShelterReadiness
from shelterwatch.shelters.models import Shelter

FRESH = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class AuditCounts:
    shelters: int  # in the scope
    audited: int  # with a full audit, ever
    ghosts: int
    fresh: int  # audited (any tier) in the last 90 days


def counts(session: Session, *, now: datetime, area_ids: Sequence[str] | None = None,
           shelter_ids: Sequence[int] | None = None) -> AuditCounts:
    """One query over the registry joined to the readiness projection."""
    query = select(
        func.count(Shelter.id),
        func.coalesce(func.sum(case((ShelterReadiness.full_seen.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((ShelterReadiness.ghost_reason.is_not(None), 1),
                                    else_=0)), 0),
        func.coalesce(func.sum(case((ShelterReadiness.audited_at >= now - FRESH, 1),
                                    else_=0).cast(Integer)), 0),
    ).select_from(Shelter).outerjoin(ShelterReadiness,
                                     ShelterReadiness.shelter_id == Shelter.id)
    if area_ids is not None:
        query = query.where(Shelter.area_id.in_(area_ids))
    if shelter_ids is not None:
        query = query.where(Shelter.id.in_(shelter_ids))
    total, audited, ghosts, fresh = session.execute(query).one()
    return AuditCounts(int(total), int(audited), int(ghosts), int(fresh))


def ghost_rate(c: AuditCounts) -> float | None:
    """Ghosts among shelters given a full audit; None before any audit."""
    return round(c.ghosts / c.audited, 4) if c.audited else None


def freshness(c: AuditCounts) -> float | None:
    """Share of the scope's shelters audited in the last 90 days; None before any audit."""
    return round(c.fresh / c.shelters, 4) if c.audited and c.shelters else None
