"""Every owner's or leaf area's counts for a window, in a handful of GROUP BYs over the rollups:
what every figure is ranked on (`stats.report` ranks them; `rules.figures` holds the formulas)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from shelterwatch.rules import figures
from shelterwatch.stats.models import StatsCase, StatsDaily, StatsOpenTimes, StatsPair
from shelterwatch.stats.queries import (
    Scope,
    aligned,
    audit_counts,
    daily_where,
    scope_where,
    seconds_between,
    total,
)
from shelterwatch.stats.service import EVERYWHERE, as_utc, day_of


def _responsiveness(session: Session, where: list[Any], took: Any) -> list[tuple[Any, Any]]:
    """Each owner's FixMyStreet responsiveness: the mean report → close over its own last 100
    closed cases, in one window query over the cases (not the pairs)."""
    c = StatsCase
    latest = select(c.owner_id.label("owner_id"), took.label("took"), func.row_number().over(
        partition_by=c.owner_id, order_by=(c.closed_at.desc(), c.incident_id.desc()))
        .label("n")).where(*where, c.closed_at.is_not(None)).subquery()
    return [(r[0], r[1]) for r in session.execute(
        select(latest.c.owner_id, func.avg(latest.c.took))
        .where(latest.c.n <= figures.RESPONSIVENESS_CASES).group_by(latest.c.owner_id))]


def by_group(session: Session, by: str, scope: Scope, *, now: datetime,
            target_s: float) -> dict[str, figures.Tally]:
    """Every owner's (by="owner_id") or leaf area's (by="area_id") counts for the window, in a
    handful of GROUP BYs over the rollups: what every figure is ranked on."""
    now, scope = as_utc(now), aligned(scope)
    out = audit_counts(session, replace(scope, start=None, end=None), now=now, by=by)

    def of(name: Any) -> figures.Tally:
        return out.setdefault(str(name), figures.Tally())

    d = StatsDaily
    key = getattr(d, by)
    for row in session.execute(select(
            key, total(d.pairs), total(d.open_5), total(d.open_during), total(d.check_ins),
            total(d.alert_s), total(d.full_reports), total(d.unfit_reports),
            total(d.missing_reports), total(d.open_s), total(d.check_in_s))
            .where(*daily_where(scope), key != 0 if by == "owner_id" else key != "")
            .group_by(key)):
        t = of(row[0])
        t.pairs, t.open_5, t.open_during, t.check_ins = (int(v) for v in row[1:5])
        t.alert_s = float(row[5] or 0)
        t.full, t.unfit, t.missing = (int(v) for v in row[6:9])
        t.open_s, t.check_in_s = float(row[9]), float(row[10])
    p = StatsPair
    pkey = getattr(p, by)
    for name, seconds in session.execute(
            select(pkey, total(seconds_between(session, now, p.started_at)))
            .where(p.ended_at.is_(None), pkey.is_not(None), *scope_where(p, scope, p.started_at))
            .group_by(pkey)):
        of(name).alert_s += float(seconds or 0)
    c = StatsCase
    ckey = getattr(c, by)
    where = [ckey.is_not(None), *scope_where(c, scope, c.created_at)]
    took = seconds_between(session, c.closed_at, c.created_at)
    for name, during, closed, on_time, overdue in session.execute(select(
            ckey, func.count(c.alert_id), func.count(c.closed_at),
            total(case((and_(c.closed_at.is_not(None), took <= target_s + 0.001), 1), else_=0)),
            total(case((and_(c.closed_at.is_(None),
                            seconds_between(session, now, c.created_at) > target_s), 1), else_=0)))
            .where(*where).group_by(ckey)):
        t = of(name)
        t.locked_during, t.closed, t.on_time, t.overdue = (int(during), int(closed),
                                                           int(on_time), int(overdue))
    to_open = func.round(seconds_between(session, c.door_open_at, c.created_at))
    for name, seconds, n in session.execute(
            select(ckey, to_open, func.count()).where(*where, c.door_open_at.is_not(None))
            .group_by(ckey, to_open)):
        t = of(name)
        t.case_open_s = t.case_open_s or {}
        t.case_open_s[int(seconds)] = t.case_open_s.get(int(seconds), 0) + int(n)
    for t in out.values():
        t.case_open_s = t.case_open_s or {}
    if by == "owner_id":
        for name, mean in _responsiveness(session, where, took):
            of(name).responsiveness_s = round(float(mean), 1)
        for t in out.values():
            t.responsiveness_read = True
    if by == "area_id":
        o = StatsOpenTimes
        query = select(o.area_id, o.bucket_s, total(o.n)).where(o.area_id != EVERYWHERE)
        if scope.start is not None:
            query = query.where(o.day >= day_of(scope.start))
        if scope.end is not None:
            query = query.where(o.day < day_of(scope.end))
        for area, bucket, n in session.execute(query.group_by(o.area_id, o.bucket_s)):
            t = of(area)
            t.open_buckets = t.open_buckets or {}
            t.open_buckets[int(bucket)] = int(n)
        for t in out.values():
            t.open_buckets = t.open_buckets or {}
    return out
