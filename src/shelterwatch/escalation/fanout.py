"""An alert start's fan-out, queued by the database itself: `INSERT … SELECT`, doors first.

A national alert is one start per oblast, all at once, over tens of thousands of shelters. Built
row by row in Python, the door unlocks and check-ins cost seconds of CPU on a machine that is
also answering residents; here each step is one statement whatever the number of alerts or
shelters: the areas each alert covers are walked by a recursive query, the rows are selected and
inserted in the same statement (`ON CONFLICT DO NOTHING`, so queueing again after a crash skips
what is already queued), and the log gets one fact per alert and step (how many, on which
channels), not one per message.

A check-in's link is signed when it is sent, not here (`notices.sign_check_in`): an HMAC cannot
be computed in SQL on both databases, and a link signed at sending time expires counting from
when the keyholder got it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    String,
    Table,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from shelterwatch.alerts.models import Alert
from shelterwatch.areas.models import Area
from shelterwatch.doors.models import DoorController
from shelterwatch.escalation import notices
from shelterwatch.keyholders.models import Keyholder, KeyholderShelter
from shelterwatch.keyholders.service import CHANNELS
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation
from shelterwatch.outbox import queue
from shelterwatch.outbox.models import Delivery
from shelterwatch.outbox.service import Priority
from shelterwatch.rules.status import AUTHORITATIVE
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Noun, Obligation, ObservationKind, Subject

ACTOR = "worker"
OPEN_KINDS = (ObservationKind.OPEN.value, ObservationKind.FORCED_OPEN.value)
# Stands for the shelter's address in a rendered notice, replaced in SQL row by row.
WHERE = "\x1fwhere\x1f"
COLUMNS = ("subject", "step", "recipient", "channel", "address", "title", "body", "link", "data",
           "state", "attempts", "created_at", "next_attempt_at", "priority")


def covered(alert_ids: Sequence[int]) -> CTE:
    """(alert_id, area_id) for every area each alert covers: its own and all below it."""
    top = select(Alert.id.label("alert_id"), Alert.area_id.label("area_id")).where(
        Alert.id.in_(list(alert_ids))).cte("covered", recursive=True)
    # UNION, not UNION ALL: a cycle in the area tree repeats rows and so ends the walk.
    return top.union(select(top.c.alert_id, Area.id).join(Area, Area.parent_id == top.c.area_id))


def _concat(*parts: Any) -> ColumnElement[str]:
    """`a || b || …` with every part as text (both databases)."""
    texts = [literal(p, String) if isinstance(p, str) else cast(p, String) for p in parts]
    out: ColumnElement[str] = texts[0]
    for part in texts[1:]:
        out = out + part
    return out


def _insert(session: Session, rows: Select[Any]) -> list[tuple[str, str]]:
    """Insert the selected deliveries, skipping keys already queued; (subject, channel) of each
    new one."""
    table: Table = Delivery.__table__  # type: ignore[assignment]
    insert_ = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert_(table).from_select(list(COLUMNS), rows).on_conflict_do_nothing(
        index_elements=["subject", "step", "recipient"]).returning(table.c.subject,
                                                                   table.c.channel)
    return [(str(s), str(c)) for s, c in session.execute(statement).all()]


def _broadcast_facts(session: Session, new: list[tuple[str, str]], *, step: str,
                     now: datetime) -> dict[int, int]:
    """One fact per alert for what this step queued; returns how many per alert."""
    by_alert: dict[int, Counter[str]] = {}
    for subject, channel in new:  # "alert:5" or "alert:5:shelter:88"
        by_alert.setdefault(Subject.head(subject).number, Counter())[channel] += 1
    log.append_many(session, [log.NewFact(
        FactKind.NOTIFICATION_BROADCAST_QUEUED, ACTOR,
        {"subject": f"{Noun.ALERT.value}:{alert_id}", "step": step, "count": sum(c.values()),
         "channels": dict(sorted(c.items()))}) for alert_id, c in sorted(by_alert.items())],
        now=now)
    return {alert_id: sum(c.values()) for alert_id, c in by_alert.items()}


def _constants(now: datetime, priority: int) -> list[ColumnElement[Any]]:
    return [literal(queue.PENDING.value, String), literal(0),
            literal(now, Delivery.created_at.type), literal(now, Delivery.next_attempt_at.type),
            literal(priority)]


def door_unlocks(alert_ids: Sequence[int], *, now: datetime) -> Select[Any]:
    """Every door controller in every alert's area, as the unlock `doors.unlock_command` makes."""
    area = covered(alert_ids)
    sid = DoorController.shelter_id
    return (select(
        _concat(f"{Noun.ALERT.value}:", area.c.alert_id), literal("unlock", String),
        _concat(f"{Noun.DOOR.value}:", sid), literal("door", String), cast(sid, String),
        _concat("unlock: alert ", area.c.alert_id, " started"), literal("unlock", String),
        literal(None, String), literal('{"command":"unlock"}', String),
        *_constants(now, Priority.DOOR))
        .select_from(DoorController)
        .join(Shelter, Shelter.id == sid).join(area, area.c.area_id == Shelter.area_id)
        .where(sid.is_not(None)))


def _channels() -> Any:
    """The four contact columns as rows ("email", "sms", …), to join each keyholder against."""
    return union_all(*(select(literal(c, String).label("name")) for c in CHANNELS)).subquery("ch")


def _asked(alert_ids: Sequence[int], *columns: Any) -> Select[Any]:
    """`columns` over every (alert, 24/7 shelter, keyholder channel) a start asks to check in:
    active keyholders' non-empty contacts, shelters not opened by someone authoritative since
    the alert began (DESIGN §4.1)."""
    area, ch = covered(alert_ids), _channels()
    address = _address(ch)
    opened = exists().where(
        Observation.shelter_id == Shelter.id, Observation.kind.in_(OPEN_KINDS),
        Observation.role.in_(sorted(r.value for r in AUTHORITATIVE)),
        Observation.at >= Alert.started_at)
    return (select(*(c(area, ch) for c in columns))
            .select_from(area)
            .join(Alert, Alert.id == area.c.alert_id)
            .join(Shelter, Shelter.area_id == area.c.area_id)
            .join(KeyholderShelter, KeyholderShelter.shelter_id == Shelter.id)
            .join(Keyholder, Keyholder.id == KeyholderShelter.keyholder_id)
            .join(ch, true())
            .where(Shelter.obligation == Obligation.ALWAYS.value, Keyholder.active.is_(True),
                   address.is_not(None), address != "", ~opened))


def _address(ch: Any) -> ColumnElement[Any]:
    return case(*((ch.c.name == c, getattr(Keyholder, c)) for c in CHANNELS))


def check_ins(alert_ids: Sequence[int], *, now: datetime) -> Select[Any]:
    """Every check-in request the alerts' starts send, as rows of the outbox."""
    notice = notices.check_in(where=WHERE)
    return _asked(
        alert_ids,
        lambda a, ch: _concat(f"{Noun.ALERT.value}:", a.c.alert_id,
                              f":{Noun.SHELTER.value}:", Shelter.id),
        lambda a, ch: literal("check_in", String),
        lambda a, ch: _concat("keyholder:", Keyholder.id, ":", ch.c.name),
        lambda a, ch: ch.c.name,
        lambda a, ch: _address(ch),
        lambda a, ch: func.replace(literal(notice.title, String), WHERE, Shelter.address),
        lambda a, ch: func.replace(literal(notice.body, String), WHERE, Shelter.address),
        lambda a, ch: literal(None, String),
        lambda a, ch: _concat('{"alert":', a.c.alert_id, ',"shelter_id":', Shelter.id,
                              ',"event":"check_in","keyholder_id":', Keyholder.id, "}"),
        *(lambda a, ch, c=c: c for c in _constants(now, Priority.CHECK_IN)))


def queue_door_unlocks(session: Session, alert_ids: Sequence[int], *,
                       now: datetime) -> dict[int, int]:
    """Queue every alert's door unlocks in one statement; new unlocks per alert."""
    return _broadcast_facts(session, _insert(session, door_unlocks(alert_ids, now=now)),
                            step="unlock", now=now)


def queue_check_ins(session: Session, alert_ids: Sequence[int], *,
                    now: datetime) -> dict[int, int]:
    """Queue every alert's check-in requests in one statement; new requests per alert."""
    return _broadcast_facts(session, _insert(session, check_ins(alert_ids, now=now)),
                            step="check_in", now=now)


def counts(session: Session, alert_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(shelters covered, shelters whose keyholders are asked) per alert, for its start fact;
    read in the transaction that queues the check-ins, so it counts what they were sent to."""
    area = covered(alert_ids)
    shelters: dict[int, int] = dict(session.execute(
        select(area.c.alert_id, func.count(Shelter.id))
        .join(Shelter, Shelter.area_id == area.c.area_id).group_by(area.c.alert_id)).all())
    asked = _asked(alert_ids, lambda a, ch: a.c.alert_id.label("alert_id"),
                   lambda a, ch: Shelter.id.label("shelter_id")).distinct().subquery()
    per_alert: dict[int, int] = dict(session.execute(
        select(asked.c.alert_id, func.count()).group_by(asked.c.alert_id)).all())
    return {a: (int(shelters.get(a, 0)), int(per_alert.get(a, 0))) for a in alert_ids}
