"""Inspection campaigns: an area, the kinds of shelter, a deadline, split among inspection groups.

After 1 June 2023 about 2,000 groups checked 62,912 shelters in nine days, and ministers published
one table: inspected / closed / not ready, per district and day. `progress` is that table, one
set-based query whatever the campaign's size; `backlog` lists what is overdue for (re-)audit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.orm import Session

from shelterwatch import bulk, db
from shelterwatch.areas import service as areas
from shelterwatch.areas.models import Area
from shelterwatch.audits.models import Audit, Campaign, CampaignShelter, ShelterReadiness
from shelterwatch.audits.schemas import CampaignIn
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.log import service as log
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Readiness, ShelterKind

BACKLOG_PAGE = 500


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def split(shelters: list[tuple[int, str, float]], groups: list[str]) -> list[tuple[int, str, str]]:
    """(shelter, district, group): neighbouring shelters of a district go to the same group, and
    groups get as near equal shares as whole numbers allow."""
    ordered = sorted(shelters, key=lambda s: (s[1], s[2], s[0]))
    n, k = len(ordered), len(groups)
    out = []
    for i, (sid, area_id, _) in enumerate(ordered):
        out.append((sid, area_id, groups[i * k // n] if n else groups[0]))
    return out


def create(session: Session, body: CampaignIn, *, now: datetime, actor: str,
           reaudit_days: int) -> Campaign:
    """A campaign over every shelter of these kinds in the area and below it."""
    areas.get_or_raise(session, body.area_id)
    unknown = sorted(set(body.kinds) - {k.value for k in ShelterKind})
    if unknown:
        raise InvalidInput(f"kinds: no shelter kind {', '.join(unknown)}")
    if len(set(body.groups)) != len(body.groups):
        raise InvalidInput("groups: each inspection group is named once")
    if _utc(body.deadline) <= now:
        raise InvalidInput("deadline: already passed")
    query = select(Shelter.id, Shelter.area_id, Shelter.lat).where(
        Shelter.area_id.in_(areas.covered_by(session, body.area_id)))
    if body.kinds:
        query = query.where(Shelter.kind.in_(body.kinds))
    found = [(int(r[0]), str(r[1]), float(r[2])) for r in session.execute(query)]
    if not found:
        raise InvalidInput(f"no shelters of kinds {body.kinds or 'any'} in area {body.area_id}")
    campaign = Campaign(name=body.name, area_id=body.area_id,
                        kinds=orjson.dumps(sorted(body.kinds)).decode(),
                        deadline=_utc(body.deadline),
                        reaudit_days=body.reaudit_days or reaudit_days, created_at=now)
    session.add(campaign)
    session.flush()
    assigned = split(found, body.groups)
    bulk.insert(session, db.table_of(CampaignShelter), [
        {"campaign_id": campaign.id, "shelter_id": sid, "area_id": area_id, "group_name": g}
        for sid, area_id, g in assigned])
    sizes: dict[str, int] = {}
    for _, _, g in assigned:
        sizes[g] = sizes.get(g, 0) + 1
    log.append(session, kind=FactKind.CAMPAIGN_CREATED, actor=actor, now=now, payload={
        "campaign_id": campaign.id, "name": body.name, "area_id": body.area_id,
        "kinds": sorted(body.kinds), "deadline": campaign.deadline.isoformat(),
        "reaudit_days": campaign.reaudit_days, "shelters": len(assigned), "groups": sizes})
    return campaign


def get_or_raise(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return campaign


def public(session: Session, c: Campaign) -> dict[str, Any]:
    groups = dict(session.execute(
        select(CampaignShelter.group_name, func.count()).where(
            CampaignShelter.campaign_id == c.id).group_by(CampaignShelter.group_name)).all())
    return {"id": c.id, "name": c.name, "area_id": c.area_id, "kinds": orjson.loads(c.kinds),
            "deadline": _utc(c.deadline).isoformat(), "reaudit_days": c.reaudit_days,
            "shelters": sum(groups.values()), "groups": groups}


def _day_in(zone: ZoneInfo, utc_hour: str) -> str:
    """The city's calendar day of an hour "YYYY-MM-DD HH" in UTC."""
    at = datetime.strptime(utc_hour[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
    return at.astimezone(zone).date().isoformat()


def _utc_hour(session: Session, column: Any) -> Any:
    """"YYYY-MM-DD HH" of a stored time in UTC, in SQL (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def progress(session: Session, campaign_id: int, *, timezone: str = "Europe/Kyiv"
             ) -> dict[str, Any]:
    """Inspected / closed / not ready per district and per day (the city's calendar days), and
    per district in all: the table the ministry published in 2023.

    The database groups by district and UTC hour (a few thousand rows for a national campaign),
    and the hours are folded into the city's days here: the same on both databases, and right
    across daylight-saving changes. Per day, `inspected` counts the audits recorded that day.
    """
    campaign = get_or_raise(session, campaign_id)
    hour = _utc_hour(session, Audit.recorded_at)
    hourly = session.execute(
        select(CampaignShelter.area_id, hour, func.count(),
               func.sum(case((Audit.closed_on_arrival.is_(True), 1), else_=0).cast(Integer)),
               func.sum(case((Audit.category == Readiness.NOT_READY.value, 1),
                             else_=0).cast(Integer)))
        .join(CampaignShelter, and_(CampaignShelter.campaign_id == Audit.campaign_id,
                                    CampaignShelter.shelter_id == Audit.shelter_id))
        .where(Audit.campaign_id == campaign.id)
        .group_by(CampaignShelter.area_id, hour)).all()
    zone = ZoneInfo(timezone)
    days: dict[tuple[str, str], list[int]] = {}
    for area_id, at_hour, n, closed, not_ready in hourly:
        cell = days.setdefault((area_id, _day_in(zone, str(at_hour))), [0, 0, 0])
        cell[0] += int(n)
        cell[1] += int(closed or 0)
        cell[2] += int(not_ready or 0)
    per_day = [(a, d, *counts) for (a, d), counts in sorted(days.items())]
    # Each audit finds its district by the assignment's primary key: no scan per shelter.
    inspected = dict(session.execute(
        select(CampaignShelter.area_id, func.count(func.distinct(Audit.shelter_id)))
        .join(CampaignShelter, and_(CampaignShelter.campaign_id == Audit.campaign_id,
                                    CampaignShelter.shelter_id == Audit.shelter_id))
        .where(Audit.campaign_id == campaign.id)
        .group_by(CampaignShelter.area_id)).all())
    assigned = session.execute(
        select(CampaignShelter.area_id, func.count())
        .where(CampaignShelter.campaign_id == campaign.id)
        .group_by(CampaignShelter.area_id).order_by(CampaignShelter.area_id)).all()
    totals = [(a, n, inspected.get(a, 0)) for a, n in assigned]
    names = dict(session.execute(select(Area.id, Area.name)).all())
    return {
        "campaign_id": campaign.id,
        "districts": [{"area_id": a, "name": names.get(a, a), "shelters": int(n),
                       "inspected": int(i)} for a, n, i in totals],
        "days": [{"area_id": a, "day": d, "inspected": i, "closed": c, "not_ready": nr}
                 for a, d, i, c, nr in per_day],
    }


def backlog(session: Session, campaign_id: int, *, now: datetime,
            limit: int = BACKLOG_PAGE) -> dict[str, Any]:
    """Shelters overdue for audit: never audited after the deadline, or whose last full audit is
    older than the re-audit interval (quarterly by default). Oldest first."""
    campaign = get_or_raise(session, campaign_id)
    cutoff = now - timedelta(days=campaign.reaudit_days)
    never = ShelterReadiness.full_audited_at.is_(None)
    stale = ShelterReadiness.full_audited_at < cutoff
    due = (never | stale) if now > _utc(campaign.deadline) else stale
    where = and_(CampaignShelter.campaign_id == campaign.id, due,
                 ShelterReadiness.ghost_reason.is_(None))
    base = (select(CampaignShelter.shelter_id, CampaignShelter.group_name,
                   CampaignShelter.area_id, ShelterReadiness.full_audited_at)
            .outerjoin(ShelterReadiness,
                       ShelterReadiness.shelter_id == CampaignShelter.shelter_id)
            .where(where))
    count = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(ShelterReadiness.full_audited_at.is_not(None),
                                         ShelterReadiness.full_audited_at,
                                         CampaignShelter.shelter_id).limit(limit)).all()
    return {"campaign_id": campaign.id, "overdue": int(count), "shelters": [
        {"shelter_id": sid, "group": g, "area_id": a,
         "last_full_audit": _utc(at).isoformat() if at else None,
         "due": (_utc(at) + timedelta(days=campaign.reaudit_days)).isoformat() if at
         else _utc(campaign.deadline).isoformat()} for sid, g, a, at in rows]}


def worklist(session: Session, campaign_id: int, group: str | None) -> dict[str, Any]:
    """A group's shelters, for the inspectors' page to keep offline."""
    campaign = get_or_raise(session, campaign_id)
    query = (select(Shelter.id, Shelter.name, Shelter.address, Shelter.lat, Shelter.lon,
                    Shelter.kind, Shelter.capacity, CampaignShelter.group_name,
                    ShelterReadiness.category, ShelterReadiness.full_audited_at)
             .join(CampaignShelter, CampaignShelter.shelter_id == Shelter.id)
             .outerjoin(ShelterReadiness, ShelterReadiness.shelter_id == Shelter.id)
             .where(CampaignShelter.campaign_id == campaign.id))
    if group is not None:
        query = query.where(CampaignShelter.group_name == group)
    rows = session.execute(query.order_by(Shelter.area_id, Shelter.lat, Shelter.id)).all()
    return {"campaign": public(session, campaign), "shelters": [
        {"id": r[0], "name": r[1], "address": r[2], "lat": r[3], "lon": r[4], "kind": r[5],
         "capacity": r[6], "group": r[7], "category": r[8],
         "due": (_utc(r[9]) + timedelta(days=campaign.reaudit_days)).isoformat() if r[9]
         else _utc(campaign.deadline).isoformat()} for r in rows]}
