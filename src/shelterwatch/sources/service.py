"""The surge detector and the one-click quarantine of a source's evidence.

The limits (reports/limits.py) bound what one network can move; this shows the desk who is
pushing against them. A *source* is where residents' reports came from: a keyed digest of the
network (the IPv4 address or IPv6 /56), the same for every issued device id behind it, so a
client minting ids is one source. One person is at one door, so a source whose reports in the
last hour touch several shelters, or arrive in a burst, is flagged with the figures that flagged
it; twenty phones behind one carrier NAT at one door touch one shelter and are shown as such.

Quarantining a source appends `source.quarantined` and re-derives the statuses of the shelters it
reported about without its evidence (each explains how many reporters were set aside); its open
cases that nobody else reported are closed as false reports and their patrol tasks called off.
Releasing it puts its evidence back. The evidence itself is never deleted: it stays in the log,
weighed as nothing while the quarantine lasts. The source key and the operator's reason are kept
in the facts' private part;
the public log says only that a source was quarantined and which shelters were re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, false, func, or_, select
from sqlalchemy.orm import Session

from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.errors import Conflict, NotFound
from shelterwatch.incidents import service as incidents
from shelterwatch.incidents.models import Incident
from shelterwatch.log import chain
from shelterwatch.log import service as log
from shelterwatch.observations import quarantine as quarantines
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import Observation, SourceQuarantine
from shelterwatch.patrols import service as patrols
from shelterwatch.rules import status as status_rules
from shelterwatch.vocabulary import FactKind, Resolution, Role

WINDOW = timedelta(hours=1)
BURST = timedelta(minutes=5)
SHOWN = 50  # flagged sources on the console, most shelters first


@dataclass(frozen=True, slots=True)
class Flagged:
    """One source as the desk sees it: what it did in the last hour, and why it is shown."""

    source: str
    reports: int
    shelters: int
    reporters: int
    burst: int  # reports in the last five minutes
    first_at: datetime
    last_at: datetime
    shelter_ids: list[int]
    reasons: list[str]
    quarantined: bool


def flagged(session: Session, *, settings: Settings, now: datetime) -> list[Flagged]:
    """Sources whose last hour looks like a flood, and every source under quarantine.

    One aggregate query over the last hour's residents' reports (indexed by time), grouped by
    source; the shelters of the shown sources in a second.
    """
    at = as_utc(now)
    o = Observation
    recent = func.sum(case((o.at >= at - BURST, 1), else_=0))
    spread = func.count(distinct(o.shelter_id))
    aside = quarantines.quarantined(session)
    rows = session.execute(
        select(o.source, func.count().label("reports"), spread.label("shelters"),
               func.count(distinct(o.reporter)).label("reporters"), recent.label("burst"),
               func.min(o.at).label("first_at"), func.max(o.at).label("last_at"))
        .where(o.role == Role.RESIDENT.value, o.source != "", o.at >= at - WINDOW, o.at <= at)
        .group_by(o.source)
        .having(or_(spread >= settings.surge_shelters_per_hour,
                    recent >= settings.surge_reports_per_5_min,
                    o.source.in_(sorted(aside)) if aside else false()))
        .order_by(spread.desc(), func.count().desc(), o.source).limit(SHOWN)).all()
    shown = {r.source: r for r in rows}
    if not shown:
        return []
    places: dict[str, list[int]] = {}
    for source, shelter_id in session.execute(
            select(o.source, o.shelter_id).distinct()
            .where(o.source.in_(sorted(shown)), o.at >= at - WINDOW, o.at <= at)
            .order_by(o.source, o.shelter_id)):
        places.setdefault(source, []).append(shelter_id)
    result = []
    for r in rows:
        reasons = []
        if r.shelters >= settings.surge_shelters_per_hour:
            reasons.append(f"reports about {r.shelters} different shelters in the last hour "
                           "(one person is at one door)")
        if int(r.burst) >= settings.surge_reports_per_5_min:
            reasons.append(f"{int(r.burst)} reports in the last five minutes")
        if r.source in aside:
            reasons.append("quarantined")
        result.append(Flagged(r.source, int(r.reports), int(r.shelters), int(r.reporters),
                              int(r.burst), as_utc(r.first_at), as_utc(r.last_at),
                              places.get(r.source, []), reasons, r.source in aside))
    return result


def public(item: Flagged) -> dict[str, Any]:
    """A flagged source for the operator: a digest and figures, never an address or a device."""
    return {"source": item.source, "reports": item.reports, "shelters": item.shelters,
            "reporters": item.reporters, "reports_last_5_min": item.burst,
            "first_at": chain.format_at(item.first_at), "last_at": chain.format_at(item.last_at),
            "shelter_ids": item.shelter_ids, "reasons": item.reasons,
            "quarantined": item.quarantined}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a quarantine or a release did."""

    source: str
    quarantined: bool
    shelters: list[int]  # re-derived
    changed: list[int]  # whose status moved
    closed: list[int]  # cases closed as false reports


def quarantine(session: Session, *, source: str, reason: str, actor: str,
               now: datetime) -> Outcome:
    """Set a source's evidence aside and re-derive what it moved; the caller commits."""
    row = session.get(SourceQuarantine, source)
    if row is not None and row.released_at is None:
        raise Conflict("this source is already quarantined")
    shelters = _touched(session, source, now)
    if not shelters and row is None:
        raise NotFound("no resident's report came from this source in the evaluation horizon")
    seq = log.append(session, kind=FactKind.SOURCE_QUARANTINED, actor=actor, now=now,
                     payload={"shelter_ids": shelters},
                     private={"source": source, "reason": reason})
    quarantines.apply_quarantined(session, source=source, reason=reason, actor=actor, at=now,
                                  seq=seq)
    changed = _reevaluate(session, shelters, actor, now)
    closed = _close_its_cases(session, source, shelters, actor, now)
    return Outcome(source, True, shelters, changed, closed)


def release(session: Session, *, source: str, actor: str, now: datetime) -> Outcome:
    """Put a quarantined source's evidence back and re-derive; the caller commits."""
    row = session.get(SourceQuarantine, source)
    if row is None or row.released_at is not None:
        raise NotFound("this source is not quarantined")
    shelters = _touched(session, source, now)
    log.append(session, kind=FactKind.SOURCE_RELEASED, actor=actor, now=now,
               payload={"shelter_ids": shelters}, private={"source": source})
    quarantines.apply_released(session, source=source, actor=actor, at=now)
    return Outcome(source, False, shelters, _reevaluate(session, shelters, actor, now), [])


def _touched(session: Session, source: str, now: datetime) -> list[int]:
    """The shelters this source reported about that the status rule can still weigh: bounded by
    the source's own spread limit, not by the registry."""
    since = as_utc(now) - timedelta(seconds=status_rules.DEFAULT_POLICY.horizon_s)
    return sorted(session.execute(
        select(Observation.shelter_id).distinct().where(
            Observation.source == source, Observation.role == Role.RESIDENT.value,
            Observation.at >= since, Observation.at <= as_utc(now))).scalars())


def _reevaluate(session: Session, shelters: list[int], actor: str, now: datetime) -> list[int]:
    changed = []
    for shelter_id in shelters:
        result = observations.evaluate(session, shelter_id=shelter_id, now=now, seq=None,
                                       actor=actor, trigger=observations.QUARANTINE_TRIGGER)
        if result.changed:
            changed.append(shelter_id)
    return changed


def _close_its_cases(session: Session, source: str, shelters: list[int], actor: str,
                     now: datetime) -> list[int]:
    """Close the open cases on these shelters that only this source reported: nobody else saw
    the door locked, so keyholders and patrols are called off."""
    if not shelters:
        return []
    closed = []
    for incident in session.execute(
            select(Incident).where(Incident.shelter_id.in_(shelters),
                                   Incident.resolved_at.is_(None))).scalars().all():
        others = session.scalar(
            select(func.count()).select_from(Observation).where(
                Observation.incident_id == incident.id,
                or_(Observation.source != source, Observation.role != Role.RESIDENT.value)))
        if others:
            continue
        incidents.resolve(session, incident=incident, resolution=Resolution.FALSE_REPORT,
                          observation_id=None, actor=actor, now=now)
        patrols.cancel_open_for_incident(session, incident_id=incident.id, now=now, actor=actor)
        closed.append(incident.id)
    return closed
