"""Alert-time `check` rounds for patrols (DESIGN §4.2): the riskiest shelters first, near ones soon.

A round minimises the risk-weighted arrival time, sum(risk × arrival), so a risky shelter a little
further away is still visited before a safe one next door. The route starts greedy (highest risk
per second of driving next) and is then improved by 2-opt moves under the same objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shelterwatch.rules.dispatch import DEFAULT_TRAVEL, Travel, travel_time_s
from shelterwatch.rules.geo import great_circle_m


@dataclass(frozen=True, slots=True)
class RiskWeights:
    past_incident: float = 3.0
    no_check_in: float = 2.0
    density: float = 0.2  # per other shelter within the density radius
    base: float = 1.0


DEFAULT_WEIGHTS = RiskWeights()


@dataclass(frozen=True, slots=True)
class RoundCandidate:
    shelter_id: int
    lat: float
    lon: float
    past_incidents: int = 0
    checked_in: bool = False
    nearby_shelters: int = 0


@dataclass(frozen=True, slots=True)
class Stop:
    shelter_id: int
    arrival_s: float
    risk: float


@dataclass(frozen=True, slots=True)
class Round:
    unit_id: int
    stops: tuple[Stop, ...]

    @property
    def cost(self) -> float:
        return sum(s.risk * s.arrival_s for s in self.stops)


@dataclass(frozen=True, slots=True)
class UnitStart:
    unit_id: int
    lat: float
    lon: float


def risk(candidate: RoundCandidate, weights: RiskWeights = DEFAULT_WEIGHTS) -> float:
    """How much it matters that this shelter is checked soon; always positive."""
    return (
        weights.base
        + weights.past_incident * candidate.past_incidents
        + (0.0 if candidate.checked_in else weights.no_check_in)
        + weights.density * candidate.nearby_shelters
    )


def _arrivals(
    start: UnitStart, order: Sequence[RoundCandidate], travel: Travel, service_s: float
) -> list[float]:
    times: list[float] = []
    t, lat, lon = 0.0, start.lat, start.lon
    for c in order:
        t += travel_time_s(lat, lon, c.lat, c.lon, travel)
        times.append(t)
        t += service_s
        lat, lon = c.lat, c.lon
    return times


def route_cost(
    start: UnitStart,
    order: Sequence[RoundCandidate],
    *,
    weights: RiskWeights = DEFAULT_WEIGHTS,
    travel: Travel = DEFAULT_TRAVEL,
    service_s: float = 120.0,
) -> float:
    """The objective a round minimises: risk-weighted sum of arrival times."""
    arrivals = _arrivals(start, order, travel, service_s)
    return sum(risk(c, weights) * t for c, t in zip(order, arrivals, strict=True))


def greedy_order(
    start: UnitStart, candidates: Sequence[RoundCandidate], *, weights: RiskWeights,
    travel: Travel,
) -> list[RoundCandidate]:
    """Repeatedly drive to the stop with the most risk per second of travel."""
    left = sorted(candidates, key=lambda c: c.shelter_id)
    order: list[RoundCandidate] = []
    lat, lon = start.lat, start.lon
    while left:
        best = max(
            left,
            key=lambda c: (risk(c, weights) / (travel_time_s(lat, lon, c.lat, c.lon, travel) + 1.0),
                           -c.shelter_id),
        )
        order.append(best)
        left.remove(best)
        lat, lon = best.lat, best.lon
    return order


def two_opt(
    start: UnitStart, order: list[RoundCandidate], *, weights: RiskWeights, travel: Travel,
    service_s: float, max_passes: int = 20,
) -> list[RoundCandidate]:
    """Reverse segments while that lowers the round's cost; never returns a worse route."""
    best = list(order)
    best_cost = route_cost(start, best, weights=weights, travel=travel, service_s=service_s)
    for _ in range(max_passes):
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                trial = best[:i] + best[i:j + 1][::-1] + best[j + 1:]
                cost = route_cost(start, trial, weights=weights, travel=travel,
                                  service_s=service_s)
                if cost < best_cost - 1e-9:
                    best, best_cost, improved = trial, cost, True
        if not improved:
            break
    return best


def plan_round(
    start: UnitStart,
    candidates: Sequence[RoundCandidate],
    *,
    weights: RiskWeights = DEFAULT_WEIGHTS,
    travel: Travel = DEFAULT_TRAVEL,
    service_s: float = 120.0,
) -> Round:
    """One unit's round through the given shelters."""
    order = greedy_order(start, candidates, weights=weights, travel=travel)
    order = two_opt(start, order, weights=weights, travel=travel, service_s=service_s)
    arrivals = _arrivals(start, order, travel, service_s)
    stops = tuple(
        Stop(shelter_id=c.shelter_id, arrival_s=t, risk=risk(c, weights))
        for c, t in zip(order, arrivals, strict=True)
    )
    return Round(unit_id=start.unit_id, stops=stops)


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """The rounds, and the shelters no unit can reach within the budget (for the operator)."""

    rounds: tuple[Round, ...]
    unreachable: tuple[int, ...]


def plan_rounds(
    units: Sequence[UnitStart],
    candidates: Sequence[RoundCandidate],
    *,
    weights: RiskWeights = DEFAULT_WEIGHTS,
    travel: Travel = DEFAULT_TRAVEL,
    service_s: float = 120.0,
    max_stops: int = 12,
) -> list[Round]:
    """Share the riskiest shelters among units and route each, with no time budget."""
    plan = plan_rounds_within(units, candidates, weights=weights, travel=travel,
                              service_s=service_s, max_stops=max_stops, budget_s=None)
    return list(plan.rounds)


def plan_rounds_within(
    units: Sequence[UnitStart],
    candidates: Sequence[RoundCandidate],
    *,
    budget_s: float | None,
    weights: RiskWeights = DEFAULT_WEIGHTS,
    travel: Travel = DEFAULT_TRAVEL,
    service_s: float = 120.0,
    max_stops: int = 12,
) -> RoundPlan:
    """Share the riskiest shelters among units (each to the nearest unit with room) and route each.

    A check is worth something only while the alert lasts: a stop the unit would reach after
    `budget_s` is not given to it (a patrol sent across the city during a two-minute ballistic
    warning checks nothing and is missing where it is needed). Such shelters are returned as
    `unreachable`, so the operator sees that nobody is on the way. Shelters beyond
    units × max_stops are left for the next round: a patrol can only do so much in the first
    minutes of an alert, so the list is cut by risk, not by position.
    """
    if not units:
        return RoundPlan((), tuple(sorted(c.shelter_id for c in candidates)))
    ranked = sorted(candidates, key=lambda c: (-risk(c, weights), c.shelter_id))
    unreachable: list[int] = []
    assigned: dict[int, list[RoundCandidate]] = {u.unit_id: [] for u in units}
    taken = 0
    for c in ranked:
        near = [(travel_time_s(u.lat, u.lon, c.lat, c.lon, travel), u.unit_id, u) for u in units]
        if budget_s is not None:
            near = [n for n in near if n[0] <= budget_s]
        if not near:
            unreachable.append(c.shelter_id)
            continue
        if taken >= len(units) * max_stops:
            continue  # reachable, but the next round's
        room = [n for n in near if len(assigned[n[1]]) < max_stops]
        if not room:
            continue
        assigned[min(room, key=lambda n: (n[0], n[1]))[1]].append(c)
        taken += 1
    out: list[Round] = []
    for u in units:
        rnd = plan_round(u, assigned[u.unit_id], weights=weights, travel=travel,
                         service_s=service_s)
        if budget_s is not None:
            late = [s.shelter_id for s in rnd.stops if s.arrival_s > budget_s]
            if late:
                unreachable.extend(late)
                rnd = Round(unit_id=u.unit_id,
                            stops=tuple(s for s in rnd.stops if s.arrival_s <= budget_s))
        out.append(rnd)
    return RoundPlan(tuple(out), tuple(sorted(unreachable)))


def count_nearby(points: Sequence[tuple[int, float, float]], radius_m: float) -> dict[int, int]:
    """For each (id, lat, lon), how many other points lie within radius_m: the density term."""
    # A coarse grid keeps this near-linear for a city's few thousand shelters.
    cell_deg = max(radius_m / 111_000.0, 1e-6)
    grid: dict[tuple[int, int], list[tuple[int, float, float]]] = {}
    for p in points:
        grid.setdefault((math.floor(p[1] / cell_deg), math.floor(p[2] / cell_deg)), []).append(p)
    counts: dict[int, int] = {}
    for pid, lat, lon in points:
        gx, gy = math.floor(lat / cell_deg), math.floor(lon / cell_deg)
        n = 0
        for dx in (-1, 0, 1):
            for dy in range(-3, 4):  # a degree of longitude is shorter than one of latitude
                for oid, olat, olon in grid.get((gx + dx, gy + dy), ()):
                    if oid != pid and great_circle_m(lat, lon, olat, olon) <= radius_m:
                        n += 1
        counts[pid] = n
    return counts
