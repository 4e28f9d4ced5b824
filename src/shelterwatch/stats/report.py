"""One report for a scope, shared by the JSON, the CSV and the pages: the figures, the city's
figures beside them, the rankings, the charts' data and the cases — with the location policy
applied (shelters in configured oblasts are named only by their oblast)."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.config import Settings
from shelterwatch.rules import figures
from shelterwatch.rules.figures import FigureId
from shelterwatch.stats import queries, tallies
from shelterwatch.stats import service as stats
from shelterwatch.stats.queries import Scope
from shelterwatch.stats.service import as_utc


def hidden_areas(session: Session, settings: Settings) -> dict[str, str]:
    """Every area under a hidden oblast → that oblast."""
    hidden: dict[str, str] = {}
    for oblast in settings.stats_hidden_oblasts:
        for aid in queries.descendants(session, oblast):
            hidden[aid] = oblast
    return hidden


def _hide(cases: list[dict[str, Any]], hidden: dict[str, str]) -> list[dict[str, Any]]:
    for case in cases:
        if case["area_id"] in hidden:
            case.update(incident_id=None, shelter_id=None, tracking_id=None,
                        area_id=hidden[case["area_id"]], location_hidden=True)
    return cases


def _areas(session: Session) -> dict[str, Area]:
    return {a.id: a for a in session.execute(select(Area)).scalars()}


def _rolled_up(by_leaf: dict[str, dict[str, float | None]], areas: dict[str, Area],
               keep: set[str] | None) -> dict[str, dict[str, Any]]:
    """Per-area pair shares from the leaves the pairs name, summed up the area tree."""
    sums: dict[str, dict[str, float]] = {}
    for leaf, row in by_leaf.items():
        current: str | None = leaf
        seen: set[str] = set()
        pairs = float(row["pairs"] or 0)
        while current is not None and current not in seen:
            seen.add(current)
            acc = sums.setdefault(current, {"pairs": 0.0, "open5": 0.0})
            acc["pairs"] += pairs
            acc["open5"] += float(row["open_5"] or 0)
            parent = areas.get(current)
            current = parent.parent_id if parent else None
    return {aid: {"pairs": int(v["pairs"]),
                  FigureId.OPEN_WITHIN_5_MIN.value: figures.share(int(v["open5"]),
                                                                  int(v["pairs"]))}
            for aid, v in sums.items() if keep is None or aid in keep}


def _districts(by_leaf: dict[str, figures.Tally],
               areas: dict[str, Area]) -> dict[str, figures.Tally]:
    """Each district's tally: the sum of its own and every area's under it."""
    out: dict[str, figures.Tally] = {}
    for leaf, t in by_leaf.items():
        current: str | None = leaf
        seen: set[str] = set()
        while current is not None and current not in seen:
            seen.add(current)
            area = areas.get(current)
            if area is None:
                break
            if area.level == "district":
                out.setdefault(current, figures.Tally(open_buckets={}, case_open_s={})).add(t)
                break
            current = area.parent_id
    return out


def rankings(session: Session, scope: Scope, areas: dict[str, Area], *, now: datetime,
             target_s: float) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every figure, every district and owner ranked on it (1 = best, ties share a rank, no
    data unranked). Owners are ranked on the mean time from the alert to an open door and to
    the keyholder's check-in, and on responsiveness; not on that time's percentiles (its
    histogram is kept per area only). Districts are not ranked on responsiveness (the mean of
    the last 100 cases does not add up across areas)."""
    window = Scope(start=scope.start, end=scope.end)
    groups = {
        "districts": _districts(tallies.by_group(session, "area_id", window, now=now,
                                                target_s=target_s), areas),
        "owners": tallies.by_group(session, "owner_id", window, now=now, target_s=target_s)}
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started = queries.audits_started(session)
    for among, tallied in groups.items():
        values = {name: figures.tally_figures(t, audits_started=started)
                  for name, t in tallied.items()}
        for d in figures.DEFINITIONS:
            if not any(d.id in v for v in values.values()):
                continue
            ranked = figures.rank({name: v[d.id] for name, v in values.items() if d.id in v},
                                  higher_is_better=d.higher_is_better)
            out.setdefault(d.id.value, {})[among] = [
                {"id": r.key, "value": r.value, "rank": r.rank} for r in ranked]
    return out


def _place(ranks: dict[str, dict[str, list[dict[str, Any]]]], fid: str, among: str,
           key: str) -> dict[str, Any]:
    listed = ranks.get(fid, {}).get(among)
    if not listed:
        return {}
    mine = next((r for r in listed if r["id"] == key), None)
    return {"rank": mine["rank"] if mine else None,
            "of": sum(1 for r in listed if r["rank"] is not None), "among": among}


# The city's figures, beside every district's and owner's: the same for every page until the
# rollups move on (or the minute turns, for running alerts and overdue cases).
_CITY: dict[tuple[Any, ...], dict[str, Any]] = {}
_CITY_LOCK = threading.Lock()


def _city(session: Session, scope: Scope, *, now: datetime, target_s: float) -> dict[str, Any]:
    key = (str(session.get_bind().engine.url), stats.applied_seq(session), scope.start, scope.end,
           target_s,
           as_utc(now).replace(second=0, microsecond=0))
    with _CITY_LOCK:
        held = _CITY.get(key)
    if held is not None:
        return held
    city = queries.figures_for(session, scope, now=now, target_s=target_s)
    city.pop("buckets", None)
    with _CITY_LOCK:
        if len(_CITY) > 64:
            _CITY.clear()
        _CITY[key] = city
    return city


_RANKS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _ranked(session: Session, scope: Scope, areas: dict[str, Area], *, now: datetime,
            target_s: float) -> dict[str, Any]:
    """The rankings are the city's for the window: the same on every page, held like the
    city's figures until the rollups move on or the minute turns."""
    key = (str(session.get_bind().engine.url), stats.applied_seq(session), scope.start,
           scope.end, target_s, as_utc(now).replace(second=0, microsecond=0))
    with _CITY_LOCK:
        held = _RANKS.get(key)
    if held is not None:
        return held
    ranks = rankings(session, scope, areas, now=now, target_s=target_s)
    with _CITY_LOCK:
        if len(_RANKS) > 64:
            _RANKS.clear()
        _RANKS[key] = ranks
    return ranks


def build(session: Session, settings: Settings, scope: Scope, *, now: datetime,
          with_cases: bool = True, hide: bool = True) -> dict[str, Any]:
    target = settings.stats_case_target_s
    mine = queries.figures_for(session, scope, now=now, target_s=target)
    buckets = mine.pop("buckets")
    city_scope = Scope(start=scope.start, end=scope.end)
    city = mine if scope == city_scope else _city(session, city_scope, now=now,
                                                  target_s=target)
    areas = _areas(session)
    hidden = hidden_areas(session, settings) if hide else {}
    by_area = _rolled_up(queries.share_by(session, "area_id", city_scope), areas, None)
    key = FigureId.OPEN_WITHIN_5_MIN.value
    district_ranks = figures.rank(
        {aid: row[key] for aid, row in by_area.items()
         if areas.get(aid) is not None and areas[aid].level == "district"},
        higher_is_better=True)
    by_owner = queries.share_by(session, "owner_id", city_scope)
    owner_ranks = figures.rank({oid: row[key] for oid, row in by_owner.items()},
                               higher_is_better=True)
    week = queries.share_by(session, "owner_id",
                            Scope(start=as_utc(now) - timedelta(days=7)))
    worst = figures.worst({oid: row[key] for oid, row in week.items()}, higher_is_better=True)
    ranks = _ranked(session, scope, areas, now=now, target_s=target)
    among, me = None, None
    if scope.owner_id is not None and scope.area_ids is None:
        among, me = "owners", str(scope.owner_id)
    elif scope.area and scope.owner_id is None and areas.get(scope.area) is not None \
            and areas[scope.area].level == "district":
        among, me = "districts", scope.area
    comparison = {
        fid: {"value": v, "city": city["figures"][fid],
              "versus_city": None if v is None or city["figures"][fid] is None
              else v - city["figures"][fid],
              **(_place(ranks, fid, among, me) if among and me else {})}
        for fid, v in mine["figures"].items()}
    report: dict[str, Any] = {
        "scope": {"area": scope.area or (scope.area_ids[0] if scope.area_ids else None),
                  "owner": scope.owner_id,
                  "from": scope.start.isoformat() if scope.start else None,
                  "to": scope.end.isoformat() if scope.end else None},
        "figures": mine["figures"], "counts": mine["counts"], "versus_city": comparison,
        "definitions": {d.id.value: {"unit": d.unit, "higher_is_better": d.higher_is_better,
                                     "title_en": d.title_en, "title_uk": d.title_uk,
                                     "definition": d.definition_en}
                        for d in figures.DEFINITIONS},
        "case_target_s": target,
        "districts": [{"area_id": r.key, "name": areas[r.key].name,
                       "name_en": areas[r.key].name_en, "value": r.value, "rank": r.rank,
                       "pairs": by_area[r.key]["pairs"]} for r in district_ranks],
        "owners": [{"owner_id": int(r.key), "value": r.value, "rank": r.rank,
                    "pairs": by_owner[r.key]["pairs"]} for r in owner_ranks],
        "worst_owners_7_days": [{"owner_id": int(r.key), "value": r.value,
                                 "pairs": week[r.key]["pairs"]} for r in worst],
        "rankings": ranks,
        "monthly": queries.monthly(session, scope),
        "time_to_open_distribution": queries.distribution(
            buckets, mine["counts"]["shelter_alert_pairs"]),
    }
    if with_cases:
        report["cases"] = _hide(queries.cases(session, scope), hidden)
    return report


FIGURE_COLUMNS = ("figure", "value", "city", "rank", "of", "among", "unit", "definition")
CASE_COLUMNS = ("tracking_id", "shelter_id", "area_id", "owner_id", "alert_id", "created",
                "first_notified", "patrol_dispatched", "door_open", "closed", "resolution",
                "evidence_kind")


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def figures_csv(report: dict[str, Any]) -> str:
    return _csv(FIGURE_COLUMNS, [
        (fid, report["figures"][fid], report["versus_city"][fid]["city"],
         report["versus_city"][fid].get("rank"), report["versus_city"][fid].get("of"),
         report["versus_city"][fid].get("among"),
         report["definitions"][fid]["unit"], report["definitions"][fid]["definition"])
        for fid in report["figures"]])


def cases_csv(report: dict[str, Any]) -> str:
    return _csv(CASE_COLUMNS, [[case.get(c) for c in CASE_COLUMNS] for case in report["cases"]])
