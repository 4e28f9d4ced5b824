"""What an alert start sets going (DESIGN §4.1–4.2): unlock doors, ask keyholders, plan rounds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.escalation import ladder, links, timers
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


def shelters_in(session: Session, area_id: str) -> list[Shelter]:
    """Every shelter whose area is `area_id` or lies under it."""
    area_ids = session.execute(select(Shelter.area_id).distinct()).scalars().all()
    covered = [a for a in area_ids if area_id in areas.ancestors_of(session, a)]
    if not covered:
        return []
    return list(session.execute(
        select(Shelter).where(Shelter.area_id.in_(covered)).order_by(Shelter.id)).scalars())


def opened_since(session: Session, shelter_ids: list[int], since: datetime) -> set[int]:
    """Shelters with an authoritative `open` (keyholder, patrol, door…) at or after `since`."""
    if not shelter_ids:
        return set()
    rows = session.execute(
        select(Observation.shelter_id, Observation.role)
        .where(Observation.kind.in_(OPEN_KINDS), Observation.at >= since,
               Observation.shelter_id.in_(shelter_ids))).all()
    return {sid for sid, role in rows if _authoritative(role)}


def _authoritative(role: str) -> bool:
    try:
        return is_authoritative(Role(role))
    except ValueError:
        return False


def start(session: Session, *, alert: Alert, settings: Settings, now: datetime) -> None:
    """Unlock every door controller in the area and send keyholders their check-in requests."""
    started = as_utc(alert.started_at)
    shelters = shelters_in(session, alert.area_id)
    ids = [s.id for s in shelters]
    subject = str(Subject(Noun.ALERT, alert.id))
    for door in doors.in_shelters(session, ids):
        outbox.enqueue(session, doors.unlock_command(
            door.shelter_id, subject=subject, step="unlock", why=f"alert {alert.id} started"),
            now=now, actor=ACTOR)
    with_keys = keyholders.shelters_with_keyholders(session, ids)
    already_open = opened_since(session, list(with_keys), started)
    asked = 0
    for shelter in shelters:
        if shelter.id not in with_keys or not needs_check_in(
                obligation_24_7=shelter.obligation == Obligation.ALWAYS.value,
                last_authoritative_open=started if shelter.id in already_open else None,
                alert_started_at=started):
            continue
        for person in keyholders.keyholder_addresses(session, shelter.id):
            token = links.make_token(settings.secret_key,
                                     keyholder_id=Subject.head(person.recipient).number,
                                     shelter_id=shelter.id, now=now)
            outbox.enqueue(session, outbox.Outgoing(
                subject=f"{subject}:{Subject(Noun.SHELTER, shelter.id)}", step="check_in",
                recipient=person.recipient, channel=person.channel, address=person.address,
                title=f"Тривога: відчиніть укриття / Alert: open the shelter {shelter.address}",
                body=(f"Почалася тривога. Відчиніть укриття за адресою {shelter.address} і "
                      f"підтвердіть одним дотиком.\nAn alert has started. Open the shelter at "
                      f"{shelter.address} and confirm with one tap."),
                link=links.url(settings.public_base_url, token),
                data={"alert": alert.id, "shelter_id": shelter.id, "event": "check_in"}),
                now=now, actor=ACTOR)
        asked += 1
    log.append(session, kind=FactKind.ESCALATION_ALERT_STARTED, actor=ACTOR, now=now,
               payload={"alert_id": alert.id, "area_id": alert.area_id, "shelters": len(ids),
                        "check_ins": asked})
    policy = ladder.policy_for_area(session, settings, alert.area_id)
    timers.arm(session, subject=subject, kind=timers.ROUNDS, due_at=unverified_at(started, policy))


def plan_rounds(session: Session, *, alert: Alert, settings: Settings, now: datetime) -> int:
    """Give free patrols `check` rounds through unverified 24/7 shelters; returns tasks made."""
    if alert.ended_at is not None:
        return 0
    started = as_utc(alert.started_at)
    shelters = [s for s in shelters_in(session, alert.area_id)
                if s.obligation == Obligation.ALWAYS.value]
    ids = [s.id for s in shelters]
    checked = opened_since(session, ids, started)
    past = dict(session.execute(
        select(Incident.shelter_id, func.count()).where(Incident.shelter_id.in_(ids))
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
