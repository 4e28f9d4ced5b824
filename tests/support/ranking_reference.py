"""The ranking written plainly, one idea a step, as it stood before it was made fast.

`shelterwatch.rules.ranking.rank` works each candidate's facts out once in one pass; this one
builds the lists and reasons the obvious way. The tests hold the two equal on random scenes, so
a speed-up can never change what a resident is told.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from shelterwatch.rules.ranking import (
    FAILS,
    MIGHT_ADMIT,
    MIN_RESULTS,
    STATUS_CLASS,
    Candidate,
    Ranked,
    WalkingModel,
)
from shelterwatch.rules.readiness import reason_params
from shelterwatch.vocabulary import Reason, ReasonCode


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
