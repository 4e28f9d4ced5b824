"""Rate limits and spread limits as a pure rule, so a whole batch of writes is judged at once.

A batch of reports asks, in order, for units of several limits: a network's rate, a device's rate,
how many different shelters a source reached. Judged one at a time against the database each
ask costs a round trip or two; judged here, over what the batch read in one query per table, the
answers are the same as one by one, in the same order (`judge` over asks equals `judge` over each
ask after the ones before it), and the rows to write are the last state of each key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rate:
    """Up to `limit` hits per `window_s` for one key (a generic cell-rate algorithm: a burst up
    to the limit, then one more every window/limit)."""

    scope: str
    key: str
    limit: int
    window_s: float


@dataclass(frozen=True, slots=True)
class Spread:
    """A key may touch at most `limit` different items in `window_s` (one person is at one
    door); the items it already touched stay open to it."""

    scope: str
    key: str
    item: str
    limit: int
    window_s: float


Check = Rate | Spread
EPSILON_S = 1e-6
Cell = tuple[str, str]  # (scope, key)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which check of an ask refused it, and what to tell the caller."""

    index: int  # of the check in its ask
    wait_s: float = 0.0  # a rate: seconds until the next unit
    limit: int = 0  # a spread: the limit it would exceed


@dataclass
class Ledger:
    """What the limits know at one moment: each rate cell's theoretical arrival time (epoch
    seconds); per spread key, how many different items it touched within its window, and which
    of the items asked about are among them."""

    tats: dict[Cell, float] = field(default_factory=dict)
    counts: dict[Cell, int] = field(default_factory=dict)
    touched: set[tuple[str, str, str]] = field(default_factory=set)
    moved_tats: set[Cell] = field(default_factory=set)
    moved_marks: set[tuple[str, str, str]] = field(default_factory=set)


def rate_step(tat: float | None, t: float, limit: int, window_s: float) -> tuple[float, float]:
    """The cell after one more hit at `t`, and 0; or the cell as it was and the seconds to wait."""
    interval = window_s / max(1, limit)
    tolerance = window_s - interval
    arrival = max(tat if tat is not None else t, t)
    # Sums of window/limit drift by a rounding error: the burst's last unit is not refused for it.
    if arrival - t > tolerance + EPSILON_S:
        return (tat if tat is not None else t), arrival - t - tolerance
    return arrival + interval, 0.0


def rate_take(tat: float | None, t: float, wanted: int, rate_per_s: float,
              burst: float) -> tuple[float | None, int]:
    """The cell after taking up to `wanted` units at `t` of `rate_per_s` in bursts of `burst`,
    and how many were granted: what `wanted` single hits of the same allowance would give, for a
    sender that settles a whole round of messages at once."""
    interval = 1.0 / rate_per_s
    tolerance = (max(1.0, burst) - 1.0) * interval
    arrival = max(tat if tat is not None else t, t)
    # epoch seconds carry ~0.2 µs of rounding per sum: a thousandth of a unit's spacing absorbs
    # a round's worth of it, so taking n at once and n one by one agree
    ahead = arrival - t - max(EPSILON_S, interval / 1000)
    room = int((tolerance - ahead) / interval) + 1 if ahead <= tolerance else 0
    granted = max(0, min(wanted, room))
    return (arrival + granted * interval if granted else tat), granted


def rate_wait(tat: float | None, t: float, rate_per_s: float, burst: float) -> float:
    """Seconds from `t` until the allowance has a unit again (0: it has one now)."""
    interval = 1.0 / rate_per_s
    tolerance = (max(1.0, burst) - 1.0) * interval
    arrival = max(tat if tat is not None else t, t)
    return max(0.0, arrival - t - tolerance)


def postponed_tat(until: float, rate_per_s: float, burst: float) -> float:
    """The arrival time at which an allowance next has a unit exactly at `until` (a provider's
    "retry after"): `rate_wait` of it is `until - t` for any earlier `t`."""
    return until + (max(1.0, burst) - 1.0) / rate_per_s


@dataclass(frozen=True, slots=True)
class Allowance:
    """One unit of a deployment-wide rate: `rate_per_s` sustained, bursts of `burst`."""

    scope: str
    key: str
    rate_per_s: float
    burst: float


def take_each(tats: dict[Cell, float], asks: Iterable[Sequence[Allowance]],
              t: float) -> tuple[list[float], set[Cell]]:
    """Each ask in order takes one unit of every allowance it names, or none at all: a message
    needs its channel's and its recipient's, and one refused by the recipient must not spend
    the channel's. Returns each ask's wait (0: granted) and the cells that moved; `tats` is
    updated in place. Asks naming one allowance grant what `rate_take` of as many would."""
    waits: list[float] = []
    moved: set[Cell] = set()
    for ask in asks:
        steps = [(a, rate_take(tats.get((a.scope, a.key)), t, 1, a.rate_per_s, a.burst))
                 for a in ask]
        if all(granted for _, (_, granted) in steps):
            for a, (tat, _) in steps:
                if tat is not None:
                    tats[(a.scope, a.key)] = tat
                    moved.add((a.scope, a.key))
            waits.append(0.0)
        else:
            waits.append(max(max(rate_wait(tats.get((a.scope, a.key)), t, a.rate_per_s,
                                           a.burst), EPSILON_S)
                             for a, (_, granted) in steps if not granted))
    return waits, moved


def spread_allows(count: int, already: bool, limit: int) -> bool:
    """Whether a key that touched `count` different items in its window may touch one more:
    always one it `already` touched, else only while under the limit."""
    return already or count < limit


def judge(ledger: Ledger, asks: Iterable[Sequence[Check]], t: float) -> list[Refusal | None]:
    """Each ask in order: every check passes and counts, or the first to refuse stops it (the
    checks before it still count, as they would one at a time)."""
    return [_one(ledger, ask, t) for ask in asks]


def _one(ledger: Ledger, ask: Sequence[Check], t: float) -> Refusal | None:
    for n, check in enumerate(ask):
        cell = (check.scope, check.key)
        if isinstance(check, Rate):
            tat, wait = rate_step(ledger.tats.get(cell), t, check.limit, check.window_s)
            if wait > 0:
                return Refusal(n, wait_s=wait)
            ledger.tats[cell] = tat
            ledger.moved_tats.add(cell)
        else:
            mark = (check.scope, check.key, check.item)
            already = mark in ledger.touched
            if not spread_allows(ledger.counts.get(cell, 0), already, check.limit):
                return Refusal(n, limit=check.limit)
            if not already:
                ledger.touched.add(mark)
                ledger.counts[cell] = ledger.counts.get(cell, 0) + 1
            ledger.moved_marks.add(mark)
    return None
