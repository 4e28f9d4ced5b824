"""The location policy on the public log: facts about a shelter, a case at one, or a place
reported, inside an oblast of SHELTERWATCH_STATS_HIDDEN_OBLASTS are exported without their
content. The statistics and dossiers already name such shelters only by their oblast; the log
would otherwise tell anyone which doors were reported locked, when, and where.

A redacted fact keeps its seq, time, kind and hashes: the chain still links through it and the
signed tree still holds its leaf, so the export stays checkable (the verifier takes a redacted
fact's hash as given), and whoever holds the whole log — `shelterwatch log verify` on the
database — checks its content. The cost of one page is bounded by the page: one query for its
cases' shelters, one for the shelters' areas, and the area tree (not the registry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.areas.models import Area
from shelterwatch.incidents.models import Incident
from shelterwatch.log.models import Fact
from shelterwatch.shelters.models import Shelter
from shelterwatch.stats.service import subjects_of
from shelterwatch.vocabulary import FactKind, Noun, subject_of, subjects_in


def _ids(subjects: Iterable[str], noun: Noun) -> set[int]:
    found = (subject_of(s, noun) for s in subjects)
    return {int(s.id) for s in found if s is not None and str(s.id).isdigit()}


def _hidden_area(parents: dict[str, str | None], hidden: frozenset[str]) -> dict[str, bool]:
    """Whether each area lies in (or is) a hidden oblast, walking up the area tree once each."""
    memo: dict[str, bool] = {}

    def under(area_id: str | None, seen: frozenset[str] = frozenset()) -> bool:
        if area_id is None or area_id in seen:
            return False
        if area_id not in memo:
            memo[area_id] = area_id in hidden or under(parents.get(area_id), seen | {area_id})
        return memo[area_id]

    return {a: under(a) for a in parents}


def redacted_seqs(session: Session, facts: Sequence[Fact],
                  hidden_oblasts: Sequence[str]) -> frozenset[int]:
    """The seqs of these facts whose content the public export withholds."""
    if not hidden_oblasts or not facts:
        return frozenset()
    hidden = frozenset(hidden_oblasts)
    payloads: dict[int, dict[str, Any]] = {f.seq: orjson.loads(f.payload) for f in facts}
    about: dict[int, set[str]] = {}
    for f in facts:
        subjects = subjects_of(f.kind, payloads[f.seq])
        listed = payloads[f.seq].get("shelter_ids")
        if isinstance(listed, list):  # an owner's or a keyholder's shelters
            subjects |= {f"{Noun.SHELTER.value}:{i}" for i in listed if isinstance(i, int)}
        # A delivery's subject may name its shelter further in ("alert:3:shelter:88").
        subjects |= {str(s) for s in subjects_in(payloads[f.seq].get("subject"))}
        about[f.seq] = subjects
    incidents = set().union(*(_ids(s, Noun.INCIDENT) for s in about.values()))
    incident_shelter = dict(session.execute(
        select(Incident.id, Incident.shelter_id).where(Incident.id.in_(incidents))).all()
    ) if incidents else {}
    shelters = set().union(*(_ids(s, Noun.SHELTER) for s in about.values()))
    shelters |= {s for s in incident_shelter.values() if s is not None}
    area_of: dict[int, str] = {}
    for f in facts:  # a shelter created on this page is not necessarily stored yet as such
        if f.kind in (FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED):
            area_of[int(payloads[f.seq]["id"])] = str(payloads[f.seq].get("area_id"))
    missing = shelters - set(area_of)
    if missing:
        area_of.update(session.execute(
            select(Shelter.id, Shelter.area_id).where(Shelter.id.in_(missing))).all())
    parents = dict(session.execute(select(Area.id, Area.parent_id)).all())
    in_hidden = _hidden_area(parents, hidden)
    hidden_shelters = {s for s, a in area_of.items() if in_hidden.get(a, a in hidden)}
    hidden_incidents = {i for i, s in incident_shelter.items() if s in hidden_shelters}
    places = _hidden_places(session, [f for f in facts
                                      if f.kind == FactKind.PLACE_NO_SHELTER_REPORTED],
                            payloads, hidden)
    return frozenset(
        seq for seq, subjects in about.items()
        if _ids(subjects, Noun.SHELTER) & hidden_shelters
        or _ids(subjects, Noun.INCIDENT) & hidden_incidents
        or seq in places)


def _hidden_places(session: Session, facts: Sequence[Fact], payloads: dict[int, dict[str, Any]],
                   hidden: frozenset[str]) -> set[int]:
    """Reports of a place with no shelter near, whose point lies inside a hidden oblast."""
    if not facts:
        return set()
    shapes = [shape(orjson.loads(g)) for g in session.execute(
        select(Area.geometry).where(Area.id.in_(hidden), Area.geometry.is_not(None))).scalars()
        if g]
    if not shapes:  # no outline to test against: withhold every place rather than guess
        return {f.seq for f in facts}
    outline = shapely.union_all(shapes)
    return {f.seq for f in facts
            if outline.intersects(shapely.Point(payloads[f.seq]["lon"], payloads[f.seq]["lat"]))}
