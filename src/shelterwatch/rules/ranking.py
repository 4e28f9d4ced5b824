"""Which shelters to send a resident to, in what order, and why.

The order is the expected time to safety: the walk to a door, plus the chance that door does not
let the resident in times the walk on to the next door. A door a keyholder checked in is almost
certainly open; a door nobody checked fails about one time in three (the June 2023 inspection of
Kyiv's shelters: 9.3% locked, 23.6% unfit), so a nearer unchecked door is the better bet unless
the checked one is only a little further. The city simulation found the old status-first order
(a checked door before every nearer unchecked one) got fewer people inside than walking to the
nearest door.

Three promises hold whatever the numbers: a door reported or confirmed locked, refused, full,
unfit or closed never comes before a door that might let people in (it is still shown, an
unverified report never hides a shelter, DESIGN §3.4, but after every better option); a shelter
an audit found not ready comes after the ready ones of its tier (shown, labelled with why: "no
water", "no step-free entrance"); and during an alert (`warning_s` set) a door that might admit
and is reachable within the warning time comes before every one that is not: a checked door a
40-minute walk away does not save anyone from a 120 s ballistic warning. The reasons under each
result say which of these put it where it is. The rule takes plain numbers and does no I/O, so
the server, the benchmark and the tests rank exactly alike; the phone's offline ranking in
`web/static/rank.js` mirrors it (`FAILS` reaches it in the page's configuration).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from shelterwatch.rules.readiness import reason_params
from shelterwatch.vocabulary import Readiness, Reason, ReasonCode, Status

MIN_RESULTS = 3  # always offer alternatives (issue 5)

# Status classes, best first. unfit and closed share the last class.
STATUS_CLASS: Mapping[Status, int] = {
    Status.OPEN_VERIFIED: 0,
    Status.FORCED_OPEN: 1,
    Status.OPEN_REPORTED: 2,
    Status.UNKNOWN: 3,
    Status.FULL: 4,
    Status.LOCKED_REPORTED: 5,
    Status.REFUSED_REPORTED: 5,
    Status.LOCKED_CONFIRMED: 6,
    Status.UNFIT: 7,
    Status.CLOSED: 7,
}

# The worst status class that might let the resident in: worse ones are never put before it.
MIGHT_ADMIT = STATUS_CLASS[Status.UNKNOWN]

# The chance a door with this status does not let the resident in, for the statuses that might.
# Unknown is the city's measured rate (the June 2023 inspection: 9.3% locked with nobody
# answering, 23.6% unfit); a keyholder's check-in or a forced door leaves little doubt; a
# resident saying it is open is one person's word.
FAILS: Mapping[Status, float] = {
    Status.OPEN_VERIFIED: 0.02,
    Status.FORCED_OPEN: 0.02,
    Status.OPEN_REPORTED: 0.10,
    Status.UNKNOWN: 0.33,
}

@dataclass(frozen=True, slots=True)
class WalkingModel:
    """How fast people walk and how much longer streets are than the straight line."""

    speed_mps: float = 1.3
    reduced_mobility_speed_mps: float = 0.8
    detour_factor: float = 1.3

    def walk_seconds(self, distance_m: float, *, reduced_mobility: bool = False) -> float:
        """Estimated walking time over a great-circle distance, detours included."""
        speed = self.reduced_mobility_speed_mps if reduced_mobility else self.speed_mps
        return distance_m * self.detour_factor / speed


class Candidate(NamedTuple):
    """One shelter near the resident, as the rule needs it.

    `walk_s` is set when a router measured the walk; otherwise the walking model estimates it.
    A named tuple rather than a dataclass: a dozen are built per look-up on the hot path.
    """

    shelter_id: int
    distance_m: float
    status: Status
    step_free: bool | None = None
    capacity: int | None = None
    walk_s: float | None = None
    readiness: Mapping[str, Any] | None = None  # the audits' `readiness` property, if audited

    @property
    def not_ready(self) -> bool:
        return bool(self.readiness
                    and self.readiness.get("category") == Readiness.NOT_READY.value)


class Facts(NamedTuple):
    """What the rule needs of one shelter apart from where the resident stands.

    It changes only when the shelter's status, audit or details do, so the API keeps one per
    shelter (`web.nearest.Kept`) instead of working it out for a dozen shelters per look-up.
    """

    shelter_id: int
    status: Status
    status_class: int
    fails: float  # the chance it does not let the resident in (1.0: it will not)
    not_ready: bool  # an audit found it not ready
    step_free: bool | None
    capacity: int | None
    readiness: Reason | None  # what the audit found lacking, as one reason


class Ranked(NamedTuple):
    """One answer: where, how long, whether in time, and why (codes the catalogue words in one
    line, `messages.status.why`). A named tuple: three or more are built per look-up."""

    shelter_id: int
    distance_m: float
    walk_s: int
    reachable_in_time: bool | None
    status: Status
    step_free: bool | None
    capacity: int | None
    why: tuple[Reason, ...]
    not_ready: bool = False  # an audit found it not ready (labelled in `why`)


def _readiness(readiness: Mapping[str, Any] | None) -> Reason | None:
    params = reason_params(readiness) if readiness else None
    return None if params is None else Reason.of(ReasonCode.READINESS, **params)


@lru_cache(maxsize=16_384)
def _why(status: Status, minutes: int, reachable: bool | None, lifted: bool, nearer: bool,
         step_free: bool, capacity: int, readiness: Reason | None,
         unconfirmed: bool) -> tuple[Reason, ...]:
    # Few distinct values (a status, whole minutes, a capacity, a handful of flags), so each
    # line of reasons is built once and the same tuple is handed out again; bounded whatever
    # the crowd.
    why = [Reason.of(ReasonCode.STATUS, status=status.value),
           Reason.of(ReasonCode.WALK, minutes=minutes)]
    if lifted:
        why.append(Reason.of(ReasonCode.IN_TIME_FIRST))
    elif reachable is True:
        why.append(Reason.of(ReasonCode.REACHABLE))
    elif reachable is False:
        why.append(Reason.of(ReasonCode.NOT_REACHABLE))
    if nearer and not lifted:
        why.append(Reason.of(ReasonCode.NEARER_FIRST))
    if step_free:
        why.append(Reason.of(ReasonCode.STEP_FREE))
    if capacity:
        why.append(Reason.of(ReasonCode.CAPACITY, capacity=capacity))
    if readiness is not None:
        why.append(readiness)
    if unconfirmed:
        why.append(Reason.of(ReasonCode.STEP_FREE_UNCONFIRMED))
    return tuple(why)


# A sort key: the group, then the expected seconds to safety (the walk for doors that will not
# admit), status class, walk, bigger known capacity, id; then the shelter's place in the pool
# (never compared: ids are unique). The group packs into one integer, in the order they are
# compared, the tier (0 in time during an alert, 1 might admit, 2 will not), the status class
# among doors that will not admit (0 for the rest; below 8) and not ready:
# `tier << 4 | worse_class << 1 | not_ready`.
Key = tuple[int, float, int, float, int, int, int]

_NOT_READY = Readiness.NOT_READY.value


def facts(shelter_id: int, status: Status | str, *, step_free: bool | None = None,
          capacity: int | None = None,
          readiness: Mapping[str, Any] | None = None) -> Facts:
    """One shelter's facts from its status and the audits' `readiness` property."""
    status = Status(status)
    return Facts(shelter_id, status, STATUS_CLASS[status], FAILS.get(status, 1.0),
                 bool(readiness and readiness.get("category") == _NOT_READY),
                 step_free, capacity, _readiness(readiness) if readiness else None)


def rank(
    candidates: Iterable[Candidate],
    *,
    model: WalkingModel,
    limit: int = MIN_RESULTS,
    step_free: bool = False,
    warning_s: int | None = None,
) -> list[Ranked]:
    """Order candidates for a resident and explain the first `max(limit, 3)` of them.

    `step_free` keeps only shelters with step-free access and walks at the reduced-mobility speed;
    when fewer than three confirmed step-free shelters are near, ones whose access is not recorded
    fill the list (labelled), so the resident still has alternatives. `warning_s` is the active
    alert's warning time; None means no alert, and `reachable_in_time` is then None too. During an
    alert shelters that might admit and are reachable in time come first (module docstring).
    """
    pool = list(candidates)
    return rank_facts([facts(c.shelter_id, c.status, step_free=c.step_free,
                             capacity=c.capacity, readiness=c.readiness) for c in pool],
                      [c.distance_m for c in pool], [c.walk_s for c in pool],
                      model=model, limit=limit, step_free=step_free, warning_s=warning_s)


def rank_facts(
    pool: Sequence[Facts],
    distances: Sequence[float],
    walks: Sequence[float | None] | None = None,
    *,
    model: WalkingModel,
    limit: int = MIN_RESULTS,
    step_free: bool = False,
    warning_s: int | None = None,
) -> list[Ranked]:
    """`rank` over shelters' kept facts, their distances and, where a router measured them,
    their walks in seconds (`walks`, None where it did not).

    This runs on every `/v1/nearest` request, so each shelter's walk and expected time are
    worked out once, in one pass, into plain tuples, with the facts unpacked rather than read
    field by field; `tests/rules/test_ranking.py` holds it equal to a plain reference.
    """
    wanted = max(limit, MIN_RESULTS)
    if step_free:
        chosen = [i for i, f in enumerate(pool) if f.step_free is True]
        if len(chosen) < wanted:
            chosen += [i for i, f in enumerate(pool) if f.step_free is None]
        pool = [pool[i] for i in chosen]
        distances = [distances[i] for i in chosen]
        walks = None if walks is None else [walks[i] for i in chosen]
    speed = model.reduced_mobility_speed_mps if step_free else model.speed_mps
    detour = model.detour_factor
    isfinite = math.isfinite
    if walks is None:
        walked = [d * detour / speed for d in distances]
    else:
        walked = [d * detour / speed if w is None or not isfinite(w) else w
                  for d, w in zip(distances, walks, strict=True)]
    # Each door's expected time to safety is its walk plus its chance of failing times the walk
    # on to the next door; only the walks from the resident are known, so the walk on is taken
    # as the walk to the nearest other door that might admit (the spacing of doors around
    # here). A door's own distance never enters its own walk on, so moving a door closer lowers
    # its expected time by the whole walk saved and anyone else's by at most their chance of
    # failing times it. First the two shortest walks among doors that might admit:
    first = second = math.inf
    nearest = -1
    best = MIGHT_ADMIT + 1  # the best status class among doors that might admit
    for i, f in enumerate(pool):
        cls = f[2]
        if cls <= MIGHT_ADMIT:
            walk = walked[i]
            if walk < first:
                first, second, nearest = walk, first, i
            elif walk < second:
                second = walk
            if cls < best:
                best = cls
    first = first if isfinite(first) else 0.0
    second = second if isfinite(second) else 0.0
    keyed: list[Key] = []
    # The best status class that might admit but is too far: a lifted shelter of a worse class
    # is ahead of it only because of the warning time, and says so.
    too_far = MIGHT_ADMIT + 1
    in_time = -math.inf if warning_s is None else warning_s  # no alert: nothing is lifted
    for i, ((sid, _, cls, fails, not_ready, _, capacity, _), walk) in enumerate(
            zip(pool, walked, strict=True)):
        room = 1 if capacity is None else -capacity
        if cls <= MIGHT_ADMIT:
            cost = walk + fails * (second if i == nearest else first)
            if round(walk) <= in_time:
                keyed.append((not_ready, cost, cls, walk, room, sid, i))
            else:
                keyed.append((16 | not_ready, cost, cls, walk, room, sid, i))
                if cls < too_far:
                    too_far = cls
        else:
            keyed.append((32 | cls << 1 | not_ready, walk, cls, walk, room, sid, i))
    keyed.sort()
    out: list[Ranked] = []
    new = tuple.__new__  # Ranked's own __new__ is Python; three are built per look-up
    for n in range(min(wanted, len(keyed))):
        group, _, cls, walk, _, _, i = keyed[n]
        tier = group >> 4
        # Ahead of a better-known door of its own tier and readiness: the better bet by time.
        # Only a door worse than the best that might admit can be; most look-ups have none.
        nearer = False
        if tier < 2 and cls > best:
            for later in keyed[n + 1:]:
                if later[0] == group and later[2] < cls:
                    nearer = True
                    break
        sid, status, _, _, not_ready, access, capacity, readiness = pool[i]
        walk_s = round(walk)
        reachable = None if warning_s is None else walk_s <= warning_s
        lifted = tier == 0 and cls > too_far
        why = _why(status, max(1, math.ceil(walk_s / 60)), reachable, lifted, nearer,
                   access is True, capacity or 0, readiness, step_free and access is None)
        out.append(new(Ranked, (sid, distances[i], walk_s, reachable, status, access,
                                capacity, why, not_ready)))
    return out
