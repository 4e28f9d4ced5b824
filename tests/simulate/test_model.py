"""The simulation's pure model: the night's doors, people's journeys, the baseline, the table."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from shelterwatch.rules import ranking
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.simulate import baseline
from shelterwatch.simulate.city import (
    Door,
    DoorPlan,
    DoorWorld,
    Resident,
    Shelter,
    assign_doors,
    place_residents,
)
from shelterwatch.simulate.nights import KYIV_2023_06_01 as PLAN
from shelterwatch.simulate.outcome import quantile, summarise, table
from shelterwatch.simulate.phone import Phone
from shelterwatch.vocabulary import Status

# A street of shelters 100 m apart along a meridian in Desnianskyi.
STREET = [Shelter(i + 1, 50.50 + i * 0.0009, 30.60) for i in range(12)]


@given(st.integers(min_value=1, max_value=2_000), st.integers(), st.floats(0, 1))
@settings(max_examples=40, deadline=None)
def test_doors_follow_the_june_2023_rates_exactly_and_the_seed(n: int, seed: int,
                                                               share: float) -> None:
    ids = list(range(1, n + 1))
    doors = assign_doors(ids, PLAN, controller_share=share, rng=random.Random(seed))
    kinds = [d.door for d in doors.values()]
    assert kinds.count(Door.LOCKED) == round(n * PLAN.locked_share)
    assert kinds.count(Door.UNFIT) == round(n * PLAN.unfit_share)
    assert sum(d.controller for d in doors.values()) == round(n * share)
    # a locked or unfit door's keyholder never checks it in as open
    assert all(d.keyholder_answers_s is None for d in doors.values() if d.door != Door.OPEN)
    assert doors == assign_doors(ids, PLAN, controller_share=share, rng=random.Random(seed))


@given(st.integers(min_value=0, max_value=300), st.integers())
@settings(max_examples=30, deadline=None)
def test_residents_live_where_people_are_and_set_out_within_the_window(n: int,
                                                                       seed: int) -> None:
    cells = [(50.50, 30.60, 1000.0), (50.40, 30.40, 0.0)]  # nobody lives in the second
    people = place_residents(cells, n, PLAN, arrive_s=120, rng=random.Random(seed))
    assert len(people) == n
    assert all(abs(p.lat - 50.50) < 0.002 and abs(p.lon - 30.60) < 0.003 for p in people)
    assert all(0 <= p.start_s <= 120 and 0.6 <= p.speed_mps <= 2.0 for p in people)


def test_a_locked_door_opens_once_and_an_unfit_one_never() -> None:
    world = DoorWorld({1: DoorPlan(Door.LOCKED, False, None), 2: DoorPlan(Door.UNFIT, True, None)})
    assert world.found(1, 10) == Door.LOCKED
    assert world.open(1, 30) and not world.open(1, 40)
    assert world.found(1, 29) == Door.LOCKED and world.found(1, 30) == Door.OPEN
    assert not world.open(2, 5) and world.found(2, 100) == Door.UNFIT


def _street_world(locked: set[int]) -> DoorWorld:
    return DoorWorld({s.id: DoorPlan(Door.LOCKED if s.id in locked else Door.OPEN, False, None)
                      for s in STREET})


def test_without_shelterwatch_the_second_resident_walks_to_the_door_the_first_found_locked(
) -> None:
    first = Resident(0, 50.50, 30.60, 0.0, 1.3)
    second = Resident(1, 50.50, 30.60, 30.0, 1.3)
    world = _street_world({1})
    journeys = baseline.play([first, second], STREET, world, PLAN)
    assert [a.found for a in journeys[0].arrivals] == [Door.LOCKED, Door.OPEN]
    assert journeys[1].arrivals[0].shelter_id == 1 and journeys[1].arrivals[0].after_first_report
    outcome = summarise(journeys, world, warning_s=PLAN.warning_s)
    assert outcome.locked_after_report == 1 and outcome.locked_arrivals == 2
    assert outcome.sheltered == 2 and outcome.reported_doors == 1 and outcome.opened_doors == 0


def test_a_controller_opens_its_door_at_the_alert_in_the_baseline_too() -> None:
    world = DoorWorld({s.id: DoorPlan(Door.LOCKED, s.id == 1, None) for s in STREET})
    journeys = baseline.play([Resident(0, 50.50, 30.60, 5.0, 1.3)], STREET, world, PLAN)
    assert journeys[0].arrivals[0].found == Door.OPEN


@st.composite
def nights(draw: st.DrawFn) -> tuple[list[Resident], set[int], set[int]]:
    n = draw(st.integers(min_value=1, max_value=40))
    residents = [Resident(i, 50.50 + draw(st.floats(-0.005, 0.015)), 30.60 + draw(
        st.floats(-0.005, 0.005)), draw(st.floats(0, 120)), draw(st.floats(0.6, 2.0)))
        for i in range(n)]
    ids = [s.id for s in STREET]
    locked = set(draw(st.lists(st.sampled_from(ids), max_size=6)))
    unfit = set(draw(st.lists(st.sampled_from(ids), max_size=3))) - locked
    return residents, locked, unfit


@given(nights())
@settings(max_examples=60, deadline=None)
def test_the_outcome_table_adds_up_on_any_night(night: tuple[list[Resident], set[int],
                                                              set[int]]) -> None:
    residents, locked, unfit = night
    world = DoorWorld({s.id: DoorPlan(Door.LOCKED if s.id in locked else Door.UNFIT
                                      if s.id in unfit else Door.OPEN, False, None)
                       for s in STREET})
    journeys = baseline.play(residents, STREET, world, PLAN)
    o = summarise(journeys, world, warning_s=PLAN.warning_s)
    assert o.residents == len(residents)
    assert 0 <= o.locked_after_report <= o.locked_arrivals <= o.residents
    assert 0 <= o.sheltered_in_warning <= o.sheltered <= o.residents
    assert o.opened_doors <= o.reported_doors <= len(locked)
    assert o.unlocked_doors <= o.locked_doors == len(locked)
    for j in journeys:
        assert len(j.arrivals) <= PLAN.max_tries
        assert len({a.shelter_id for a in j.arrivals}) == len(j.arrivals)  # no door twice
        assert [a.t for a in j.arrivals] == sorted(a.t for a in j.arrivals)
        # nobody is counted inside behind a door that was locked when they got there
        assert all(a.found != Door.OPEN or a.shelter_id not in locked for a in j.arrivals)
    # the same night twice is the same night
    again = baseline.play(residents, STREET, DoorWorld(dict(world.plans)), PLAN)
    assert [j.arrivals for j in again] == [j.arrivals for j in journeys]
    assert "| residents |" in table("night", o, o)


@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=50), st.floats(0.01, 1))
def test_quantiles_are_values_of_the_sample_in_order(values: list[float], q: float) -> None:
    got = quantile(values, q)
    assert got in values
    assert quantile(values, 0.5) <= quantile(values, 0.9)  # type: ignore[operator]
    assert sum(v <= got for v in values) >= q * len(values)  # type: ignore[operator]


@given(st.integers(), st.sampled_from([None, 120]))
@settings(max_examples=40, deadline=None)
def test_the_phone_shortlists_its_pack_without_losing_the_doors_it_would_list(
        seed: int, warning_s: int | None) -> None:
    rng = random.Random(seed)
    statuses = [s.value for s in Status]
    pack = [{"id": i, "lat": 50.30 + rng.random() * 0.3, "lon": 30.25 + rng.random() * 0.55,
             "status": rng.choice(statuses), "step_free": rng.choice([None, True, False]),
             "capacity": rng.choice([None, 40, 400]), "readiness": None}
            for i in range(rng.randint(1, 400))]
    lat, lon = 50.30 + rng.random() * 0.3, 30.25 + rng.random() * 0.55
    every_door = [ranking.Candidate(s["id"], great_circle_m(lat, lon, s["lat"], s["lon"]),
                                    Status(s["status"]), s["step_free"], s["capacity"], None,
                                    None) for s in pack]
    nearest = sorted(every_door, key=lambda c: c.distance_m)[:12]
    assert Phone(pack).rank(lat, lon, heard={}, limit=5, warning_s=warning_s) == [
        r.shelter_id for r in ranking.rank(nearest, model=ranking.WalkingModel(), limit=5,
                                           warning_s=warning_s)]
