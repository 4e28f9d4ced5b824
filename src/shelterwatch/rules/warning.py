"""Is a place under alert now, of which threat, and how many seconds do people there have?

One pure answer used everywhere (nearest-shelter ranking, keyholder check-ins, patrol rounds), so
the API, the worker and a replayed scenario can never disagree about whether the siren is on.
An alert on an area covers every area below it, so the caller passes the place's ancestor chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shelterwatch.vocabulary import AlertType, Threat

# DESIGN §2 defaults; the settings override them.
DEFAULT_THREAT_S: Mapping[Threat, int] = {
    Threat.BALLISTIC: 120,
    Threat.CRUISE: 600,
    Threat.DRONES: 900,
    Threat.AVIATION: 300,
    Threat.UNKNOWN: 120,
}
DEFAULT_ARTILLERY_S = 0


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An alert as the rule needs it: where, what, since when, until when (None = still on)."""

    id: int
    area_id: str
    type: AlertType
    threat: Threat
    started_at: datetime
    ended_at: datetime | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class WarningConfig:
    """Warning seconds per threat, for artillery, and per (area, threat) overrides."""

    per_threat: Mapping[Threat, int] = field(default_factory=lambda: dict(DEFAULT_THREAT_S))
    artillery_s: int = DEFAULT_ARTILLERY_S
    # area id -> threat -> seconds; the nearest area in the chain with an override wins.
    overrides: Mapping[str, Mapping[Threat, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertWarning:
    """The answer: `under_alert` with the most urgent covering alert, or a calm verdict."""

    under_alert: bool
    alert_id: int | None = None
    area_id: str | None = None  # the area the covering alert was issued for
    type: AlertType | None = None
    threat: Threat | None = None
    warning_s: int | None = None
    started_at: datetime | None = None
    alert_ids: tuple[int, ...] = ()

    @classmethod
    def calm(cls) -> AlertWarning:
        return _CALM  # one shared verdict: asked for on every calm look-up, and immutable


_CALM = AlertWarning(under_alert=False)


def is_active(alert: ActiveAlert, now: datetime) -> bool:
    """Started at or before `now` and not yet ended at `now` (an end is exclusive)."""
    return alert.started_at <= now and (alert.ended_at is None or now < alert.ended_at)


def seconds_for(alert: ActiveAlert, chain: Sequence[str], config: WarningConfig) -> int:
    """Warning seconds for this alert at a place whose ancestor chain is `chain`."""
    threat = alert.threat
    for area_id in chain:
        per_area = config.overrides.get(area_id)
        if per_area and threat in per_area:
            return per_area[threat]
    if alert.type is AlertType.ARTILLERY:
        return config.artillery_s
    return config.per_threat.get(threat, config.per_threat.get(Threat.UNKNOWN, 120))


def warning_for(
    alerts: Iterable[ActiveAlert],
    chain: Sequence[str],
    config: WarningConfig,
    now: datetime,
) -> AlertWarning:
    """The most urgent alert covering a place, given its ancestor chain (itself first).

    Most urgent = fewest seconds of warning; ties go to the earliest start, then the lowest id,
    so the answer does not flicker between equal alerts.
    """
    covering = set(chain)
    candidates = [a for a in alerts if a.area_id in covering and is_active(a, now)]
    if not candidates:
        return AlertWarning.calm()
    ranked = sorted(candidates, key=lambda a: (seconds_for(a, chain, config), a.started_at, a.id))
    top = ranked[0]
    return AlertWarning(
        under_alert=True,
        alert_id=top.id,
        area_id=top.area_id,
        type=top.type,
        threat=top.threat,
        warning_s=seconds_for(top, chain, config),
        started_at=top.started_at,
        alert_ids=tuple(sorted(a.id for a in candidates)),
    )
