"""Turn a feed's snapshot of what is on now into start and end transitions.

Feeds that publish "the list of active alerts" (alerts.in.ua, ukrainealarm) never say "ended";
an alert that disappears from the list has ended. Keeping the diff pure makes repeated and
out-of-order snapshots provably harmless: the same snapshot twice yields nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shelterwatch.vocabulary import AlertType, Threat


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """One alert as a source reports it, already mapped onto our areas and words."""

    source_ref: str
    area_id: str
    type: AlertType
    threat: Threat
    started_at: datetime


@dataclass(frozen=True, slots=True)
class FeedDiff:
    starts: tuple[FeedAlert, ...]
    ends: tuple[str, ...]  # source refs of open alerts no longer listed


def reconcile(held: Iterable[tuple[str, str, AlertType]],
              snapshot: Iterable[FeedAlert]) -> FeedDiff:
    """Starts for listed alerts whose (area, type) we do not hold open, ends for the rest.

    `held` is (source_ref, area_id, type) of the source's open alerts. Matching on the place and
    type rather than on the provider's id means a push and a poll of the same alert, which name
    it differently, still agree on one alert.
    """
    held_slots: dict[tuple[str, AlertType], str] = {}
    for ref, area_id, kind in held:
        held_slots.setdefault((area_id, kind), ref)
    listed: dict[tuple[str, AlertType], FeedAlert] = {}
    for alert in sorted(snapshot, key=lambda a: (a.started_at, a.source_ref)):
        listed.setdefault((alert.area_id, alert.type), alert)
    starts = tuple(a for slot, a in sorted(listed.items()) if slot not in held_slots)
    ends = tuple(sorted(ref for slot, ref in held_slots.items() if slot not in listed))
    return FeedDiff(starts=starts, ends=ends)


def is_stale(last_ok_at: datetime | None, now: datetime, stale_after_s: float) -> bool:
    """A feed is stale when it has not answered well for longer than the configured silence."""
    if last_ok_at is None:
        return True
    return (now - last_ok_at).total_seconds() > stale_after_s
