"""alerts.in.ua: the active-alerts list through the official `alerts-in-ua` client library.

The library sends `If-Modified-Since` with the `Last-Modified` of its previous answer and reuses
that answer on HTTP 304, so a quiet poll costs the provider nothing. Its location UIDs are our
area ids; an alert on a place we do not know is placed on its oblast (warn wider, never miss).
"""

from __future__ import annotations

import logging
from typing import Any

from alerts_in_ua import Client
from alerts_in_ua import errors as client_errors

from shelterwatch.alerts.sources.polling import FeedError, RateLimited, Snapshot
from shelterwatch.config import Settings
from shelterwatch.rules.alert_feed import FeedAlert
from shelterwatch.vocabulary import AlertType, Threat

SOURCE = "alerts-in-ua"
logger = logging.getLogger(__name__)

TYPES = {
    "air_raid": AlertType.AIR_RAID,
    "artillery_shelling": AlertType.ARTILLERY,
    "urban_fights": AlertType.URBAN_FIGHTS,
    "chemical": AlertType.CHEMICAL,
    "nuclear": AlertType.NUCLEAR,
}
# Threat words as they appear in `threats[].threat_type`, most urgent first.
THREAT_WORDS: tuple[tuple[str, Threat], ...] = (
    ("ballistic", Threat.BALLISTIC),
    ("cruise", Threat.CRUISE),
    ("missile", Threat.CRUISE),
    ("drone", Threat.DRONES),
    ("shahed", Threat.DRONES),
    ("uav", Threat.DRONES),
    ("aviation", Threat.AVIATION),
    ("aircraft", Threat.AVIATION),
    ("bomb", Threat.AVIATION),
)


def threat_of(threats: list[Any]) -> Threat:
    """The most urgent threat the alert lists, or unknown."""
    kinds = " ".join(str(getattr(t, "threat_type", "") or "").lower() for t in threats)
    for word, threat in THREAT_WORDS:
        if word in kinds:
            return threat
    return Threat.UNKNOWN


class AlertsInUaPoller:
    source = SOURCE

    def __init__(self, base_url: str, token: str) -> None:
        self.client = Client(token=token)
        # The library hard-codes the production host; point it at the configured one.
        self.client.base_url = base_url.rstrip("/") + "/v1/"

    def fetch(self, known_areas: set[str], cursor: str | None) -> Snapshot:
        try:
            alerts = self.client.get_active_alerts(use_cache=True)
        except client_errors.RateLimitError as exc:
            raise RateLimited(exc.message) from exc
        except client_errors.ApiError as exc:
            raise FeedError(exc.message) from exc
        except KeyError as exc:  # a 200 without the Last-Modified header the library needs
            raise FeedError(f"response lacks {exc.args[0]}") from exc
        except (ValueError, TypeError, AttributeError) as exc:  # not JSON, or not its shape
            raise FeedError(f"malformed payload: {exc}") from exc
        except OSError as exc:  # connection refused, timeouts (requests' errors are OSErrors)
            raise FeedError(f"cannot reach alerts.in.ua: {exc}") from exc
        out: list[FeedAlert] = []
        for alert in alerts:
            if alert.id is None or alert.started_at is None:
                raise FeedError(f"alert without id or started_at: {alert!r}")
            if alert.finished_at is not None:
                continue
            kind = TYPES.get(str(alert.alert_type))
            if kind is None:
                logger.info("alerts.in.ua alert %s of type %r not tracked", alert.id,
                            alert.alert_type)
                continue
            area = str(alert.location_uid)
            if area not in known_areas:
                oblast = str(alert.location_oblast_uid)
                if oblast not in known_areas:
                    logger.warning("alerts.in.ua alert %s on unknown place %r (%s) skipped",
                                   alert.id, area, alert.location_title)
                    continue
                logger.info("alerts.in.ua alert %s on unknown %r placed on oblast %s",
                            alert.id, area, oblast)
                area = oblast
            out.append(FeedAlert(source_ref=str(alert.id), area_id=area, type=kind,
                                 threat=threat_of(alert.threats),
                                 started_at=alert.started_at))
        return Snapshot(alerts=out, cursor=None)


def make_poller(settings: Settings) -> AlertsInUaPoller:
    if not settings.alerts_in_ua_token:
        raise ValueError("SHELTERWATCH_ALERTS_IN_UA_TOKEN is not set; ask api@alerts.in.ua")
    return AlertsInUaPoller(settings.alerts_in_ua_url, settings.alerts_in_ua_token)
