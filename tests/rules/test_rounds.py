"""Alert-time check rounds: riskiest shelters first, without driving back and forth."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.rules.rounds import (
    RiskWeights,
    RoundCandidate,
    Travel,
    UnitStart,
    count_nearby,
    greedy_order,
    plan_round,
    plan_rounds,
    plan_rounds_within,
    risk,
    route_cost,
)

START = UnitStart(1, 50.4765, 30.6300)


def test_a_shelter_with_past_incidents_and_no_check_in_is_visited_first():
    near_and_fine = RoundCandidate(1, 50.4770, 30.6310, checked_in=True)
    far_and_risky = RoundCandidate(2, 50.4850, 30.6400, past_incidents=3)
    rnd = plan_round(START, [near_and_fine, far_and_risky])
    assert [s.shelter_id for s in rnd.stops] == [2, 1]


def test_among_equal_risks_the_round_does_not_zigzag():
    line = [RoundCandidate(i, 50.4765 + 0.002 * i, 30.6300) for i in (3, 1, 4, 2)]
    rnd = plan_round(START, line)
    assert [s.shelter_id for s in rnd.stops] == [1, 2, 3, 4]
    arrivals = [s.arrival_s for s in rnd.stops]
    assert arrivals == sorted(arrivals)


def test_risk_grows_with_incidents_missing_check_in_and_density():
    base = RoundCandidate(1, 0, 0, checked_in=True)
    assert risk(base) < risk(RoundCandidate(1, 0, 0, checked_in=False))
    assert risk(base) < risk(RoundCandidate(1, 0, 0, checked_in=True, past_incidents=1))
    assert risk(base) < risk(RoundCandidate(1, 0, 0, checked_in=True, nearby_shelters=5))


def test_rounds_are_shared_between_units_by_distance_and_capped():
    west, east = UnitStart(1, 50.45, 30.40), UnitStart(2, 50.45, 30.70)
    cands = [RoundCandidate(i, 50.45, 30.40 + 0.01 * i) for i in range(31)]
    rounds = plan_rounds([west, east], cands, max_stops=5)
    ids = {r.unit_id: {s.shelter_id for s in r.stops} for r in rounds}
    assert len(ids[1]) == 5 and len(ids[2]) == 5
    assert max(ids[1]) < min(ids[2])


def test_density_counts_neighbours_within_the_radius():
    pts = [(1, 50.45, 30.52), (2, 50.4503, 30.52), (3, 50.46, 30.52)]
    assert count_nearby(pts, 100) == {1: 1, 2: 1, 3: 0}


cands = st.lists(
    st.builds(RoundCandidate, shelter_id=st.integers(0, 10_000), lat=st.floats(50.40, 50.55),
              lon=st.floats(30.40, 30.70), past_incidents=st.integers(0, 3),
              checked_in=st.booleans(), nearby_shelters=st.integers(0, 20)),
    max_size=8, unique_by=lambda c: c.shelter_id,
)


@given(cands)
def test_a_round_visits_each_shelter_once_and_is_no_worse_than_greedy(candidates):
    rnd = plan_round(START, candidates)
    assert sorted(s.shelter_id for s in rnd.stops) == sorted(c.shelter_id for c in candidates)
    greedy = greedy_order(START, candidates, weights=RiskWeights(), travel=Travel())
    assert rnd.cost <= route_cost(START, greedy) + 1e-6


@given(cands, st.integers(1, 3))
def test_no_shelter_is_given_to_two_units(candidates, n_units):
    units = [UnitStart(u, 50.45 + 0.01 * u, 30.5) for u in range(n_units)]
    rounds = plan_rounds(units, candidates, max_stops=4)
    seen = [s.shelter_id for r in rounds for s in r.stops]
    assert len(seen) == len(set(seen)) == min(len(candidates), 4 * n_units)


def test_no_stop_is_given_beyond_the_budget_and_those_left_are_named():
    desna = UnitStart(1, 50.5150, 30.6050)  # Troieshchyna
    near = RoundCandidate(10, 50.5170, 30.6100)
    across_the_city = RoundCandidate(11, 50.3900, 30.3700)  # Holosiivskyi, ~21 km away
    plan = plan_rounds_within([desna], [near, across_the_city], budget_s=900)
    assert [s.shelter_id for r in plan.rounds for s in r.stops] == [10]
    assert plan.unreachable == (11,)
    assert plan_rounds_within([], [near], budget_s=900).unreachable == (10,)


@given(st.lists(st.tuples(st.floats(50.35, 50.55), st.floats(30.35, 30.75)), max_size=25),
       st.floats(60, 3600))
def test_every_stop_is_within_the_budget_and_every_shelter_accounted_for(points, budget):
    units = [UnitStart(1, 50.45, 30.52), UnitStart(2, 50.50, 30.62)]
    cands = [RoundCandidate(i, lat, lon) for i, (lat, lon) in enumerate(points)]
    plan = plan_rounds_within(units, cands, budget_s=budget, max_stops=30)
    stops = [s for r in plan.rounds for s in r.stops]
    assert all(s.arrival_s <= budget for s in stops)
    assert sorted([s.shelter_id for s in stops] + list(plan.unreachable)) == list(range(len(cands)))
