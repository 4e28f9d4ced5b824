"""Letting time pass over statuses: residents' reports fade, an authority's word expires.

A status is re-derived whenever evidence arrives; without new evidence it still changes with
time (a lone `locked` report an hour old no longer makes a door "reported locked"). The worker
calls `stale` on a read snapshot every `status_refresh_s`, then `refresh` in a short write
transaction for the few shelters whose status would change, so the log's write lock is held for
those alone and never for a scan of the city.

Only a shelter whose status, reasons or confidence band would change gets a `status.changed`
fact (trigger `refresh`); confidence drifting within its band is not news, and is left as it was
until the next real change — which is exactly what a rebuild reproduces, since it re-derives at
each such fact.
The only status that cannot change with time is the resting one ("unknown: nobody has checked
yet", no evidence left within the horizon), so those rows are never looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.log import service as log
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.rules import status as rules
from shelterwatch.rules.status_record import reasons_json
from shelterwatch.vocabulary import Status


def _would_change(session: Session, row: ShelterStatus, now: datetime,
                  policy: rules.StatusPolicy) -> bool:
    derived = rules.derive(
        observations.evidence(session, shelter_id=row.shelter_id, now=now, policy=policy),
        now=as_utc(now), policy=policy)
    return derived.identity != observations.stored_identity(row)


def stale(session: Session, *, now: datetime,
          policy: rules.StatusPolicy = rules.DEFAULT_POLICY) -> list[int]:
    """Shelters whose status would be another if derived at `now` (its code, reasons or band)."""
    resting = reasons_json(rules.derive([], now=as_utc(now), policy=policy).reasons)
    rows = session.execute(
        select(ShelterStatus).where(or_(ShelterStatus.status != Status.UNKNOWN.value,
                                        ShelterStatus.reasons != resting))
        .order_by(ShelterStatus.shelter_id)
    ).scalars().all()
    return [row.shelter_id for row in rows if _would_change(session, row, now, policy)]


def refresh(session: Session, *, shelter_ids: Iterable[int], now: datetime,
            actor: str = "worker", policy: rules.StatusPolicy = rules.DEFAULT_POLICY
            ) -> list[int]:
    """Re-derive these shelters at `now` under the log's lock; returns those that changed.

    Each is checked again after the lock is taken, so two workers (or a report arriving in
    between) never produce the same change twice.
    """
    log.lock(session)
    changed: list[int] = []
    for shelter_id in shelter_ids:
        row = session.get(ShelterStatus, shelter_id, populate_existing=True)
        if row is None or not _would_change(session, row, now, policy):
            continue
        result = observations.evaluate(session, shelter_id=shelter_id, now=now, seq=None,
                                       actor=actor, trigger=observations.REFRESH_TRIGGER,
                                       policy=policy)
        if result.changed:
            changed.append(shelter_id)
    return changed
