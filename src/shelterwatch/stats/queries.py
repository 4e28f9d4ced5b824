"""The figures for a scope (an area and everything under it, an owner, a shelter) and a window,
read from the rollups with set-based SQL: a handful of aggregate queries whatever the scope.
The formulas are `rules.figures`; this module only counts."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shelterwatch.areas.models import Area
from shelterwatch.audits.models import ShelterReadiness
from shelterwatch.rules import figures
from shelterwatch.rules.figures import FigureId
from shelterwatch.stats.models import (
    StatsCase,
    StatsDaily,
    StatsOpenTimes,
    StatsPair,
    StatsShelter,
)
from shelterwatch.stats.service import EVERYWHERE, as_utc, day_of


@dataclass(frozen=True, slots=True)
class Scope:
    area_ids: tuple[str, ...] | None = None  # the area and its descendants; None = everywhere
    owner_id: int | None = None
    shelter_ids: tuple[int, ...] | None = None  # an owner's view: the shelters it is bound to
    start: datetime | None = None
    end: datetime | None = None
    area: str | None = None  # the area asked for, whose descendants are area_ids


def descendants(session: Session, area_id: str) -> tuple[str, ...]:
    children: dict[str, list[str]] = {}
    for aid, parent in session.execute(select(Area.id, Area.parent_id)):
        children.setdefault(parent or "", []).append(aid)
    found, todo = [], [area_id]
    while todo:
        aid = todo.pop()
        found.append(aid)
        todo.extend(children.get(aid, []))
    return tuple(sorted(found))


def scope_where(model: type[StatsPair] | type[StatsCase], scope: Scope,
           stamp: Any) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if scope.area_ids is not None:
        clauses.append(model.area_id.in_(scope.area_ids))
    if scope.owner_id is not None:
        clauses.append(model.owner_id == scope.owner_id)
    if scope.shelter_ids is not None:
        clauses.append(model.shelter_id.in_(scope.shelter_ids))
    if scope.start is not None:
        clauses.append(stamp >= scope.start)
    if scope.end is not None:
        clauses.append(stamp < scope.end)
    return clauses


def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def aligned(scope: Scope) -> Scope:
    """Windows count whole UTC days: from the start of `start`'s day to the end of the day
    before `end` (an `end` at midnight is that day's start)."""
    def floor(at: datetime) -> datetime:
        return as_utc(at).replace(hour=0, minute=0, second=0, microsecond=0)

    start = floor(scope.start) if scope.start else None
    end = None
    if scope.end is not None:
        end = floor(scope.end)
        if end != as_utc(scope.end):
            end += timedelta(days=1)
    return replace(scope, start=start, end=end)


def daily_where(scope: Scope) -> list[ColumnElement[bool]]:
    d = StatsDaily
    clauses: list[ColumnElement[bool]] = []
    if scope.area_ids is not None:
        clauses.append(d.area_id.in_(scope.area_ids))
    if scope.owner_id is not None:
        clauses.append(d.owner_id == scope.owner_id)
    if scope.start is not None:
        clauses.append(d.day >= day_of(scope.start))
    if scope.end is not None:
        clauses.append(d.day < day_of(scope.end))
    return clauses


@dataclass
class Counts:
    pairs: int = 0
    open_5: int = 0
    open_during: int = 0
    check_ins: int = 0
    shelter_alert_s: float = 0.0
    full: int = 0
    unfit: int = 0
    missing: int = 0
    open_s: float = 0.0
    check_in_s: float = 0.0


def total(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _counts(session: Session, scope: Scope, now: datetime) -> Counts:
    """The pairs' counts: from the daily rollup, or from the pairs for a set of shelters."""
    p = StatsPair
    if scope.shelter_ids is not None:
        row = session.execute(select(
            func.count(), total(case((p.open_after_s <= figures.OPEN_WITHIN_S, 1), else_=0)),
            func.count(p.open_after_s), func.count(p.check_in_after_s),
            total(seconds_between(session, func.coalesce(p.ended_at, now), p.started_at)),
            total(p.full_reports), total(p.unfit_reports), total(p.missing_reports),
            total(p.open_after_s), total(p.check_in_after_s))
            .where(*scope_where(p, scope, p.started_at))).one()
        return Counts(int(row[0]), int(row[1]), int(row[2]), int(row[3]),
                      float(round(row[4] or 0)), int(row[5]), int(row[6]), int(row[7]),
                      float(row[8]), float(row[9]))
    d = StatsDaily
    row = session.execute(select(
        total(d.pairs), total(d.open_5), total(d.open_during), total(d.check_ins), total(d.alert_s),
        total(d.full_reports), total(d.unfit_reports), total(d.missing_reports),
        total(d.open_s), total(d.check_in_s))
        .where(*daily_where(scope))).one()
    # Alerts still running count up to now; the rollup holds only the ended ones' hours.
    running = session.execute(select(total(seconds_between(session, now, p.started_at))).where(
        p.ended_at.is_(None), *scope_where(p, scope, p.started_at))).scalar()
    return Counts(int(row[0]), int(row[1]), int(row[2]), int(row[3]),
                  float(round(float(row[4] or 0) + float(running or 0))), int(row[5]),
                  int(row[6]), int(row[7]), float(row[8]), float(row[9]))


def open_times(session: Session, scope: Scope) -> list[tuple[int, int]]:
    """(10-second bucket, pairs first verified open in it), ascending."""
    if scope.shelter_ids is not None or scope.owner_id is not None:
        bucket = (StatsPair.open_after_s / figures.OPEN_TIME_BUCKET_S).cast(Integer) \
            * figures.OPEN_TIME_BUCKET_S
        query = select(bucket, func.count()).where(
            StatsPair.open_after_s.is_not(None),
            *scope_where(StatsPair, scope, StatsPair.started_at))
    else:
        t = StatsOpenTimes
        bucket = t.bucket_s  # type: ignore[assignment]
        area = t.area_id.in_(scope.area_ids) if scope.area_ids is not None \
            else t.area_id == EVERYWHERE
        query = select(bucket, total(t.n)).where(area)
        if scope.start is not None:
            query = query.where(t.day >= day_of(scope.start))
        if scope.end is not None:
            query = query.where(t.day < day_of(scope.end))
    rows = session.execute(query.group_by(bucket).order_by(bucket)).all()
    return [(int(b), int(n)) for b, n in rows]


@dataclass
class CaseCounts:
    cases: int
    during: int
    opened: int
    closed: int
    on_time: int
    overdue: int
    p50: float | None
    p90: float | None
    responsiveness: float | None


def _case_counts(session: Session, scope: Scope, now: datetime, target_s: float) -> CaseCounts:
    """The locked-door cases' figures in SQL: counts, exact percentiles, the last 100's mean."""
    c = StatsCase
    where = scope_where(c, scope, c.created_at)
    took = seconds_between(session, c.closed_at, c.created_at)
    to_open = seconds_between(session, c.door_open_at, c.created_at)
    slack = 0.001  # julianday arithmetic is not exact to the microsecond
    row = session.execute(select(
        func.count(), func.count(c.alert_id), func.count(c.door_open_at), func.count(c.closed_at),
        total(case((and_(c.closed_at.is_not(None), took <= target_s + slack), 1), else_=0)),
        total(case((and_(c.closed_at.is_(None),
                        seconds_between(session, now, c.created_at) > target_s), 1), else_=0)))
        .where(*where)).one()
    opened = int(row[2])

    def nth(q: float) -> float | None:
        if opened == 0:
            return None
        rank = max(1, math.ceil(q * opened))
        value = session.execute(select(to_open).where(*where, c.door_open_at.is_not(None))
                                .order_by(to_open).offset(rank - 1).limit(1)).scalar()
        return None if value is None else float(round(value))

    last = select(took.label("took")).where(*where, c.closed_at.is_not(None)) \
        .order_by(c.closed_at.desc()).limit(figures.RESPONSIVENESS_CASES).subquery()
    mean = session.execute(select(func.avg(last.c.took))).scalar()
    return CaseCounts(cases=int(row[0]), during=int(row[1]), opened=opened, closed=int(row[3]),
                      on_time=int(row[4]), overdue=int(row[5]), p50=nth(0.5), p90=nth(0.9),
                      responsiveness=None if mean is None else round(float(mean), 1))


def figures_for(session: Session, scope: Scope, *, now: datetime,
                target_s: float) -> dict[str, Any]:
    """Every figure for one scope, with the counts behind it."""
    now, scope = as_utc(now), aligned(scope)
    c = _counts(session, scope, now)
    buckets = open_times(session, scope)
    k = _case_counts(session, scope, now, target_s)
    a = audit_counts(session, scope, now=now).get("", figures.Tally())
    rate = figures.rate_per_shelter_alert_hours
    values: dict[FigureId, float | None] = {
        FigureId.OPEN_WITHIN_5_MIN: figures.share(c.open_5, c.pairs),
        FigureId.OPEN_DURING_ALERT: figures.share(c.open_during, c.pairs),
        FigureId.TIME_TO_OPEN_P50: figures.bucket_percentile(buckets, 0.5),
        FigureId.TIME_TO_OPEN_P90: figures.bucket_percentile(buckets, 0.9),
        FigureId.TIME_TO_OPEN_MEAN: figures.mean_of(c.open_s, c.open_during),
        FigureId.CHECK_IN_TIME_MEAN: figures.mean_of(c.check_in_s, c.check_ins),
        FigureId.CASE_TIME_TO_OPEN_P50: k.p50,
        FigureId.CASE_TIME_TO_OPEN_P90: k.p90,
        FigureId.CHECK_IN_RATE: figures.share(c.check_ins, c.pairs),
        FigureId.LOCKED_RATE: rate(k.during, c.shelter_alert_s),
        FigureId.REFUSED_RATE: rate(c.full, c.shelter_alert_s),
        FigureId.UNFIT_RATE: rate(c.unfit, c.shelter_alert_s),
        FigureId.MISSING_RATE: rate(c.missing, c.shelter_alert_s),
        FigureId.ON_TIME_SHARE: figures.on_time_share(k.on_time, k.closed, k.overdue),
        FigureId.RESPONSIVENESS: k.responsiveness,
        FigureId.GHOST_RATE: figures.ghost_rate(a.ghosts, a.audited),
        FigureId.AUDIT_FRESHNESS: figures.audit_freshness(
            a.fresh, a.shelters, audits_started=a.audited > 0 or audits_started(session)),
    }
    return {"figures": {k.value: v for k, v in values.items()},
            "counts": {"shelter_alert_pairs": c.pairs, "verified_open_within_5_min": c.open_5,
                       "verified_open_during_alert": c.open_during,
                       "keyholder_check_ins": c.check_ins,
                       "shelter_alert_hours": round(c.shelter_alert_s / 3600, 3),
                       "locked_cases": k.cases, "locked_cases_during_alerts": k.during,
                       "cases_opened": k.opened, "cases_closed": k.closed,
                       "cases_closed_on_time": k.on_time, "cases_open_overdue": k.overdue,
                       "cases_never_opened": k.cases - k.opened,
                       "full_reports": c.full, "unfit_reports": c.unfit,
                       "missing_reports": c.missing, "shelters": a.shelters,
                       "shelters_audited_full": a.audited, "ghosts": a.ghosts,
                       "shelters_audited_90_days": a.fresh},
            "buckets": buckets}


def share_by(session: Session, column: str, scope: Scope) -> dict[str, dict[str, Any]]:
    """The pair figures per area or per owner, in one GROUP BY over the daily rollup."""
    key = getattr(StatsDaily, column)
    d = StatsDaily
    rows = session.execute(
        select(key, total(d.pairs), total(d.open_5), total(d.open_during), total(d.check_ins))
        .where(*daily_where(aligned(scope)), key != 0 if column == "owner_id" else key != "")
        .group_by(key)).all()
    return {str(r[0]): {"pairs": int(r[1]), "open_5": int(r[2]),
                        FigureId.OPEN_WITHIN_5_MIN.value: figures.share(int(r[2]), int(r[1])),
                        FigureId.OPEN_DURING_ALERT.value: figures.share(int(r[3]), int(r[1])),
                        FigureId.CHECK_IN_RATE.value: figures.share(int(r[4]), int(r[1]))}
            for r in rows}


def monthly(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Verified-open share per month: the trend chart."""
    d = StatsDaily
    month = func.substr(d.day, 1, 7)
    where = daily_where(aligned(scope))
    if scope.shelter_ids is not None:
        return []  # a set of shelters has no daily rollup; its owner page shows the total
    rows = session.execute(select(month, total(d.pairs), total(d.open_5), total(d.open_during))
                           .where(*where).group_by(month).order_by(month)).all()
    return [{"month": r[0], "pairs": int(r[1]),
             "within_5_min": figures.share(int(r[2]), int(r[1])),
             "during_alert": figures.share(int(r[3]), int(r[1]))} for r in rows]


BUCKETS = ((60, "<1 min"), (120, "1–2 min"), (300, "2–5 min"), (600, "5–10 min"),
           (1800, "10–30 min"), (None, "≥30 min"))


def distribution(buckets: list[tuple[int, int]], pairs: int) -> list[dict[str, Any]]:
    """How many pairs opened how long after the alert started, and how many never did."""
    counts = [0] * len(BUCKETS)
    for bucket, n in buckets:
        for i, (high, _) in enumerate(BUCKETS):
            if high is None or bucket < high:
                counts[i] += n
                break
    out = [{"bucket": label, "pairs": n} for (_, label), n in zip(BUCKETS, counts, strict=True)]
    return [*out, {"bucket": "never", "pairs": pairs - sum(counts)}]


def cases(session: Session, scope: Scope, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Each locked-door case's lifecycle, newest first."""
    rows = session.execute(select(StatsCase)
                           .where(*scope_where(StatsCase, scope, StatsCase.created_at))
                           .order_by(StatsCase.created_at.desc()).limit(limit)).scalars()

    def iso(at: datetime | None) -> str | None:
        return as_utc(at).isoformat().replace("+00:00", "Z") if at else None

    return [{"incident_id": r.incident_id, "tracking_id": r.tracking_id,
             "shelter_id": r.shelter_id, "area_id": r.area_id,
             "owner_id": r.owner_id, "alert_id": r.alert_id, "created": iso(r.created_at),
             "first_notified": iso(r.first_notified_at),
             "patrol_dispatched": iso(r.patrol_dispatched_at), "door_open": iso(r.door_open_at),
             "closed": iso(r.closed_at), "resolution": r.resolution,
             "evidence_kind": r.evidence_kind} for r in rows]


def window(days: int | None, start: datetime | None, end: datetime | None,
           now: datetime) -> tuple[datetime | None, datetime | None]:
    """A named window (7/30/90/365 days back from now) or an explicit range."""
    if days is not None:
        return as_utc(now) - timedelta(days=days), None
    return (as_utc(start) if start else None), (as_utc(end) if end else None)


def audits_started(session: Session) -> bool:
    """Whether the city has recorded any full audit (one indexed look-up)."""
    return session.execute(select(ShelterReadiness.shelter_id)
                           .where(ShelterReadiness.full_seen.is_(True)).limit(1)).first() \
        is not None


def audit_counts(session: Session, scope: Scope, *, now: datetime,
                 by: str | None = None) -> dict[str, figures.Tally]:
    """Shelters, full audits, ghosts and audits in the last 90 days from the readiness
    projection, for the scope ("" key) or per owner or leaf area (`by`), in one GROUP BY.
    The registry as it stands now: audit figures do not follow the alert window."""
    s, r = StatsShelter, ShelterReadiness
    fresh = as_utc(now) - timedelta(days=figures.AUDIT_FRESH_DAYS)
    columns = [func.count(s.shelter_id),
               total(case((r.full_seen.is_(True), 1), else_=0)),
               total(case((r.ghost_reason.is_not(None), 1), else_=0)),
               total(case((r.audited_at >= fresh, 1), else_=0))]
    key = getattr(s, by) if by else None
    query = select(*([key] if key is not None else []), *columns).select_from(s) \
        .outerjoin(r, r.shelter_id == s.shelter_id)
    if scope.area_ids is not None:
        query = query.where(s.area_id.in_(scope.area_ids))
    if scope.owner_id is not None:
        query = query.where(s.owner_id == scope.owner_id)
    if scope.shelter_ids is not None:
        query = query.where(s.shelter_id.in_(scope.shelter_ids))
    if key is not None:
        query = query.where(key.is_not(None)).group_by(key)
    out: dict[str, figures.Tally] = {}
    for row in session.execute(query).all():
        name, (n, audited, ghosts, fresh_n) = (str(row[0]), row[1:]) if key is not None \
            else ("", row)
        out[name] = figures.Tally(shelters=int(n), audited=int(audited), ghosts=int(ghosts),
                                  fresh=int(fresh_n))
    return out
