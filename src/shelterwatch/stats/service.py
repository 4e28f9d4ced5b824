"""Keeping the rollups from the facts: the worker applies each new fact once, in seq order.

Everything here is a function of the facts (the shelters' area and owner as the facts told them,
the pairs an alert made, what each case went through), so `rebuild` — which empties the rollups
and replays the whole log — gives the same rows the worker built fact by fact. The area tree is
read from the registry, which is itself loaded from the bundled areas. Callers own the
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import Observation
from shelterwatch.rules import figures
from shelterwatch.stats.models import (
    FactSubject,
    StatsCase,
    StatsCursor,
    StatsDaily,
    StatsOpenTimes,
    StatsPair,
    StatsShelter,
)
from shelterwatch.vocabulary import (
    INCIDENT_KINDS,
    FactKind,
    Noun,
    ObservationKind,
    Resolution,
    Role,
    TaskKind,
    subject_of,
)

CURSOR_ID = 1
# Evidence that a door was open, from someone whose word is costly to fake (DESIGN §2 Witness).
VERIFYING_ROLES = frozenset({Role.KEYHOLDER, Role.PATROL, Role.AUDITOR, Role.DOOR,
                             Role.OPERATOR})
OPENING_KINDS = frozenset({ObservationKind.OPEN, ObservationKind.FORCED_OPEN})
REPORT_COLUMNS = {ObservationKind.FULL: "full_reports", ObservationKind.UNFIT: "unfit_reports",
                  ObservationKind.MISSING: "missing_reports"}
DOOR_OPENED = frozenset({Resolution.OPENED_BY_KEYHOLDER, Resolution.FOUND_OPEN,
                         Resolution.FORCED_OPEN})


def as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def day_of(at: datetime) -> str:
    """The UTC day the daily rollup files an alert's pairs under."""
    return as_utc(at).strftime("%Y-%m-%d")


EVERYWHERE = "*"
DAILY_COUNTS = ("pairs", "open_5", "open_during", "check_ins", "alert_s", "open_s",
                "check_in_s", "full_reports", "unfit_reports", "missing_reports")


def bump_daily(session: Session, *, day: str, area_id: str, owner_id: int | None,
               **deltas: int) -> None:
    """Add to one day's counts (the row made on first use)."""
    keys = {"day": day, "area_id": area_id, "owner_id": owner_id or 0}
    t = StatsDaily
    done = session.execute(
        update(t).where(t.day == day, t.area_id == area_id, t.owner_id == (owner_id or 0))
        .values({c: getattr(t, c) + d for c, d in deltas.items()}))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(t).values({**dict.fromkeys(DAILY_COUNTS, 0), **keys, **deltas}))


def _bump_open_time(session: Session, *, day: str, area_id: str, after_s: int) -> None:
    bucket = figures.bucket_of(after_s)
    t = StatsOpenTimes
    for area in (area_id, EVERYWHERE):
        done = session.execute(update(t).where(t.day == day, t.area_id == area,
                                               t.bucket_s == bucket).values(n=t.n + 1))
        if done.rowcount == 0:  # type: ignore[attr-defined]
            session.execute(insert(t).values(day=day, area_id=area, bucket_s=bucket, n=1))


def _per_group(session: Session, alert_id: int) -> list[tuple[str, int | None, int]]:
    rows = session.execute(select(StatsPair.area_id, StatsPair.owner_id, func.count())
                           .where(StatsPair.alert_id == alert_id)
                           .group_by(StatsPair.area_id, StatsPair.owner_id)).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def _parse(value: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


class _Applier:
    """Applies one batch of facts; holds what the batch keeps asking (the area tree)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._children: dict[str, list[str]] | None = None
        self.subjects: set[tuple[str, int]] = set()
        self.shelters: dict[int, str] = {}

    def flush(self) -> None:
        """Write the shelters this batch named (an import names thousands) in two statements."""
        if self.shelters:
            known = set(self.session.execute(select(StatsShelter.shelter_id).where(
                StatsShelter.shelter_id.in_(list(self.shelters)))).scalars())
            new = [{"shelter_id": sid, "area_id": area, "owner_id": None}
                   for sid, area in self.shelters.items() if sid not in known]
            if new:
                self.session.execute(insert(StatsShelter), new)
            for sid in known:
                self.session.execute(update(StatsShelter).where(StatsShelter.shelter_id == sid)
                                     .values(area_id=self.shelters[sid]))
            self.shelters.clear()
        self.session.flush()

    def covered_areas(self, area_id: str) -> list[str]:
        if self._children is None:
            self._children = {}
            for aid, parent in self.session.execute(select(Area.id, Area.parent_id)):
                self._children.setdefault(parent or "", []).append(aid)
        found, todo = [], [area_id]
        while todo:
            aid = todo.pop()
            found.append(aid)
            todo.extend(self._children.get(aid, []))
        return found

    def apply(self, fact: Fact) -> None:
        payload: dict[str, Any] = orjson.loads(fact.payload)
        at = as_utc(fact.at)
        handler = HANDLERS.get(fact.kind)
        if handler is not None:
            handler(self, payload, at)
        for subject in subjects_of(fact.kind, payload):
            self.subjects.add((subject, fact.seq))
        observation_id = payload.get("observation_id")
        if fact.kind in INCIDENT_KINDS and observation_id:
            seq = self.session.execute(select(Observation.seq)
                                       .where(Observation.id == observation_id)).scalar()
            if seq is not None:
                self.subjects.add((f"incident:{payload['id']}", int(seq)))

    def flush_subjects(self) -> None:
        if self.subjects:
            self.session.execute(insert(FactSubject), [
                {"subject": s, "seq": q} for s, q in sorted(self.subjects)])
            self.subjects.clear()


def subjects_of(kind: str, payload: Mapping[str, Any]) -> set[str]:
    """The shelters and incidents a fact is about, by its public payload."""
    found: set[str] = set()
    if isinstance(payload.get("shelter_id"), int):
        found.add(f"shelter:{payload['shelter_id']}")
    if kind in (FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED):
        found.add(f"shelter:{payload['id']}")
    if kind in INCIDENT_KINDS:
        found.add(f"incident:{payload['id']}")
    if isinstance(payload.get("incident_id"), int):
        found.add(f"incident:{payload['incident_id']}")
    subject = payload.get("subject")
    if isinstance(subject, str) and subject.startswith(("incident:", "shelter:")):
        found.add(subject)
    return found


def _shelter(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    a.shelters[int(p["id"])] = str(p["area_id"])  # written in bulk before anyone reads them


def _owner(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    a.flush()
    a.session.execute(update(StatsShelter).where(StatsShelter.shelter_id.in_(p["shelter_ids"]))
                      .values(owner_id=int(p["id"])))


def _alert_started(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    a.flush()
    started = _parse(p["started_at"]) or at
    rows = select(literal(int(p["id"])), StatsShelter.shelter_id, StatsShelter.area_id,
                  StatsShelter.owner_id, literal(started, StatsPair.started_at.type),
                  literal(_parse(p.get("ended_at")), StatsPair.ended_at.type),
                  literal(0), literal(0), literal(0)
                  ).where(StatsShelter.area_id.in_(a.covered_areas(str(p["area_id"]))))
    a.session.execute(insert(StatsPair).from_select(
        ["alert_id", "shelter_id", "area_id", "owner_id", "started_at", "ended_at",
         "full_reports", "unfit_reports", "missing_reports"], rows))
    ended = _parse(p.get("ended_at"))
    lasted = int((ended - started).total_seconds()) if ended else 0
    for area_id, owner_id, n in _per_group(a.session, int(p["id"])):
        bump_daily(a.session, day=day_of(started), area_id=area_id, owner_id=owner_id, pairs=n,
                   alert_s=n * lasted)


def _alert_ended(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    a.session.flush()
    alert_id = int(p["id"])
    open_pair = a.session.execute(select(StatsPair.started_at).where(
        StatsPair.alert_id == alert_id, StatsPair.ended_at.is_(None)).limit(1)).scalar()
    if open_pair is None:
        return  # no shelters under it, or its end was already counted
    started, ended = as_utc(open_pair), _parse(p.get("ended_at")) or at
    a.session.execute(update(StatsPair).where(StatsPair.alert_id == alert_id)
                      .values(ended_at=ended))
    lasted = int((ended - started).total_seconds())
    for area_id, owner_id, n in _per_group(a.session, alert_id):
        bump_daily(a.session, day=day_of(started), area_id=area_id, owner_id=owner_id,
                   alert_s=n * lasted)


def _observation(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    kind, role = str(p.get("kind")), str(p.get("role"))
    opening = kind in OPENING_KINDS and role in VERIFYING_ROLES
    column = REPORT_COLUMNS.get(ObservationKind(kind)) if kind in REPORT_COLUMNS else None
    if not opening and column is None:
        return
    a.session.flush()
    pairs = a.session.execute(select(StatsPair).where(
        StatsPair.shelter_id == int(p["shelter_id"]), StatsPair.started_at <= at,
        (StatsPair.ended_at.is_(None)) | (StatsPair.ended_at >= at))).scalars().all()
    for pair in pairs:
        after = int((at - as_utc(pair.started_at)).total_seconds())
        deltas: dict[str, int] = {}
        if opening and pair.open_after_s is None:
            pair.open_after_s, pair.open_by = after, role
            deltas["open_during"], deltas["open_s"] = 1, after
            if after <= figures.OPEN_WITHIN_S:
                deltas["open_5"] = 1
        if opening and role == Role.KEYHOLDER and kind == ObservationKind.OPEN \
                and pair.check_in_after_s is None:
            pair.check_in_after_s = after
            deltas["check_ins"], deltas["check_in_s"] = 1, after
        if column is not None:
            setattr(pair, column, getattr(pair, column) + 1)
            deltas[column] = 1
        if deltas:
            day = day_of(pair.started_at)
            bump_daily(a.session, day=day, area_id=pair.area_id, owner_id=pair.owner_id,
                       **deltas)
            if "open_during" in deltas:
                _bump_open_time(a.session, day=day, area_id=pair.area_id, after_s=after)


def _incident_opened(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    a.flush()
    shelter = a.session.get(StatsShelter, int(p["shelter_id"]))
    a.session.add(StatsCase(incident_id=int(p["id"]), tracking_id=str(p["tracking_id"]),
                            shelter_id=int(p["shelter_id"]), area_id=str(p["area_id"]),
                            owner_id=shelter.owner_id if shelter else None,
                            alert_id=p.get("alert_id"), created_at=at))


def _incident_resolved(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    case = a.session.get(StatsCase, int(p["id"]))
    if case is None or case.closed_at is not None:
        return
    case.closed_at, case.resolution = at, str(p["resolution"])
    if case.resolution in DOOR_OPENED:
        case.door_open_at = at
    if p.get("observation_id"):
        seen = a.session.execute(select(Observation.role, Observation.kind)
                                 .where(Observation.id == p["observation_id"])).first()
        if seen is not None:
            case.evidence_kind = f"{seen.role}:{seen.kind}"


def _task_created(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    if p.get("kind") != TaskKind.OPEN_LOCKED or not isinstance(p.get("incident_id"), int):
        return
    case = a.session.get(StatsCase, int(p["incident_id"]))
    if case is not None and case.patrol_dispatched_at is None:
        case.patrol_dispatched_at = at


def _notified(a: _Applier, p: dict[str, Any], at: datetime) -> None:
    incident = subject_of(p.get("subject"), Noun.INCIDENT)
    if incident is None:
        return
    case = a.session.get(StatsCase, incident.number)
    if case is not None and case.first_notified_at is None:
        case.first_notified_at = at


Handler = Callable[[_Applier, dict[str, Any], datetime], None]
HANDLERS: dict[str, Handler] = {
    FactKind.SHELTER_CREATED: _shelter, FactKind.SHELTER_UPDATED: _shelter,
    FactKind.OWNER_CREATED: _owner,
    FactKind.ALERT_STARTED: _alert_started, FactKind.ALERT_ENDED: _alert_ended,
    FactKind.OBSERVATION_RECORDED: _observation,
    FactKind.INCIDENT_OPENED: _incident_opened, FactKind.INCIDENT_RESOLVED: _incident_resolved,
    FactKind.TASK_CREATED: _task_created, FactKind.NOTIFICATION_SENT: _notified,
}


def _lock_cursor(session: Session) -> StatsCursor:
    cursor = session.execute(select(StatsCursor).where(StatsCursor.id == CURSOR_ID)
                             .with_for_update().execution_options(populate_existing=True)
                             ).scalar_one_or_none()
    if cursor is None:
        cursor = StatsCursor(id=CURSOR_ID, seq=0)
        session.add(cursor)
        session.flush()
    return cursor


def applied_seq(session: Session) -> int:
    """The last fact the rollups hold: what a cached figure was computed at."""
    cursor = session.get(StatsCursor, CURSOR_ID)
    return cursor.seq if cursor else 0


def apply_facts(session: Session, facts: Iterable[Fact]) -> None:
    applier = _Applier(session)
    for fact in facts:
        applier.apply(fact)
    applier.flush()
    applier.flush_subjects()


def catch_up(session: Session, *, limit: int = 2000) -> int:
    """Apply up to `limit` facts the rollups have not seen; returns how many."""
    cursor = _lock_cursor(session)
    facts: Sequence[Fact] = log.after(session, cursor.seq, limit=limit)
    if not facts:
        return 0
    apply_facts(session, facts)
    cursor.seq = facts[-1].seq
    session.flush()
    return len(facts)


ROLLUPS = (FactSubject, StatsCase, StatsOpenTimes, StatsDaily, StatsPair, StatsShelter)


def rebuild(session: Session) -> int:
    """Empty the rollups and replay the whole log into them; returns the facts applied."""
    for model in ROLLUPS:
        session.execute(delete(model))
    _lock_cursor(session).seq = 0
    session.flush()
    total = 0
    while applied := catch_up(session, limit=5000):
        total += applied
    return total
