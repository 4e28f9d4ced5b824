"""The figures for a scope (an area and everything under it, an owner, a shelter) and a window,
read from the rollups with set-based SQL: a handful of aggregate queries whatever the scope.
The formulas are `rules.figures`; this module only counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shelterwatch.areas.models import Area
from shelterwatch.rules import figures
from shelterwatch.rules.figures import FigureId
from shelterwatch.stats.models import StatsCase, StatsPair
from shelterwatch.stats.service import as_utc


@dataclass(frozen=True, slots=True)
class Scope:
    area_ids: tuple[str, ...] | None = None  # the area and its descendants; None = everywhere
    owner_id: int | None = None
    shelter_ids: tuple[int, ...] | None = None  # an owner's view: the shelters it is bound to
    start: datetime | None = None
    end: datetime | None = None


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


def _where(model: type[StatsPair] | type[StatsCase], scope: Scope,
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


def _seconds(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _month(session: Session, stamp: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", stamp)
    return func.to_char(stamp, "YYYY-MM")


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
    cases: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _pair_aggregates(session: Session, now: datetime) -> list[Any]:
    p = StatsPair
    return [
        func.count(),
        func.coalesce(func.sum(case((p.open_after_s <= figures.OPEN_WITHIN_S, 1), else_=0)), 0),
        func.count(p.open_after_s),
        func.count(p.check_in_after_s),
        func.coalesce(func.sum(_seconds(session, func.coalesce(p.ended_at, now), p.started_at)),
                      0),
        func.coalesce(func.sum(p.full_reports), 0),
        func.coalesce(func.sum(p.unfit_reports), 0),
        func.coalesce(func.sum(p.missing_reports), 0),
    ]


def _counts(row: Sequence[Any]) -> Counts:
    return Counts(pairs=int(row[0]), open_5=int(row[1]), open_during=int(row[2]),
                  check_ins=int(row[3]), shelter_alert_s=float(round(row[4] or 0)),
                  full=int(row[5]),
                  unfit=int(row[6]), missing=int(row[7]))


def _nth(session: Session, query: Select[Any], n: int) -> float | None:
    value = session.execute(query.offset(n - 1).limit(1)).scalar()
    return None if value is None else float(value)


def _percentiles(session: Session, scope: Scope) -> tuple[float | None, float | None, int]:
    where = [*_where(StatsPair, scope, StatsPair.started_at), StatsPair.open_after_s.is_not(None)]
    n = int(session.execute(select(func.count()).select_from(StatsPair).where(*where))
            .scalar_one())
    if n == 0:
        return None, None, 0
    ordered = select(StatsPair.open_after_s).where(*where).order_by(StatsPair.open_after_s)
    ranks = [max(1, -(-n * q // 100)) for q in (50, 90)]  # nearest rank, as rules.figures
    return _nth(session, ordered, ranks[0]), _nth(session, ordered, ranks[1]), n


def figures_for(session: Session, scope: Scope, *, now: datetime,
                target_s: float) -> dict[str, Any]:
    """Every figure for one scope, with the counts behind it."""
    now = as_utc(now)
    c = _counts(session.execute(select(*_pair_aggregates(session, now))
                                .where(*_where(StatsPair, scope, StatsPair.started_at))).one())
    p50, p90, opened = _percentiles(session, scope)
    cases = session.execute(
        select(StatsCase.created_at, StatsCase.door_open_at, StatsCase.closed_at,
               StatsCase.alert_id)
        .where(*_where(StatsCase, scope, StatsCase.created_at))).all()
    during = [r for r in cases if r.alert_id is not None]
    to_open = sorted((as_utc(r.door_open_at) - as_utc(r.created_at)).total_seconds()
                     for r in cases if r.door_open_at is not None)
    closed = [r for r in cases if r.closed_at is not None]
    took = [(as_utc(r.closed_at) - as_utc(r.created_at)).total_seconds() for r in closed]
    on_time = sum(1 for t in took if t <= target_s)
    overdue = sum(1 for r in cases if r.closed_at is None
                  and (now - as_utc(r.created_at)).total_seconds() > target_s)
    last = sorted(zip((as_utc(r.closed_at) for r in closed), took, strict=True),
                  reverse=True)[:figures.RESPONSIVENESS_CASES]
    rate = figures.rate_per_shelter_alert_hours
    values: dict[FigureId, float | None] = {
        FigureId.OPEN_WITHIN_5_MIN: figures.share(c.open_5, c.pairs),
        FigureId.OPEN_DURING_ALERT: figures.share(c.open_during, c.pairs),
        FigureId.TIME_TO_OPEN_P50: p50,
        FigureId.TIME_TO_OPEN_P90: p90,
        FigureId.CASE_TIME_TO_OPEN_P50: figures.percentile(to_open, 0.5),
        FigureId.CASE_TIME_TO_OPEN_P90: figures.percentile(to_open, 0.9),
        FigureId.CHECK_IN_RATE: figures.share(c.check_ins, c.pairs),
        FigureId.LOCKED_RATE: rate(len(during), c.shelter_alert_s),
        FigureId.REFUSED_RATE: rate(c.full, c.shelter_alert_s),
        FigureId.UNFIT_RATE: rate(c.unfit, c.shelter_alert_s),
        FigureId.MISSING_RATE: rate(c.missing, c.shelter_alert_s),
        FigureId.ON_TIME_SHARE: figures.on_time_share(on_time, len(closed), overdue),
        FigureId.RESPONSIVENESS: figures.mean([t for _, t in last]),
        FigureId.GHOST_RATE: None,  # no audits are recorded yet
        FigureId.AUDIT_FRESHNESS: None,
    }
    return {"figures": {k.value: v for k, v in values.items()},
            "counts": {"shelter_alert_pairs": c.pairs, "verified_open_within_5_min": c.open_5,
                       "verified_open_during_alert": c.open_during, "opened_pairs": opened,
                       "keyholder_check_ins": c.check_ins,
                       "shelter_alert_hours": round(c.shelter_alert_s / 3600, 3),
                       "locked_cases": len(cases), "locked_cases_during_alerts": len(during),
                       "cases_opened": len(to_open), "cases_closed": len(closed),
                       "cases_closed_on_time": on_time, "cases_open_overdue": overdue,
                       "cases_never_opened": len(cases) - len(to_open),
                       "full_reports": c.full, "unfit_reports": c.unfit,
                       "missing_reports": c.missing}}


def share_by(session: Session, column: str, scope: Scope) -> dict[str, dict[str, float | None]]:
    """The pair figures per area or per owner, in one GROUP BY, for comparison and ranking."""
    key = getattr(StatsPair, column)
    rows = session.execute(
        select(key, func.count(),
               func.coalesce(func.sum(case((StatsPair.open_after_s <= figures.OPEN_WITHIN_S, 1),
                                           else_=0)), 0),
               func.count(StatsPair.open_after_s), func.count(StatsPair.check_in_after_s))
        .where(*_where(StatsPair, scope, StatsPair.started_at), key.is_not(None))
        .group_by(key)).all()
    return {str(r[0]): {"pairs": r[1], "open_5": int(r[2]),
                        FigureId.OPEN_WITHIN_5_MIN.value: figures.share(int(r[2]), int(r[1])),
                        FigureId.OPEN_DURING_ALERT.value: figures.share(int(r[3]), int(r[1])),
                        FigureId.CHECK_IN_RATE.value: figures.share(int(r[4]), int(r[1]))}
            for r in rows}


def monthly(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Verified-open share per month: the trend chart."""
    month = _month(session, StatsPair.started_at)
    rows = session.execute(
        select(month, func.count(),
               func.coalesce(func.sum(case((StatsPair.open_after_s <= figures.OPEN_WITHIN_S, 1),
                                           else_=0)), 0), func.count(StatsPair.open_after_s))
        .where(*_where(StatsPair, scope, StatsPair.started_at)).group_by(month).order_by(month)
    ).all()
    return [{"month": r[0], "pairs": r[1], "within_5_min": figures.share(int(r[2]), int(r[1])),
             "during_alert": figures.share(int(r[3]), int(r[1]))} for r in rows]


BUCKETS = ((60, "≤1 min"), (120, "1–2 min"), (300, "2–5 min"), (600, "5–10 min"),
           (1800, "10–30 min"), (None, ">30 min"))


def distribution(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """How many pairs opened how long after the alert started, and how many never did."""
    t = StatsPair.open_after_s
    columns, low = [], -1
    for high, _ in BUCKETS:
        cond = and_(t > low, t <= high) if high is not None else t > low
        columns.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0))
        low = high if high is not None else low
    columns.append(func.coalesce(func.sum(case((t.is_(None), 1), else_=0)), 0))
    row = session.execute(select(*columns)
                          .where(*_where(StatsPair, scope, StatsPair.started_at))).one()
    labels = [label for _, label in BUCKETS] + ["never"]
    return [{"bucket": label, "pairs": int(n)} for label, n in zip(labels, row, strict=True)]


def cases(session: Session, scope: Scope, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Each locked-door case's lifecycle, newest first."""
    rows = session.execute(select(StatsCase)
                           .where(*_where(StatsCase, scope, StatsCase.created_at))
                           .order_by(StatsCase.created_at.desc()).limit(limit)).scalars()

    def iso(at: datetime | None) -> str | None:
        return as_utc(at).isoformat().replace("+00:00", "Z") if at else None

    return [{"tracking_id": r.tracking_id, "shelter_id": r.shelter_id, "area_id": r.area_id,
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
