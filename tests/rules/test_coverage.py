"""The pure coverage rules: nearest usable shelter, incremental recompute, apportioning people,
2SFCA and greedy maximal coverage — against brute force and values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelterwatch.rules.catchment import greedy_max_coverage, two_step_fca
from shelterwatch.rules.coverage import (
    NO_SHELTER,
    Candidates,
    apportion,
    by_district,
    is_usable,
    nearest_usable,
    newly_out_of_reach,
    out_of_reach,
    recompute_after_change,
)
from shelterwatch.vocabulary import Status

N_SHELTERS = 6
rows_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, N_SHELTERS - 1), st.floats(0, 3000)), max_size=6,
             unique_by=lambda e: e[0]), min_size=1, max_size=12)
usable_strategy = st.lists(st.booleans(), min_size=N_SHELTERS, max_size=N_SHELTERS)


def brute(rows: list[list[tuple[int, float]]], usable: list[bool]) -> list[tuple[int, float]]:
    out = []
    for row in rows:
        ok = sorted((m, s) for s, m in row if usable[s])
        out.append((ok[0][1], ok[0][0]) if ok else (NO_SHELTER, math.inf))
    return out


@given(rows_strategy, usable_strategy)
def test_nearest_usable_is_the_nearest_usable_candidate(rows, usable) -> None:  # type: ignore[no-untyped-def]
    reach = nearest_usable(Candidates.from_lists(rows), np.asarray(usable), 1.0)
    for i, (shelter, metres) in enumerate(brute(rows, usable)):
        assert reach.walk_s[i] == metres
        if shelter != NO_SHELTER:
            # On equal distances either shelter is right; the distance is what people walk.
            assert (reach.shelter[i], metres) in {(s, m) for s, m in rows[i]}
            assert usable[reach.shelter[i]]
        else:
            assert reach.shelter[i] == NO_SHELTER


@settings(max_examples=200)
@given(rows_strategy, usable_strategy, st.lists(st.integers(0, N_SHELTERS - 1), max_size=3))
def test_incremental_recompute_equals_a_full_one(rows, usable, flip) -> None:  # type: ignore[no-untyped-def]
    cand = Candidates.from_lists(rows)
    before = np.asarray(usable)
    current = nearest_usable(cand, before, 1.3)
    after = before.copy()
    for s in flip:
        after[s] = not after[s]
    changed = sorted(set(np.flatnonzero(after != before).tolist()))
    patched, touched = recompute_after_change(cand, after, 1.3, current, changed)
    full = nearest_usable(cand, after, 1.3)
    assert np.array_equal(patched.walk_s, full.walk_s)
    assert np.array_equal(patched.shelter, full.shelter)
    # Only cells served by a closed shelter, or listing a reopened one, were looked at.
    for cell in touched.tolist():
        served = current.shelter[cell] in changed
        lists = any(s in changed and after[s] for s, _ in rows[cell])
        assert served or lists


def test_closing_a_shelter_moves_its_cells_to_the_next_one_down_their_lists() -> None:
    cand = Candidates.from_lists([[(0, 100.0), (1, 300.0)], [(1, 50.0)], [(0, 80.0)]])
    usable = np.array([True, True])
    current = nearest_usable(cand, usable, 1.0)
    assert current.shelter.tolist() == [0, 1, 0]
    closed, touched = recompute_after_change(cand, np.array([False, True]), 1.0, current, [0])
    assert touched.tolist() == [0, 2]
    assert closed.shelter.tolist() == [1, 1, NO_SHELTER]
    assert closed.walk_s.tolist() == [300.0, 50.0, math.inf]


@given(st.integers(0, 10_000), st.lists(st.floats(0, 1e6), max_size=40))
def test_apportion_places_everyone_in_proportion(total, weights) -> None:  # type: ignore[no-untyped-def]
    if not weights:
        assert apportion(0, weights) == []
        return
    parts = apportion(total, weights)
    assert sum(parts) == total
    mass = math.fsum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = total * w / mass if mass > 0 else total / len(weights)
        assert abs(part - exact) < 1.0 + 1e-9


def test_apportion_spreads_evenly_without_weights_and_refuses_nonsense() -> None:
    assert apportion(10, [0, 0, 0]) == [4, 3, 3]
    assert apportion(7, [1, 1]) == [4, 3]
    with pytest.raises(ValueError):
        apportion(5, [])
    with pytest.raises(ValueError):
        apportion(-1, [1.0])


def test_two_step_floating_catchment_by_hand() -> None:
    """Shelter A (100 places) is within reach of cells 0 and 1 (50 + 150 people): 0.5 a person.
    Shelter B (30 places) of cells 1 and 2 (150 + 30): 1/6. Cell 1 reaches both: 2/3.
    Shelter C is within 2,000 m of cell 2 but the walk is longer than its warning time."""
    cand = Candidates.from_lists([[(0, 100.0)], [(0, 150.0), (1, 120.0)],
                                  [(1, 90.0), (2, 2000.0)]])
    pop = np.array([50.0, 150.0, 30.0])
    cap = np.array([100.0, 30.0, 1000.0])
    access = two_step_fca(cand, pop, cap, np.ones(3, dtype=bool), 1.0,
                          np.array([200.0, 200.0, 200.0]))
    assert access.tolist() == pytest.approx([0.5, 0.5 + 1 / 6, 1 / 6])
    # Shelter A locked: its 100 places are gone, B's are shared as before.
    locked = two_step_fca(cand, pop, cap, np.array([False, True, True]), 1.0,
                          np.array([200.0, 200.0, 200.0]))
    assert locked.tolist() == pytest.approx([0.0, 1 / 6, 1 / 6])


def test_greedy_maximal_coverage_by_hand() -> None:
    """People: cells 0..4 = 10, 20, 30, 40, 50; cell 4 already covered.
    Site 0 covers {0, 1, 2} (60), site 1 covers {2, 3, 4} (70 new: 30 + 40), site 2 covers {3}.
    Greedy: site 1 (+70), then site 0 (+30, cell 2 already counted), then nothing adds."""
    pop = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    covered = np.array([False, False, False, False, True])
    picks = greedy_max_coverage([[0, 1, 2], [2, 3, 4], [3]], pop, covered, budget=5)
    assert [(p.site, p.marginal_gain, p.cumulative_gain) for p in picks] == [
        (1, 70.0, 70.0), (0, 30.0, 100.0)]


def test_out_of_reach_figures_per_district() -> None:
    pop = np.array([100.0, 200.0, 300.0, 400.0])
    walk = np.array([60.0, 130.0, math.inf, 100.0])
    warn = np.array([120.0, 120.0, 120.0, 90.0])
    unreached = out_of_reach(pop, walk, warn)
    assert unreached.tolist() == [False, True, True, True]
    figures = by_district(pop, unreached, np.array([0, 0, 1, 1]), ["a", "b"])
    assert (figures["a"].population, figures["a"].out_of_reach) == (300.0, 200.0)
    assert figures["b"].share == 1.0
    assert newly_out_of_reach(pop, np.array([False, False, True, False]), unreached) == 600.0


def test_only_doors_that_take_people_in_are_usable() -> None:
    assert is_usable(Status.OPEN_VERIFIED) and is_usable(Status.UNKNOWN)
    assert is_usable(Status.LOCKED_REPORTED)  # an unverified report never hides a shelter
    assert not is_usable(Status.LOCKED_CONFIRMED) and not is_usable(Status.CLOSED)
    assert not is_usable(Status.OPEN_VERIFIED, ghost=True)


@given(st.lists(st.tuples(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89),
                          st.floats(-179, 179)), min_size=1, max_size=20))
def test_the_array_haversine_is_the_one_great_circle(points) -> None:  # type: ignore[no-untyped-def]
    from shelterwatch.rules.geo import great_circle_m, great_circle_many

    a = np.asarray(points)
    many = great_circle_many(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    one = [great_circle_m(*p) for p in points]
    assert many.tolist() == pytest.approx(one, rel=1e-9, abs=1e-6)
