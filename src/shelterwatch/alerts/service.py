"""Starting and ending alerts, and asking which are on. Callers own the transaction.

Every transition appends `alert.started` / `alert.ended` with the alert's public fields, so the
stream, the worker and a rebuild all learn of it from the log. Transitions are idempotent on
(source, source_ref): a repeated start returns the alert already held, a repeated or early end
changes nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shelterwatch.alerts.models import Alert
from shelterwatch.areas import service as areas
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings, get_settings
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.log import service as log
from shelterwatch.rules import alert_feed, warning
from shelterwatch.vocabulary import AlertType, FactKind, Threat

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Transition:
    """What a call did: the alert, and whether this call changed it (False = already so)."""

    alert: Alert
    changed: bool


def public_fields(alert: Alert) -> dict[str, Any]:
    """The alert as anyone may see it; also the payload of its facts."""
    return {
        "id": alert.id,
        "area_id": alert.area_id,
        "type": alert.type,
        "threat": alert.threat,
        "started_at": as_utc(alert.started_at).isoformat(),
        "ended_at": as_utc(alert.ended_at).isoformat() if alert.ended_at else None,
        "source": alert.source,
        "source_ref": alert.source_ref,
    }


def get_or_raise(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def find(session: Session, *, source: str, source_ref: str) -> Alert | None:
    return session.execute(
        select(Alert).where(Alert.source == source, Alert.source_ref == source_ref)
    ).scalar_one_or_none()


def open_in_slot(session: Session, *, source: str, area_id: str,
                 type: AlertType) -> Alert | None:
    """This source's open alert of this type on this area, if any."""
    return session.execute(
        select(Alert).where(Alert.source == source, Alert.area_id == area_id,
                            Alert.type == str(type), Alert.ended_at.is_(None))
    ).scalars().first()


CLOCK_SKEW_S = 120  # how far ahead a sender's clock may run


def start(
    session: Session,
    *,
    area_id: str,
    type: AlertType,
    threat: Threat = Threat.UNKNOWN,
    started_at: datetime,
    source: str,
    source_ref: str | None = None,
    actor: str,
    now: datetime,
) -> Transition:
    """Open an alert on an area; the same (source, source_ref) again returns the first one.

    A start in the future is refused beyond a small allowance for clocks that run ahead: it
    would sit inactive in the area's slot, and every real start after it would join it instead
    of sounding.
    """
    started = as_utc(started_at)
    if started > as_utc(now) + timedelta(seconds=CLOCK_SKEW_S):
        raise InvalidInput(
            f"started_at: {started.isoformat()} is in the future (more than {CLOCK_SKEW_S} s "
            f"ahead of the server's clock, {as_utc(now).isoformat(timespec='seconds')}); an "
            f"alert starts when it is declared")
    if source_ref is not None:
        held = find(session, source=source, source_ref=source_ref)
        if held is not None:
            return Transition(held, changed=False)
    # One source holds one open alert per area and type: a repeat under another name joins it.
    open_one = open_in_slot(session, source=source, area_id=area_id, type=type)
    if open_one is not None:
        return Transition(open_one, changed=False)
    # A start older than the end of an alert we already closed is a late echo of that alert.
    late = session.execute(
        select(Alert).where(Alert.source == source, Alert.area_id == area_id,
                            Alert.type == str(type), Alert.started_at <= started,
                            Alert.ended_at > started)
    ).scalars().first()
    if late is not None:
        return Transition(late, changed=False)
    source_ref = source_ref or uuid.uuid4().hex
    alert = Alert(area_id=area_id, type=str(type), threat=str(threat),
                  started_at=started, ended_at=None, source=source,
                  source_ref=source_ref)
    session.add(alert)
    session.flush()
    log.append(session, kind=FactKind.ALERT_STARTED, actor=actor, payload=public_fields(alert),
               now=now)
    return Transition(alert, changed=True)


def end(session: Session, *, alert: Alert, ended_at: datetime, actor: str,
        now: datetime) -> Transition:
    """Close an alert; ending it again is a no-op, an end before its start is clamped."""
    if alert.ended_at is not None:
        return Transition(alert, changed=False)
    ended = as_utc(ended_at)
    started = as_utc(alert.started_at)
    alert.ended_at = ended if ended >= started else started
    session.flush()
    log.append(session, kind=FactKind.ALERT_ENDED, actor=actor, payload=public_fields(alert),
               now=now)
    return Transition(alert, changed=True)


def end_by_ref(session: Session, *, source: str, source_ref: str, ended_at: datetime,
               actor: str, now: datetime) -> Transition | None:
    """End the alert a source knows as `source_ref`; None when we never saw it start."""
    alert = find(session, source=source, source_ref=source_ref)
    if alert is None:
        logger.info("end for unknown %s alert %r ignored", source, source_ref)
        return None
    return end(session, alert=alert, ended_at=ended_at, actor=actor, now=now)


def end_by_id(session: Session, *, alert_id: int, ended_at: datetime, actor: str,
              now: datetime) -> Transition:
    alert = get_or_raise(session, alert_id)
    return end(session, alert=alert, ended_at=ended_at, actor=actor, now=now)


def sync(session: Session, *, source: str, snapshot: Sequence[alert_feed.FeedAlert],
         actor: str, now: datetime) -> alert_feed.FeedDiff:
    """Make this source's open alerts match its latest list of active alerts."""
    held = session.execute(
        select(Alert.source_ref, Alert.area_id, Alert.type)
        .where(Alert.source == source, Alert.ended_at.is_(None))
    ).all()
    diff = alert_feed.reconcile([(r, a, AlertType(t)) for r, a, t in held], snapshot)
    for new in diff.starts:
        start(session, area_id=new.area_id, type=new.type, threat=new.threat,
              started_at=new.started_at, source=source, source_ref=new.source_ref,
              actor=actor, now=now)
    for ref in diff.ends:
        end_by_ref(session, source=source, source_ref=ref, ended_at=now, actor=actor, now=now)
    return diff


def list_active(session: Session, *, now: datetime) -> list[Alert]:
    """Alerts on at `now`, oldest first."""
    now = as_utc(now)  # SQLite keeps naive UTC, so compare in UTC
    rows = session.execute(
        select(Alert).where(Alert.started_at <= now,
                            or_(Alert.ended_at.is_(None), Alert.ended_at > now))
        .order_by(Alert.started_at, Alert.id)
    ).scalars().all()
    return list(rows)


def list_for_areas(session: Session, *, area_ids: Sequence[str],
                   since: datetime | None) -> list[Alert]:
    """Alerts on any of these areas that were still on at or after `since`, newest first."""
    query = select(Alert).where(Alert.area_id.in_(list(area_ids)))
    if since is not None:
        query = query.where(or_(Alert.ended_at.is_(None), Alert.ended_at >= as_utc(since)))
    return list(session.execute(query.order_by(Alert.started_at.desc(), Alert.id.desc()))
                .scalars().all())


def as_rule_input(alert: Alert) -> warning.ActiveAlert:
    return warning.ActiveAlert(
        id=alert.id, area_id=alert.area_id, type=AlertType(alert.type),
        threat=Threat(alert.threat), started_at=as_utc(alert.started_at),
        ended_at=as_utc(alert.ended_at) if alert.ended_at else None, source=alert.source,
    )


def warning_config(settings: Settings | None = None) -> warning.WarningConfig:
    """The warning times in force, from settings (DESIGN §2 defaults)."""
    s = settings or get_settings()
    return warning.WarningConfig(
        per_threat={
            Threat.BALLISTIC: s.warning_ballistic_s,
            Threat.CRUISE: s.warning_cruise_s,
            Threat.DRONES: s.warning_drones_s,
            Threat.AVIATION: s.warning_aviation_s,
            Threat.UNKNOWN: s.warning_unknown_s,
        },
        artillery_s=s.warning_artillery_s,
        overrides=s.warning_overrides,
    )


def active_for_area(session: Session, area_id: str, now: datetime, *,
                    settings: Settings | None = None) -> warning.AlertWarning:
    """Is this area (or a shelter in it) under alert at `now`, which threat, how long to react.

    The one function every domain asks; an alert on any ancestor of the area covers it.
    """
    now = as_utc(now)
    chain = areas.ancestors_of(session, area_id)
    active = session.execute(
        select(Alert).where(Alert.area_id.in_(chain), Alert.started_at <= now,
                            or_(Alert.ended_at.is_(None), Alert.ended_at > now))
    ).scalars().all()
    return warning.warning_for([as_rule_input(a) for a in active], chain,
                               warning_config(settings), as_utc(now))
