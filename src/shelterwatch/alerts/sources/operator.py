"""The operator desk: alerts started and ended by hand through the API (role operator)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shelterwatch.alerts import service
from shelterwatch.areas import service as areas
from shelterwatch.vocabulary import AlertType, Threat

SOURCE = "operator"


def start(session: Session, *, area_id: str, type: AlertType, threat: Threat,
          started_at: datetime | None, actor: str, now: datetime) -> service.Transition:
    """Start an alert the operator declared; the area must exist (404 otherwise)."""
    areas.get_or_raise(session, area_id)
    return service.start(session, area_id=area_id, type=type, threat=threat,
                         started_at=started_at or now, source=SOURCE, source_ref=None,
                         actor=actor, now=now)


def end(session: Session, *, alert_id: int, ended_at: datetime | None, actor: str,
        now: datetime) -> service.Transition:
    """End any alert by id: the desk may overrule a feed that failed to send its all-clear."""
    return service.end_by_id(session, alert_id=alert_id, ended_at=ended_at or now, actor=actor,
                             now=now)
