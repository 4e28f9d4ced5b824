"""Which shelters to send a resident to, in what order, and why.

A resident has seconds to a few minutes, so the order must be explainable in one line: a door known
to be open beats a nearer door nobody has checked, and a door reported locked is still shown (an
unverified report never hides a shelter, DESIGN §3.4) but after every better option. Within a status
class a shelter an audit found not ready comes after the others (shown, labelled with why: "no
water", "no step-free entrance"), then the nearer walk wins. The rule takes plain numbers and does
no I/O, so the server, the benchmark and the tests rank exactly alike; the phone's offline ranking
in `web/static/rank.js` mirrors it.

During an alert (`warning_s` set) time comes before certainty. A resident has the warning time
(120 s for a ballistic threat) to be underground; a keyholder-checked door a 40-minute walk away
does not save them, an unchecked door two minutes away very likely does (two doors in three are
open). So while an alert is active, shelters the resident can reach within the warning time and
whose status might let them in (`open_verified` through `unknown`) come before every shelter they
cannot reach in time; within that tier, and among the rest, the order above holds. Doors reported
or confirmed locked, full, unfit or closed are never lifted: they stay after the rest, shown. The
city simulation found the plain status-first order got fewer people inside in time than walking to
the nearest door. With no alert there is no deadline, and the order is status first as before.
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

# The worst status class an alert's in-time tier lifts: a door that might let the resident in.
MIGHT_ADMIT = STATUS_CLASS[Status.UNKNOWN]

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


def explain(item: Candidate, walk_s: int, reachable: bool | None,
            lifted: bool = False) -> list[Reason]:
    """The reasons shown under each result: status, walk, in time, access, capacity.

    `lifted` says the shelter is ahead of a better-known one only because it is reachable in
    time, so the resident is told why a checked door is not first."""
    why = [Reason.of(ReasonCode.STATUS, status=item.status.value),
           Reason.of(ReasonCode.WALK, minutes=_minutes(walk_s))]
    if lifted:
        why.append(Reason.of(ReasonCode.IN_TIME_FIRST))
    elif reachable is True:
        why.append(Reason.of(ReasonCode.REACHABLE))
    elif reachable is False:
        why.append(Reason.of(ReasonCode.NOT_REACHABLE))
    if item.step_free is True:
        why.append(Reason.of(ReasonCode.STEP_FREE))
    if item.capacity:
        why.append(Reason.of(ReasonCode.CAPACITY, capacity=item.capacity))
    readiness = reason_params(item.readiness)
    if readiness is not None:
        why.append(Reason.of(ReasonCode.READINESS, **readiness))
    return why


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
    keyed = []
    for c in pool:
        walk = c.distance_m * detour / speed
        if c.walk_s is not None and math.isfinite(c.walk_s):
            walk = c.walk_s
        capacity = c.capacity if c.capacity is not None else -1
        cls = STATUS_CLASS[c.status]
        late = not in_time(cls, round(walk), warning_s)
        # Not reachable in time during an alert after the rest, status class, not ready after
        # the rest of its class, walk, bigger known capacity, id; ids are unique, so the
        # candidate itself is never compared.
        keyed.append((late, cls, c.not_ready, walk, -capacity, c.shelter_id, c))
    keyed.sort()
    # The best status class that might admit but is too far: a lifted shelter of a worse class
    # is ahead of it only because of the warning time, and says so.
    too_far = min((k[1] for k in keyed if k[0] and k[1] <= MIGHT_ADMIT), default=MIGHT_ADMIT + 1)
    timed = [(k[6], k[3], not k[0] and k[1] > too_far) for k in keyed[:wanted]]
    out: list[Ranked] = []
    for candidate, walk, lifted in timed:
        walk_s = round(walk)
        reachable = None if warning_s is None else walk_s <= warning_s
        why = explain(candidate, walk_s, reachable, lifted)
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
