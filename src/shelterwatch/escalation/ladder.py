"""Taking the due rungs of an incident's ladder: notifications, a patrol task, door unlock.

Each rung is recorded once (a `StepTaken` row and an `escalation.step` fact) in the same
transaction as the deliveries and tasks it creates, so a worker killed mid-ladder either did a
rung completely or not at all, and the outbox's unique keys stop any message going out twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.errors import Conflict
from shelterwatch.escalation import notices
from shelterwatch.escalation.models import StepTaken
from shelterwatch.incidents.models import Incident
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.outbox import service as outbox
from shelterwatch.patrols import service as patrols
from shelterwatch.patrols.models import Task
from shelterwatch.rules import dispatch
from shelterwatch.rules.escalation import (
    EscalationPolicy,
    IncidentFacts,
    Step,
    plan_next_step,
    policy_for,
)
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Noun, ObservationKind, Resolution, Subject, TaskKind

ACTOR = "worker"


def base_policy(settings: Settings) -> EscalationPolicy:
    return EscalationPolicy(
        keyholder_after_s=settings.escalation_keyholder_after_s,
        patrol_after_s=settings.escalation_patrol_after_s,
        operator_after_s=settings.escalation_operator_after_s,
        check_in_grace_s=settings.escalation_check_in_grace_s,
    )


def policy_for_area(session: Session, settings: Settings, area_id: str) -> EscalationPolicy:
    """The city's ladder for an area: defaults, then overrides from the widest area down."""
    return policy_for(areas.ancestors_of(session, area_id), base=base_policy(settings),
                      overrides={a: o.changes() for a, o in
                                 settings.escalation_overrides.items()})


def steps_taken(session: Session, incident_id: int) -> frozenset[Step]:
    return frozenset(Step(s) for s in session.execute(
        select(StepTaken.step).where(StepTaken.incident_id == incident_id)).scalars())


def facts_of(session: Session, incident: Incident) -> IncidentFacts:
    door = doors.get(session, incident.shelter_id)
    return IncidentFacts(
        opened_at=as_utc(incident.opened_at),
        during_alert=incident.alert_id is not None,
        has_door_controller=door is not None,
        resolved=incident.resolved_at is not None,
        keyholder_open=incident.resolution == Resolution.OPENED_BY_KEYHOLDER.value,
        patrol_task_open=patrols.has_open_task(session, incident.id),
        steps_done=steps_taken(session, incident.id),
    )


def advance(session: Session, *, incident: Incident, settings: Settings,
            now: datetime) -> datetime | None:
    """Take every rung due now; returns when the next one falls due (None: ladder finished)."""
    policy = policy_for_area(session, settings, incident.area_id)
    plan = plan_next_step(facts_of(session, incident), policy, now)
    for step in plan.due:
        take_step(session, incident=incident, step=step, settings=settings, now=now)
    return plan.next_at


def _record(session: Session, incident: Incident, step: Step, now: datetime, actor: str,
            **extra: object) -> None:
    if step is not Step.CANCEL_PATROL_TASK:
        session.add(StepTaken(incident_id=incident.id, step=step.value, at=now))
        session.flush()
    # A rung's facts go in at the commit (log.append_later): the log's lock is not held while
    # the rung queues its messages and chooses a patrol.
    log.append_later(session, [log.NewFact(
        FactKind.ESCALATION_STEP, actor,
        {"incident_id": incident.id, "tracking_id": incident.tracking_id,
         "shelter_id": incident.shelter_id, "step": step.value, **extra})], now=now)


def _dispatch(session: Session, *, incident: Incident, shelter: Shelter | None, key: str,
              settings: Settings, now: datetime, actor: str) -> Task:
    """An `open_locked` task for the available unit nearest by travel time (or for anyone)."""
    unit_id, eta = None, None
    if shelter is not None:
        choice = dispatch.choose_unit(
            patrols.states(session), lat=shelter.lat, lon=shelter.lon, now=now,
            travel=dispatch.Travel(speed_mps=settings.patrol_speed_mps))
        if choice is not None:
            unit_id, eta = choice.unit_id, choice.travel_s
    return patrols.create_task(session, key=key, kind=TaskKind.OPEN_LOCKED,
                               shelter_id=incident.shelter_id, incident_id=incident.id,
                               alert_id=incident.alert_id, unit_id=unit_id, eta_s=eta, now=now,
                               actor=actor)


def dispatch_now(session: Session, *, incident: Incident, settings: Settings, now: datetime,
                 actor: str) -> Task:
    """The operator's "dispatch now": the case's live task, or a new one when none is live.

    A task called off earlier (the keyholder said open, then residents say locked again) stays
    in the record as it was; the new dispatch is a task of its own with its own key.
    """
    if incident.resolved_at is not None:
        raise Conflict(f"case {incident.tracking_id} is closed ({incident.resolution}); "
                       "there is nothing to dispatch to")
    tasks = patrols.tasks_for_incident(session, incident.id, kind=TaskKind.OPEN_LOCKED)
    live = next((t for t in tasks if t.state in (patrols.OPEN, patrols.TAKEN)), None)
    if live is not None:
        return live
    key = f"{Subject(Noun.INCIDENT, incident.id)}:open_locked"
    key += f":{len(tasks) + 1}" if tasks else ""
    task = _dispatch(session, incident=incident, shelter=session.get(Shelter, incident.shelter_id),
                     key=key, settings=settings, now=now, actor=actor)
    if Step.DISPATCH_PATROL not in steps_taken(session, incident.id):
        _record(session, incident, Step.DISPATCH_PATROL, now, actor, task_id=task.id,
                unit_id=task.unit_id)
    return task


def take_step(session: Session, *, incident: Incident, step: Step, settings: Settings,
              now: datetime, actor: str = ACTOR) -> None:
    """Take one rung now, whatever its delay: the worker when due, an operator on demand."""
    shelter = session.get(Shelter, incident.shelter_id)
    where = shelter.address if shelter else f"#{incident.shelter_id}"
    subject = str(Subject(Noun.INCIDENT, incident.id))
    if step is Step.UNLOCK_DOOR:
        outbox.enqueue(session, doors.unlock_command(
            incident.shelter_id, subject=subject, step=step.value,
            why=f"reported locked ({incident.tracking_id})"), now=now, actor=actor)
        _record(session, incident, step, now, actor)
    elif step in (Step.NOTIFY_KEYHOLDERS, Step.NOTIFY_OWNER):
        people = (keyholders.keyholder_addresses(session, incident.shelter_id)
                  if step is Step.NOTIFY_KEYHOLDERS
                  else keyholders.owner_addresses(session, incident.shelter_id))
        for person in people:
            link = None
            who = Subject.head(person.recipient)
            if who.noun is Noun.KEYHOLDER:
                link = notices.check_in_link(settings, keyholder_id=who.number,
                                             shelter_id=incident.shelter_id, now=now)
            notice = notices.case(kind=_opening_kind(session, incident), where=where,
                                  tracking_id=incident.tracking_id)
            outbox.enqueue(session, outbox.Outgoing(
                subject=subject, step=step.value, recipient=person.recipient,
                channel=person.channel, address=person.address, title=notice.title,
                body=notice.body,
                link=link,
                data={"incident": incident.tracking_id, "shelter_id": incident.shelter_id,
                      "event": step.value}), now=now, actor=actor)
        _record(session, incident, step, now, actor, recipients=len(people))
    elif step is Step.DISPATCH_PATROL:
        task = _dispatch(session, incident=incident, shelter=shelter, key=f"{subject}:open_locked",
                         settings=settings, now=now, actor=actor)
        _record(session, incident, step, now, actor, task_id=task.id, unit_id=task.unit_id)
    elif step is Step.ESCALATE_OPERATOR:
        _record(session, incident, step, now, actor)
        log.append_later(session, [log.NewFact(
            FactKind.INCIDENT_ESCALATED, actor,
            {"id": incident.id, "tracking_id": incident.tracking_id,
             "shelter_id": incident.shelter_id, "to": "operator"})], now=now)
        alarm = notices.operator(where=where, tracking_id=incident.tracking_id)
        for n, contact in enumerate(settings.operator_contacts):
            outbox.enqueue(session, outbox.Outgoing(
                subject=subject, step=step.value, recipient=f"operator:{n}:{contact.channel}",
                channel=contact.channel, address=contact.address,
                title=alarm.title, body=alarm.body,
                data={"incident": incident.tracking_id, "event": step.value}),
                now=now, actor=actor)
    elif step is Step.CANCEL_PATROL_TASK:
        cancelled = patrols.cancel_open_for_incident(session, incident_id=incident.id, now=now,
                                                     actor=actor)
        _record(session, incident, step, now, actor, tasks=[t.id for t in cancelled])


def _opening_kind(session: Session, incident: Incident) -> str:
    """What residents reported when the case opened: a locked door, or entry refused."""
    opening = session.get(Observation, incident.opened_by)
    return opening.kind if opening is not None else ObservationKind.LOCKED.value

