"""The order a resident sees nearest shelters in, and the reason printed under each."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.messages.status import why
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.rules.ranking import (
    MIN_RESULTS,
    STATUS_CLASS,
    Candidate,
    Ranked,
    WalkingModel,
    rank,
)
from shelterwatch.vocabulary import Status

MODEL = WalkingModel(speed_mps=1.25, reduced_mobility_speed_mps=0.5, detour_factor=1.2)


def cand(sid: int, distance: float, status: Status = Status.UNKNOWN, **kw: object) -> Candidate:
    return Candidate(shelter_id=sid, distance_m=distance, status=status, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("near_status", "far_status", "first"),
    [
        (Status.LOCKED_REPORTED, Status.UNKNOWN, 2),
        (Status.REFUSED_REPORTED, Status.OPEN_REPORTED, 2),
        (Status.FULL, Status.UNKNOWN, 2),
        (Status.UNFIT, Status.UNKNOWN, 2),
        (Status.CLOSED, Status.OPEN_VERIFIED, 2),
        (Status.LOCKED_CONFIRMED, Status.LOCKED_REPORTED, 2),
        (Status.UNFIT, Status.LOCKED_CONFIRMED, 2),
        (Status.CLOSED, Status.LOCKED_CONFIRMED, 2),
        (Status.OPEN_VERIFIED, Status.OPEN_VERIFIED, 1),
        (Status.UNKNOWN, Status.UNKNOWN, 1),
        (Status.UNFIT, Status.CLOSED, 1),
    ],
)
def test_a_door_that_will_not_admit_comes_after_a_farther_one_that_might(
    near_status: Status, far_status: Status, first: int
) -> None:
    ranked = rank([cand(1, 100, near_status), cand(2, 900, far_status)], model=MODEL)
    assert ranked[0].shelter_id == first


def test_a_nearer_unchecked_door_beats_a_checked_one_much_further_and_says_why() -> None:
    # 96 s to the unchecked door, 864 s to the checked one: even failing one time in three and
    # walking on, the near door gets the resident inside sooner on average.
    ranked = rank([cand(1, 100), cand(2, 900, Status.OPEN_VERIFIED), cand(3, 3000)],
                  model=MODEL)
    assert [r.shelter_id for r in ranked] == [1, 2, 3]
    said = why(ranked[0].why)
    assert "nearer than better-checked shelters — worth trying first" in said["en"]
    assert "ближче за перевіреніші укриття" in said["uk"]
    assert "worth trying" not in why(ranked[1].why)["en"]  # nothing better-checked after it
    assert "worth trying" not in why(ranked[2].why)["en"]  # the checked door is ahead of it


def test_a_checked_door_a_little_further_beats_an_unchecked_one() -> None:
    ranked = rank([cand(1, 800), cand(2, 900, Status.OPEN_VERIFIED)], model=MODEL)
    assert [r.shelter_id for r in ranked] == [2, 1]
    assert all("worth trying" not in why(r.why)["en"] for r in ranked)


def test_a_resident_saying_open_counts_for_less_than_a_keyholder() -> None:
    # 1.5 times the walk: worth it for a checked door (2% fail), not for one person's word (10%).
    near = cand(1, 400)  # 384 s
    for status, first in ((Status.OPEN_VERIFIED, 2), (Status.OPEN_REPORTED, 1)):
        ranked = rank([near, cand(2, 560, status)], model=MODEL)  # 538 s
        assert ranked[0].shelter_id == first, status


def test_walking_time_is_distance_times_detour_over_speed() -> None:
    [only] = rank([cand(1, 1000)], model=MODEL)
    assert only.walk_s == round(1000 * 1.2 / 1.25)


def test_step_free_search_walks_slower_and_hides_shelters_with_stairs() -> None:
    pool = [cand(1, 100, step_free=False), cand(2, 300, step_free=True),
            cand(3, 400, step_free=True), cand(4, 500, step_free=True)]
    ranked = rank(pool, model=MODEL, step_free=True)
    assert [r.shelter_id for r in ranked] == [2, 3, 4]
    assert ranked[0].walk_s == round(300 * 1.2 / 0.5)
    assert "без сходів" in why(ranked[0].why)["uk"] and "step-free" in why(ranked[0].why)["en"]


def test_step_free_search_fills_with_unrecorded_access_rather_than_leave_one_option() -> None:
    pool = [cand(1, 100, step_free=False), cand(2, 300, step_free=True), cand(3, 400),
            cand(4, 500)]
    ranked = rank(pool, model=MODEL, step_free=True)
    assert [r.shelter_id for r in ranked] == [2, 3, 4]
    line = why(ranked[1].why)
    assert "not confirmed" in line["en"] and "не підтверджено" in line["uk"]


def test_a_measured_route_replaces_the_estimate() -> None:
    ranked = rank([cand(1, 100, walk_s=700.0), cand(2, 300)], model=MODEL)
    assert [(r.shelter_id, r.walk_s) for r in ranked] == [(2, 288), (1, 700)]


@pytest.mark.parametrize(
    ("warning_s", "reachable", "phrase"),
    [
        (None, None, None),
        (120, True, "reachable before the threat"),
        (60, False, "may not be reachable"),
        (0, False, "may not be reachable"),
    ],
)
def test_reachable_in_time_compares_the_walk_with_the_warning_time(
    warning_s: int | None, reachable: bool | None, phrase: str | None
) -> None:
    [only] = rank([cand(1, 100)], model=MODEL, warning_s=warning_s)  # 96 s walk
    assert only.reachable_in_time is reachable
    if phrase:
        assert phrase in why(only.why)["en"]
    else:
        assert "threat" not in why(only.why)["en"]


def test_known_capacity_breaks_a_tie_and_is_mentioned() -> None:
    ranked = rank([cand(1, 200, capacity=50), cand(2, 200, capacity=400), cand(3, 200)],
                  model=MODEL)
    assert [r.shelter_id for r in ranked] == [2, 1, 3]
    assert "holds 400" in why(ranked[0].why)["en"] and "місткість 400" in why(ranked[0].why)["uk"]


def test_why_names_status_and_minutes_in_both_languages() -> None:
    [only] = rank([cand(1, 500, Status.LOCKED_REPORTED)], model=MODEL, warning_s=600)
    assert why(only.why)["uk"] == "Зачинено за повідомленням · 8 хв пішки · встигаєте до загрози"
    assert why(only.why)["en"] == "Reported locked · 8 min walk · reachable before the threat"


def test_at_least_three_results_even_when_one_is_asked_for() -> None:
    ranked = rank([cand(i, 100.0 * i) for i in range(1, 10)], model=MODEL, limit=1)
    assert len(ranked) == MIN_RESULTS


def test_great_circle_distance_matches_a_known_pair() -> None:
    # Maidan Nezalezhnosti to Kyiv Pasazhyrskyi station: about 2.4 km.
    d = great_circle_m(50.4501, 30.5234, 50.4406, 30.4890)
    assert 2500 < d < 2700


def lifted(r: Ranked, warning_s: int | None) -> bool:
    """In the alert's first tier: might admit, and reachable in time."""
    return (warning_s is not None and STATUS_CLASS[r.status] <= STATUS_CLASS[Status.UNKNOWN]
            and r.walk_s <= warning_s)


def admits(r: Ranked) -> bool:
    return STATUS_CLASS[r.status] <= STATUS_CLASS[Status.UNKNOWN]


statuses = st.sampled_from(list(Status))
candidates = st.lists(
    st.builds(
        Candidate,
        shelter_id=st.integers(1, 10_000),
        distance_m=st.floats(0, 50_000, allow_nan=False),
        status=statuses,
        step_free=st.sampled_from([True, False, None]),
        capacity=st.one_of(st.none(), st.integers(0, 5000)),
        walk_s=st.one_of(st.none(), st.floats(0, 100_000)),
        readiness=st.one_of(st.none(), st.sampled_from([
            {"category": c, "reasons": [], "audited_at": None}
            for c in ("ready", "limited", "not_ready", None)])),
    ),
    max_size=40,
    unique_by=lambda c: c.shelter_id,
)


@given(candidates, st.integers(0, 20), st.booleans(), st.one_of(st.none(), st.integers(0, 900)))
def test_ranking_properties(
    pool: list[Candidate], limit: int, step_free: bool, warning_s: int | None
) -> None:
    ranked = rank(pool, model=MODEL, limit=limit, step_free=step_free, warning_s=warning_s)
    eligible = [c for c in pool if not step_free or c.step_free is not False]
    # Never fewer than three when three are eligible; never more than asked (or three).
    assert len(ranked) == min(len(eligible), max(limit, MIN_RESULTS))
    # During an alert a shelter that might admit and is reachable in time never comes after
    # one that is not; a door that will not admit never before one that might, and those that
    # will not by status class; within each tier a not-ready shelter never before a ready one.
    for a, b in zip(ranked, ranked[1:], strict=False):
        ka, kb = STATUS_CLASS[a.status], STATUS_CLASS[b.status]
        ta, tb = lifted(a, warning_s), lifted(b, warning_s)
        assert ta >= tb
        if ta != tb:
            continue
        assert admits(a) >= admits(b)
        if admits(a) != admits(b):
            continue
        if not admits(a):
            assert ka <= kb
            if ka != kb:
                continue
        assert a.not_ready <= b.not_ready
    # No shelter twice, every one comes from the pool, every one explained in both languages.
    ids = [r.shelter_id for r in ranked]
    assert len(set(ids)) == len(ids) and set(ids) <= {c.shelter_id for c in pool}
    for r in ranked:
        line = why(r.why)
        assert line["uk"] and line["en"] and "\n" not in line["uk"] + line["en"]
        assert (r.reachable_in_time is None) == (warning_s is None)


@given(st.floats(0, 100_000, allow_nan=False), st.floats(0, 100_000, allow_nan=False))
def test_a_longer_walk_never_takes_less_time(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert MODEL.walk_seconds(lo) <= MODEL.walk_seconds(hi)
    assert MODEL.walk_seconds(hi) <= MODEL.walk_seconds(hi, reduced_mobility=True)


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_great_circle_is_symmetric_and_bounded(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    d = great_circle_m(lat1, lon1, lat2, lon2)
    assert math.isclose(d, great_circle_m(lat2, lon2, lat1, lon1), abs_tol=1e-6)
    assert 0 <= d <= math.pi * 6_371_008.8 + 1


def test_a_not_ready_shelter_comes_after_a_farther_ready_one_and_says_why() -> None:
    not_ready = {"category": "not_ready", "audited_at": "2026-06-01T10:00:00+00:00",
                 "reasons": [{"item_id": "water_present", "severity": "major",
                              "uk": "немає води", "en": "no water"},
                             {"item_id": "entrance_step_free", "severity": "major",
                              "uk": "немає входу без сходів", "en": "no step-free entrance"}]}
    near = Candidate(1, 100.0, Status.UNKNOWN, readiness=not_ready)
    far = Candidate(2, 400.0, Status.UNKNOWN, readiness={"category": "ready", "reasons": [],
                                                         "audited_at": None})
    verified = Candidate(3, 900.0, Status.OPEN_VERIFIED, readiness=not_ready)
    ranked = rank([near, far, verified], model=MODEL)
    # The ready door first; of the two not ready, the near unchecked one is the better bet.
    assert [r.shelter_id for r in ranked] == [2, 1, 3]
    said = why(ranked[1].why)
    assert "не готове (немає води, немає входу без сходів)" in said["uk"]
    assert "not ready (no water, no step-free entrance)" in said["en"]
    assert "not ready" not in why(ranked[0].why)["en"]


MIGHT_ADMIT = [Status.OPEN_VERIFIED, Status.FORCED_OPEN, Status.OPEN_REPORTED, Status.UNKNOWN]
NEVER_LIFTED = [Status.FULL, Status.LOCKED_REPORTED, Status.REFUSED_REPORTED,
                Status.LOCKED_CONFIRMED, Status.UNFIT, Status.CLOSED]


def test_during_an_alert_an_unchecked_door_in_time_beats_a_checked_one_just_too_far() -> None:
    near = cand(1, 150)  # 144 s on foot at this model's pace
    far = cand(2, 190, Status.OPEN_VERIFIED)  # 182 s: the better bet, but not within 150 s
    calm = rank([near, far], model=MODEL)
    alert = rank([near, far], model=MODEL, warning_s=150)
    assert [r.shelter_id for r in calm] == [2, 1]
    assert [r.shelter_id for r in alert] == [1, 2]
    said = why(alert[0].why)
    assert "better-checked shelters are too far" in said["en"]
    assert "перевіреніші укриття далі" in said["uk"]
    assert "worth trying" not in said["en"]  # one reason, the one that put it first
    assert "may not be reachable" in why(alert[1].why)["en"]


@pytest.mark.parametrize("status", NEVER_LIFTED)
def test_an_alert_never_lifts_a_door_that_will_not_let_people_in(status: Status) -> None:
    ranked = rank([cand(1, 10, status), cand(2, 5000, Status.UNKNOWN)], model=MODEL,
                  warning_s=120)
    assert [r.shelter_id for r in ranked] == [2, 1]
    assert ranked[1].reachable_in_time is True  # still shown, and still said to be near


def test_a_door_first_by_status_anyway_is_not_said_to_be_lifted() -> None:
    ranked = rank([cand(1, 50, Status.OPEN_VERIFIED), cand(2, 60), cand(3, 5000)], model=MODEL,
                  warning_s=120)
    assert [r.shelter_id for r in ranked] == [1, 2, 3]
    assert all("too far" not in why(r.why)["en"] for r in ranked)
    assert "reachable before the threat" in why(ranked[1].why)["en"]


@given(candidates, st.integers(0, 20), st.integers(0, 900))
def test_during_an_alert_no_reachable_door_that_might_admit_is_left_out_for_a_far_one(
    pool: list[Candidate], limit: int, warning_s: int
) -> None:
    # (Without step_free: how many unrecorded-access shelters fill in depends on the limit.)
    ranked = rank(pool, model=MODEL, limit=limit, warning_s=warning_s)
    everyone = rank(pool, model=MODEL, limit=len(pool), warning_s=warning_s)
    in_time = {r.shelter_id for r in everyone if lifted(r, warning_s)}
    shown = [r.shelter_id for r in ranked]
    if any(not lifted(r, warning_s) for r in ranked):
        assert in_time <= set(shown)  # a far one is shown only after every one in time
    # Never lifted: a door that will not admit never comes before one that might.
    for a, b in zip(ranked, ranked[1:], strict=False):
        if a.status in NEVER_LIFTED:
            assert b.status not in MIGHT_ADMIT


@given(candidates, st.integers(0, 20), st.booleans())
def test_an_alert_nobody_can_meet_changes_no_place(
    pool: list[Candidate], limit: int, step_free: bool
) -> None:
    # An alert whose warning nobody can meet (0 s, every walk longer) changes no place.
    far = [c._replace(distance_m=c.distance_m + 1000, walk_s=None) for c in pool]
    assert ([r.shelter_id for r in rank(far, model=MODEL, limit=limit, step_free=step_free,
                                        warning_s=0)]
            == [r.shelter_id for r in rank(far, model=MODEL, limit=limit,
                                           step_free=step_free)])


warnings = st.one_of(st.none(), st.integers(0, 900))


def places(pool: list[Candidate], warning_s: int | None) -> list[int]:
    return [r.shelter_id for r in rank(pool, model=MODEL, limit=len(pool), warning_s=warning_s)]


@given(candidates.filter(bool), st.data(), st.floats(0, 1), warnings)
def test_moving_a_door_closer_never_ranks_it_lower(
    pool: list[Candidate], data: st.DataObject, share: float, warning_s: int | None
) -> None:
    i = data.draw(st.integers(0, len(pool) - 1))
    door = pool[i]
    closer = [*pool[:i], door._replace(distance_m=door.distance_m * share, walk_s=None),
              *pool[i + 1:]]
    pool = [*pool[:i], door._replace(walk_s=None), *pool[i + 1:]]
    before, after = places(pool, warning_s), places(closer, warning_s)
    assert after.index(door.shelter_id) <= before.index(door.shelter_id)


@given(candidates, st.floats(0, 50_000, allow_nan=False), warnings)
def test_a_checked_door_beats_an_unchecked_one_at_the_same_distance(
    pool: list[Candidate], distance: float, warning_s: int | None
) -> None:
    ids = {c.shelter_id for c in pool}
    checked, unchecked = max(ids, default=0) + 1, max(ids, default=0) + 2
    order = places([*pool, cand(unchecked, distance), cand(checked, distance,
                                                            Status.OPEN_VERIFIED)], warning_s)
    assert order.index(checked) < order.index(unchecked)


@given(candidates, st.sampled_from(MIGHT_ADMIT), st.sampled_from(NEVER_LIFTED),
       st.floats(0, 20_000, allow_nan=False), st.floats(0, 20_000, allow_nan=False), warnings)
def test_a_door_that_will_not_admit_never_beats_one_that_might_at_the_same_or_any_distance(
    pool: list[Candidate], might: Status, will_not: Status, a: float, b: float,
    warning_s: int | None,
) -> None:
    ids = {c.shelter_id for c in pool}
    open_id, shut_id = max(ids, default=0) + 1, max(ids, default=0) + 2
    near, far = sorted((a, b))
    for shut_at, open_at in ((near, far), (far, near), (near, near)):
        order = places([*pool, cand(shut_id, shut_at, will_not), cand(open_id, open_at, might)],
                       warning_s)
        assert order.index(open_id) < order.index(shut_id)
