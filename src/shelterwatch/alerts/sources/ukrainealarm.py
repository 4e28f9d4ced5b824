"""ukrainealarm.com API v3: poll `/api/v3/alerts/status`, fetch `/api/v3/alerts` when it moved.

`lastActionIndex` grows with every change on the provider's side, so a quiet poll is one tiny
request. The provider has no alert ids: an alert is a region, a type and the moment it was set
(`lastUpdate`). Its region ids are our area ids. The push (webhook) carries the same facts one at
a time and is applied through the same service, so push and poll agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from shelterwatch.alerts import service
from shelterwatch.alerts.sources.polling import FeedError, RateLimited, Snapshot
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput
from shelterwatch.rules.alert_feed import FeedAlert
from shelterwatch.vocabulary import AlertType, Threat

SOURCE = "ukrainealarm"
logger = logging.getLogger(__name__)

TYPES = {
    "AIR": AlertType.AIR_RAID,
    "ARTILLERY": AlertType.ARTILLERY,
    "URBAN_FIGHTS": AlertType.URBAN_FIGHTS,
    "CHEMICAL": AlertType.CHEMICAL,
    "NUCLEAR": AlertType.NUCLEAR,
}


def parse_time(value: Any) -> datetime:
    """The provider's ISO 8601 timestamps ("2023-05-31T23:49:31Z"), as aware datetimes."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_alerts(payload: Any, known_areas: set[str]) -> list[FeedAlert]:
    """The `/api/v3/alerts` body as our alerts; FeedError if it is not that shape at all."""
    if not isinstance(payload, list):
        raise FeedError(f"expected a list of regions, got {type(payload).__name__}")
    out: list[FeedAlert] = []
    for region in payload:
        try:
            for item in region["activeAlerts"]:
                area = str(item["regionId"])
                kind = TYPES.get(str(item["type"]))
                started = parse_time(item["lastUpdate"])
                if kind is None:
                    continue  # INFO and UNKNOWN are notices, not alerts
                if area not in known_areas:
                    logger.warning("ukrainealarm alert on unknown region %r skipped", area)
                    continue
                out.append(FeedAlert(source_ref=f"{area}:{item['type']}:{started.isoformat()}",
                                     area_id=area, type=kind, threat=Threat.UNKNOWN,
                                     started_at=started))
        except (KeyError, TypeError, ValueError) as exc:
            raise FeedError(f"malformed region entry {str(region)[:200]}: {exc!r}") from exc
    return out


class UkraineAlarmPoller:
    source = SOURCE

    def __init__(self, base_url: str, key: str, timeout_s: float = 10.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                 headers={"Authorization": key, "Accept": "application/json"})

    def _get(self, path: str) -> Any:
        try:
            response = self.http.get(path)
        except httpx.HTTPError as exc:
            raise FeedError(f"cannot reach ukrainealarm: {exc}") from exc
        if response.status_code == 429:
            raise RateLimited(f"HTTP 429 on {path}")
        if response.status_code != 200:
            raise FeedError(f"HTTP {response.status_code} on {path}")
        try:
            return response.json()
        except ValueError as exc:
            raise FeedError(f"{path} is not JSON: {exc}") from exc

    def fetch(self, known_areas: set[str], cursor: str | None) -> Snapshot:
        status = self._get("/api/v3/alerts/status")
        if not isinstance(status, dict) or "lastActionIndex" not in status:
            raise FeedError(f"status without lastActionIndex: {str(status)[:200]}")
        index = str(status["lastActionIndex"])
        if cursor is not None and index == cursor:
            return Snapshot(alerts=None, cursor=index)
        return Snapshot(alerts=parse_alerts(self._get("/api/v3/alerts"), known_areas),
                        cursor=index)


def make_poller(settings: Settings) -> UkraineAlarmPoller:
    if not settings.ukrainealarm_key:
        raise ValueError("SHELTERWATCH_UKRAINEALARM_KEY is not set; request one at "
                         "api.ukrainealarm.com")
    return UkraineAlarmPoller(settings.ukrainealarm_url, settings.ukrainealarm_key)


@dataclass(frozen=True, slots=True)
class Push:
    """One webhook call: a region's alert of a type switched on or off at a moment."""

    area_id: str
    type: AlertType
    active: bool
    at: datetime
    raw_type: str


def parse_push(body: Any) -> Push | None:
    """The webhook body, or None for notice types we do not track; InvalidInput if malformed."""
    try:
        raw_type = str(body["alertType"])
        status = str(body["status"])
        area = str(body["regionId"])
        at = parse_time(body.get("createdAt") or body.get("lastUpdate"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"not a ukrainealarm webhook body: {exc!r}") from exc
    if status not in {"Activate", "Deactivate"}:
        raise InvalidInput(f"unknown webhook status {status!r}; expected Activate or Deactivate")
    kind = TYPES.get(raw_type)
    if kind is None:
        return None
    return Push(area_id=area, type=kind, active=status == "Activate", at=at, raw_type=raw_type)


def apply_push(session: Session, push: Push, *, now: datetime) -> service.Transition | None:
    """Start or end the alert the push names; repeats and late pushes change nothing."""
    actor = f"feed:{SOURCE}"
    if push.active:
        return service.start(session, area_id=push.area_id, type=push.type,
                             threat=Threat.UNKNOWN, started_at=push.at, source=SOURCE,
                             source_ref=f"{push.area_id}:{push.raw_type}:{push.at.isoformat()}",
                             actor=actor, now=now)
    alert = service.open_in_slot(session, source=SOURCE, area_id=push.area_id, type=push.type)
    if alert is None:
        return None
    return service.end(session, alert=alert, ended_at=push.at, actor=actor, now=now)
