"""The night's outcome table: what happened to people and doors, from the journeys alone.

Pure: the run against the server and the baseline are summarised by the same function, so a
difference between the two columns is a difference between the nights, not between counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shelterwatch.simulate.city import Door, DoorWorld
from shelterwatch.simulate.journey import Journey


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by nearest rank, None when there is nothing to rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True, slots=True)
class Outcome:
    residents: int
    locked_after_report: int  # residents who reached a door already reported locked
    locked_arrivals: int  # residents who reached any locked door
    sheltered_in_warning: int  # through an open door before the threat arrived
    sheltered: int  # … by the end of the night followed
    steered: int  # residents the app turned away from a door on their way
    reported_doors: int  # doors reported locked
    opened_doors: int  # of those, opened during the night
    unlocked_doors: int  # locked doors opened by anyone (patrol rounds, controllers, dispatch)
    locked_doors: int  # doors locked at the alert's start
    time_to_open_s: tuple[float, ...]  # first report → door open, each opened door
    first_walk_p50_s: float | None  # how far the first shelter they were sent to was
    patrol_utilisation: float | None = None
    offline_lookups: int | None = None  # look-ups the phone ranked from its pack (no answer)
    notifications: Mapping[str, int] = field(default_factory=dict)
    latency_ms: Mapping[str, tuple[float | None, float | None, int]] = field(
        default_factory=dict)  # route → (p50, p99, requests)

    def share(self, count: int) -> float:
        return count / self.residents if self.residents else 0.0

    @property
    def open_p50(self) -> float | None:
        return quantile(self.time_to_open_s, 0.5)

    @property
    def open_p90(self) -> float | None:
        return quantile(self.time_to_open_s, 0.9)


def summarise(journeys: Sequence[Journey], world: DoorWorld, *, warning_s: float,
              patrol_utilisation: float | None = None,
              offline_lookups: int | None = None,
              notifications: Mapping[str, int] | None = None,
              latency_ms: Mapping[str, tuple[float | None, float | None, int]] | None = None,
              ) -> Outcome:
    """Count each resident once per figure; time to open is per reported door."""
    opened = {sid: world.opened_at[sid] - t for sid, t in world.first_report_s.items()
              if sid in world.opened_at and world.opened_at[sid] >= t}
    return Outcome(
        residents=len(journeys),
        locked_after_report=sum(any(a.after_first_report for a in j.arrivals)
                                for j in journeys),
        locked_arrivals=sum(any(a.found == Door.LOCKED for a in j.arrivals) for j in journeys),
        sheltered_in_warning=sum((j.sheltered_at or float("inf")) <= warning_s
                                 for j in journeys),
        sheltered=sum(j.sheltered_at is not None for j in journeys),
        steered=sum(j.steered > 0 for j in journeys),
        reported_doors=len(world.first_report_s),
        opened_doors=len(opened),
        unlocked_doors=len(world.opened_at),
        locked_doors=sum(p.door == Door.LOCKED for p in world.plans.values()),
        time_to_open_s=tuple(sorted(opened.values())),
        first_walk_p50_s=quantile([j.first_walk_s for j in journeys
                                   if j.first_walk_s is not None], 0.5),
        patrol_utilisation=patrol_utilisation,
        offline_lookups=offline_lookups,
        notifications=dict(notifications or {}),
        latency_ms=dict(latency_ms or {}),
    )


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def table(title: str, night: Outcome, baseline: Outcome) -> str:
    """The outcome as a Markdown table, shelterwatch beside the night without it."""
    rows = [
        ("residents", str(night.residents), str(baseline.residents)),
        ("reached a door already reported locked (goal < 1%)",
         f"{_pct(night.share(night.locked_after_report))} ({night.locked_after_report})",
         f"{_pct(baseline.share(baseline.locked_after_report))} "
         f"({baseline.locked_after_report})"),
        ("reached any locked door", _pct(night.share(night.locked_arrivals)),
         _pct(baseline.share(baseline.locked_arrivals))),
        ("through an open door within the warning time",
         _pct(night.share(night.sheltered_in_warning)),
         _pct(baseline.share(baseline.sheltered_in_warning))),
        ("through an open door by the end", _pct(night.share(night.sheltered)),
         _pct(baseline.share(baseline.sheltered))),
        ("walk to the first shelter chosen, p50", _s(night.first_walk_p50_s),
         _s(baseline.first_walk_p50_s)),
        ("turned away on the way by the app", _pct(night.share(night.steered)), "—"),
        ("doors reported locked / opened",
         f"{night.reported_doors} / {night.opened_doors}",
         f"{baseline.reported_doors} / {baseline.opened_doors}"),
        ("locked doors opened (patrols, controllers)",
         f"{night.unlocked_doors} of {night.locked_doors}",
         f"{baseline.unlocked_doors} of {baseline.locked_doors}"),
        ("time to open p50 / p90", f"{_s(night.open_p50)} / {_s(night.open_p90)}",
         f"{_s(baseline.open_p50)} / {_s(baseline.open_p90)}"),
        ("patrol utilisation", "—" if night.patrol_utilisation is None
         else _pct(night.patrol_utilisation), "—"),
        ("look-ups the phone ranked from its pack (no answer in time)",
         "—" if night.offline_lookups is None else str(night.offline_lookups), "—"),
        ("notifications sent", ", ".join(f"{k} {v}" for k, v in sorted(
            night.notifications.items())) or "0", "—"),
    ]
    for route, (p50, p99, n) in sorted(night.latency_ms.items()):
        rows.append((f"{route} latency p50 / p99 ({n} requests)",
                     f"{_ms(p50)} / {_ms(p99)}", "—"))
    lines = [f"### {title}", "", "| figure | with shelterwatch | without (baseline) |",
             "|---|---:|---:|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)
