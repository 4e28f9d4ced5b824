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


@dataclass(frozen=True, slots=True)
class Ranked:
    """One answer: where, how long, whether in time, and why (codes the catalogue words in one
    line, `messages.status.why`)."""

    shelter_id: int
    distance_m: float
    walk_s: int
    reachable_in_time: bool | None
    status: Status
    step_free: bool | None
    capacity: int | None
    why: tuple[Reason, ...]
    not_ready: bool = False  # an audit found it not ready (labelled in `why`)


def _minutes(walk_s: int) -> int:
    return max(1, math.ceil(walk_s / 60))


def in_time(status_class: int, walk_s: int, warning_s: int | None) -> bool:
    """Whether an alert lifts this shelter into the first tier: it might admit, and the walk
    (rounded, as `reachable_in_time` says it) fits the warning time."""
    return warning_s is not None and status_class <= MIGHT_ADMIT and walk_s <= warning_s


def expected_s(walks: Sequence[float], fails: Sequence[float]) -> list[float]:
    """Each door's expected time to safety: its walk, plus its chance of failing times the walk
    on to the next door.

    Only the walks from the resident are known, so the walk on is taken as the walk to the
    nearest other door that might admit: the spacing of doors around here. A door's own
    distance never enters its own walk on, so moving a door closer lowers its expected time by
    the whole walk saved and anyone else's by at most their chance of failing times it.
    """
    first = second = math.inf
    nearest = -1
    for i, walk in enumerate(walks):
        if walk < first:
            first, second, nearest = walk, first, i
        elif walk < second:
            second = walk
    out = []
    for i, (walk, fail) in enumerate(zip(walks, fails, strict=True)):
        onward = second if i == nearest else first
        out.append(walk + fail * (onward if math.isfinite(onward) else 0.0))
    return out


def explain(item: Candidate, walk_s: int, reachable: bool | None,
            lifted: bool = False, nearer: bool = False) -> list[Reason]:
    """The reasons shown under each result: status, walk, in time, access, capacity.

    `lifted` says the shelter is ahead of a better-known one only because it is reachable in
    time, `nearer` that it is ahead of a better-known one because it is enough nearer to be the
    better bet, so the resident is told why a checked door is not first."""
    why = [Reason.of(ReasonCode.STATUS, status=item.status.value),
           Reason.of(ReasonCode.WALK, minutes=_minutes(walk_s))]
    if lifted:
        why.append(Reason.of(ReasonCode.IN_TIME_FIRST))
    elif reachable is True:
        why.append(Reason.of(ReasonCode.REACHABLE))
    elif reachable is False:
        why.append(Reason.of(ReasonCode.NOT_REACHABLE))
    if nearer and not lifted:
        why.append(Reason.of(ReasonCode.NEARER_FIRST))
    if item.step_free is True:
        why.append(Reason.of(ReasonCode.STEP_FREE))
    if item.capacity:
        why.append(Reason.of(ReasonCode.CAPACITY, capacity=item.capacity))
    readiness = reason_params(item.readiness)
    if readiness is not None:
        why.append(Reason.of(ReasonCode.READINESS, **readiness))
    return why


# A sort key: tier (0 in time during an alert, 1 might admit, 2 will not), the status class
# among doors that will not admit (0 for the rest), not ready, the expected seconds to safety
# (the walk for doors that will not admit), status class, walk, bigger known capacity, id.
Key = tuple[int, int, bool, float, int, float, int, int]


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
    wanted = max(limit, MIN_RESULTS)
    pool: Sequence[Candidate] = list(candidates)
    if step_free:
        confirmed = [c for c in pool if c.step_free is True]
        if len(confirmed) < wanted:
            confirmed += [c for c in pool if c.step_free is None]
        pool = confirmed
    speed = model.reduced_mobility_speed_mps if step_free else model.speed_mps
    detour = model.detour_factor
    walks = []
    for c in pool:
        walk = c.distance_m * detour / speed
        if c.walk_s is not None and math.isfinite(c.walk_s):
            walk = c.walk_s
        walks.append(walk)
    classes = [STATUS_CLASS[c.status] for c in pool]
    admits = [cls <= MIGHT_ADMIT for cls in classes]
    costs = expected_s([w if a else math.inf for w, a in zip(walks, admits, strict=True)],
                       [FAILS.get(c.status, 1.0) for c in pool])
    keyed: list[tuple[Key, Candidate]] = []
    for c, walk, cls, admit, cost in zip(pool, walks, classes, admits, costs, strict=True):
        capacity = c.capacity if c.capacity is not None else -1
        if admit:
            tier = 0 if in_time(cls, round(walk), warning_s) else 1
            key: Key = (tier, 0, c.not_ready, cost, cls, walk, -capacity, c.shelter_id)
        else:
            key = (2, cls, c.not_ready, walk, cls, walk, -capacity, c.shelter_id)
        keyed.append((key, c))
    # Ids are unique, so the candidate itself is never compared.
    keyed.sort(key=lambda kc: kc[0])
    # The best status class that might admit but is too far: a lifted shelter of a worse class
    # is ahead of it only because of the warning time, and says so.
    too_far = min((k[4] for k, _ in keyed if k[0] == 1), default=MIGHT_ADMIT + 1)
    out: list[Ranked] = []
    for i, (key, candidate) in enumerate(keyed[:wanted]):
        tier, walk = key[0], key[5]
        walk_s = round(walk)
        reachable = None if warning_s is None else walk_s <= warning_s
        lifted = tier == 0 and key[4] > too_far
        # Ahead of a better-known door of its own tier and readiness: the better bet by time.
        nearer = tier < 2 and any(k[4] < key[4] for k, _ in keyed[i + 1:]
                                  if k[0] == tier and k[2] == key[2])
        why = explain(candidate, walk_s, reachable, lifted, nearer)
        if step_free and candidate.step_free is None:
            why.append(Reason.of(ReasonCode.STEP_FREE_UNCONFIRMED))
        out.append(Ranked(
            shelter_id=candidate.shelter_id,
            distance_m=candidate.distance_m,
            walk_s=walk_s,
            reachable_in_time=reachable,
            status=candidate.status,
            step_free=candidate.step_free,
            capacity=candidate.capacity,
            why=tuple(why),
            not_ready=candidate.not_ready,
        ))
    return out
