"""What an alert start sets going (DESIGN §4.1–4.2): unlock doors, ask keyholders, plan rounds.

At a national alert the start covers tens of thousands of shelters, so nothing here loads a
shelter as an object: `fanout` queues door unlocks, then check-ins, each in one `INSERT …
SELECT` (each its own short transaction in the worker, so reports never wait behind the fan-out)
and `finish_start` records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.escalation import fanout, ladder, timers
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.patrols import service as patrols
from shelterwatch.rules import dispatch, rounds
from shelterwatch.rules.escalation import unverified_at
from shelterwatch.rules.status import is_authoritative
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import (
    FactKind,
    Obligation,
    ObservationKind,
    Role,
    TaskKind,
)

ACTOR = "worker"
OPEN_KINDS = (ObservationKind.OPEN.value, ObservationKind.FORCED_OPEN.value)


def ids_in(session: Session, area_id: str) -> Select[Any]:
    """A subquery of the ids of every shelter whose area is `area_id` or lies under it."""
    return select(Shelter.id).where(Shelter.area_id.in_(areas.covered_by(session, area_id)))


def opened_since(session: Session, shelter_ids: Sequence[int] | Select[Any],
                 since: datetime) -> set[int]:
    """Shelters with an authoritative `open` (keyholder, patrol, door…) at or after `since`."""
    if isinstance(shelter_ids, Sequence) and not shelter_ids:
        return set()
    wanted = list(shelter_ids) if isinstance(shelter_ids, Sequence) else shelter_ids
    rows = session.execute(
        select(Observation.shelter_id, Observation.role).distinct()
        .where(Observation.kind.in_(OPEN_KINDS), Observation.at >= since,
               Observation.shelter_id.in_(wanted))).all()
    return {sid for sid, role in rows if _authoritative(role)}


def _authoritative(role: str) -> bool:
    try:
        return is_authoritative(Role(role))
    except ValueError:
        return False


def finish_start(session: Session, *, alert: Alert, shelters: int, asked: int,
                 settings: Settings, now: datetime) -> None:
    """Record the start's fan-out and arm the rounds for when check-ins are overdue."""
    log.append(session, kind=FactKind.ESCALATION_ALERT_STARTED, actor=ACTOR, now=now,
               payload={"alert_id": alert.id, "area_id": alert.area_id,
                        "shelters": shelters, "check_ins": asked})
    policy = ladder.policy_for_area(session, settings, alert.area_id)
    timers.arm(session, subject=f"alert:{alert.id}", kind=timers.ROUNDS,
               due_at=unverified_at(as_utc(alert.started_at), policy))


def start(session: Session, *, alert: Alert, settings: Settings, now: datetime) -> None:
    """Unlock every door controller in the area and send keyholders their check-in requests,
    all in the caller's one transaction (the worker queues each step in its own)."""
    fanout.queue_door_unlocks(session, [alert.id], now=now)
    shelters, asked = fanout.counts(session, [alert.id])[alert.id]
    fanout.queue_check_ins(session, [alert.id], now=now)
    finish_start(session, alert=alert, shelters=shelters, asked=asked, settings=settings, now=now)


def plan_rounds(session: Session, *, alert: Alert, settings: Settings, now: datetime) -> int:
    """Give free patrols `check` rounds through unverified 24/7 shelters; returns tasks made."""
    if alert.ended_at is not None:
        return 0
    started = as_utc(alert.started_at)
    always = select(Shelter.id).where(Shelter.id.in_(ids_in(session, alert.area_id)),
                                      Shelter.obligation == Obligation.ALWAYS.value)
    shelters = session.execute(select(Shelter.id, Shelter.lat, Shelter.lon)
                               .where(Shelter.id.in_(always)).order_by(Shelter.id)).all()
    checked = opened_since(session, always, started)
    past = dict(session.execute(
        select(Incident.shelter_id, func.count()).where(Incident.shelter_id.in_(always))
        .group_by(Incident.shelter_id)).all())
    density = rounds.count_nearby([(s.id, s.lat, s.lon) for s in shelters], radius_m=300.0)
    candidates = [rounds.RoundCandidate(s.id, s.lat, s.lon, past_incidents=int(past.get(s.id, 0)),
                                        checked_in=False, nearby_shelters=density.get(s.id, 0))
                  for s in shelters if s.id not in checked]
    units = [rounds.UnitStart(u.id, u.lat, u.lon) for u in patrols.states(session)
             if u.available and u.lat is not None and u.lon is not None]
    travel = dispatch.Travel(speed_mps=settings.patrol_speed_mps)
    made = 0
    plan = rounds.plan_rounds_within(units, candidates, travel=travel, max_stops=8,
                                     budget_s=settings.round_budget_s)
    for rnd in plan.rounds:
        for position, stop in enumerate(rnd.stops):
            patrols.create_task(session, key=f"alert:{alert.id}:check:{stop.shelter_id}",
                                kind=TaskKind.CHECK, shelter_id=stop.shelter_id,
                                alert_id=alert.id, unit_id=rnd.unit_id, position=position,
                                eta_s=stop.arrival_s, now=now, actor=ACTOR)
            made += 1
    log.append(session, kind=FactKind.ESCALATION_ROUNDS, actor=ACTOR, now=now,
               payload={"alert_id": alert.id, "unverified": len(candidates), "tasks": made,
                        "budget_s": settings.round_budget_s,
                        "unreachable": list(plan.unreachable)})
    return made
