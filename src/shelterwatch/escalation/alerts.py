"""What an alert start sets going (DESIGN §4.1–4.2): unlock doors, ask keyholders, plan rounds.

At a national alert the start covers tens of thousands of shelters, so it is planned in a few
set-based reads (no shelter is loaded as an object) and queued in set-based inserts, door
unlocks first: `plan_start` reads, the caller queues the plan's chunks (each its own short
transaction in the worker, so reports never wait behind the fan-out) and `finish_start` records it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.doors.models import DoorController
from shelterwatch.escalation import ladder, notices, timers
from shelterwatch.incidents.models import Incident
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.outbox import service as outbox
from shelterwatch.patrols import service as patrols
from shelterwatch.rules import dispatch, rounds
from shelterwatch.rules.escalation import needs_check_in, unverified_at
from shelterwatch.rules.status import is_authoritative
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import (
    FactKind,
    Noun,
    Obligation,
    ObservationKind,
    Role,
    Subject,
    TaskKind,
)

ACTOR = "worker"
OPEN_KINDS = (ObservationKind.OPEN.value, ObservationKind.FORCED_OPEN.value)
CHUNK = 1000  # deliveries queued per transaction: each holds the log's lock for milliseconds


def ids_in(session: Session, area_id: str) -> Select[Any]:
    """A subquery of the ids of every shelter whose area is `area_id` or lies under it."""
    return select(Shelter.id).where(Shelter.area_id.in_(areas.covered_by(session, area_id)))


def shelters_in(session: Session, area_id: str) -> list[Shelter]:
    """Every shelter whose area is `area_id` or lies under it."""
    return list(session.execute(
        select(Shelter).where(Shelter.id.in_(ids_in(session, area_id))).order_by(Shelter.id)
    ).scalars())


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


@dataclass(frozen=True, slots=True)
class StartPlan:
    """Everything an alert's start queues: door commands first, then check-in requests."""

    shelters: int
    doors: list[outbox.Outgoing]
    check_ins: list[outbox.Outgoing]
    asked: int  # shelters whose keyholders are asked to check in

    def chunks(self, size: int | None = None) -> Iterator[list[outbox.Outgoing]]:
        """The deliveries in queueing order, door unlocks alone in the first chunk."""
        if self.doors:
            yield self.doors
        size = size or CHUNK
        for start in range(0, len(self.check_ins), size):
            yield self.check_ins[start:start + size]


def plan_start(session: Session, *, alert: Alert, settings: Settings,
               now: datetime) -> StartPlan:
    """Read, in a handful of set-based queries, what the start of `alert` must queue."""
    started = as_utc(alert.started_at)
    in_area = ids_in(session, alert.area_id)
    subject = str(Subject(Noun.ALERT, alert.id))
    total = session.execute(select(func.count()).select_from(in_area.subquery())).scalar_one()
    door_commands = [doors.unlock_command(sid, subject=subject, step="unlock",
                                          why=f"alert {alert.id} started")
        for sid in session.execute(
            select(DoorController.shelter_id).where(DoorController.shelter_id.in_(in_area))
            .order_by(DoorController.shelter_id)).scalars()]
    always = select(Shelter.id).where(Shelter.id.in_(in_area),
                                      Shelter.obligation == Obligation.ALWAYS.value)
    addresses = dict(session.execute(
        select(Shelter.id, Shelter.address).where(Shelter.id.in_(always))).all())
    already_open = opened_since(session, always, started)
    check_ins: list[outbox.Outgoing] = []
    asked: set[int] = set()
    for shelter_id, person in keyholders.addresses_in(session, always):
        if not needs_check_in(
                obligation_24_7=True,
                last_authoritative_open=started if shelter_id in already_open else None,
                alert_started_at=started):
            continue
        asked.add(shelter_id)
        notice = notices.check_in(where=addresses.get(shelter_id, f"#{shelter_id}"))
        check_ins.append(outbox.Outgoing(
            subject=f"{subject}:{Subject(Noun.SHELTER, shelter_id)}", step="check_in",
            recipient=person.recipient, channel=person.channel, address=person.address,
            title=notice.title, body=notice.body,
            link=notices.check_in_link(settings, keyholder_id=Subject.head(person.recipient).number,
                                       shelter_id=shelter_id, now=now),
            data={"alert": alert.id, "shelter_id": shelter_id, "event": "check_in"},
            priority=outbox.Priority.ESCALATION))
    return StartPlan(shelters=total, doors=door_commands, check_ins=check_ins, asked=len(asked))


def queue_chunk(session: Session, chunk: Sequence[outbox.Outgoing], *, now: datetime) -> int:
    """Queue one chunk of a start's plan in set-based inserts, one log fact per alert and step
    (a broadcast: how many, on which channels); returns how many were new."""
    groups: dict[tuple[str, str], list[outbox.Outgoing]] = {}
    for item in chunk:
        alert_subject = str(Subject.head(item.subject))  # "alert:5:shelter:88" → "alert:5"
        groups.setdefault((alert_subject, item.step), []).append(item)
    return sum(outbox.enqueue_many(session, items, now=now, actor=ACTOR, subject=subject,
                                   step=step) for (subject, step), items in groups.items())


def finish_start(session: Session, *, alert: Alert, plan: StartPlan, settings: Settings,
                 now: datetime) -> None:
    """Record the start's fan-out and arm the rounds for when check-ins are overdue."""
    log.append(session, kind=FactKind.ESCALATION_ALERT_STARTED, actor=ACTOR, now=now,
               payload={"alert_id": alert.id, "area_id": alert.area_id,
                        "shelters": plan.shelters, "check_ins": plan.asked})
    policy = ladder.policy_for_area(session, settings, alert.area_id)
    timers.arm(session, subject=f"alert:{alert.id}", kind=timers.ROUNDS,
               due_at=unverified_at(as_utc(alert.started_at), policy))


def start(session: Session, *, alert: Alert, settings: Settings, now: datetime) -> None:
    """Unlock every door controller in the area and send keyholders their check-in requests,
    all in the caller's one transaction (the worker queues the same plan in chunks)."""
    plan = plan_start(session, alert=alert, settings=settings, now=now)
    for chunk in plan.chunks():
        queue_chunk(session, chunk, now=now)
    finish_start(session, alert=alert, plan=plan, settings=settings, now=now)


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
