"""Sending the patrol that gets to a locked door first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.rules.dispatch import (
    PatrolUnitState,
    Travel,
    choose_unit,
    travel_time_s,
)
from shelterwatch.rules.geo import great_circle_m

NOW = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)
CLINIC = (50.4765086, 30.6311707)  # вул. Курчатова, 18-А


def unit(uid, lat, lon, available=True, age_s=0.0):
    return PatrolUnitState(uid, lat, lon, available, NOW - timedelta(seconds=age_s))


def test_the_nearest_available_unit_is_sent():
    units = [unit(1, 50.45, 30.52), unit(2, 50.48, 30.63), unit(3, 50.4766, 30.6312, False)]
    choice = choose_unit(units, lat=CLINIC[0], lon=CLINIC[1], now=NOW)
    assert choice is not None and choice.unit_id == 2
    assert 0 < choice.travel_s < 120


def test_no_unit_is_sent_when_none_is_available():
    assert choose_unit([unit(1, 50.4, 30.5, available=False)], lat=50.4, lon=30.5, now=NOW) is None
    assert choose_unit([PatrolUnitState(1, None, None, True)], lat=50.4, lon=30.5, now=NOW) is None


def test_a_unit_with_a_fresh_position_beats_one_last_seen_hours_ago():
    units = [unit(1, *CLINIC, age_s=4 * 3600), unit(2, 50.48, 30.63)]
    assert choose_unit(units, lat=CLINIC[0], lon=CLINIC[1], now=NOW).unit_id == 2


def test_travel_time_across_kyiv_is_minutes_not_hours():
    # From Khreshchatyk to Troieshchyna: about 11 km straight.
    seconds = travel_time_s(50.4501, 30.5234, 50.5150, 30.6050, Travel())
    assert 10 * 60 < seconds < 60 * 60


coords = st.tuples(st.floats(50.3, 50.6), st.floats(30.2, 30.8))


@given(st.lists(st.tuples(coords, st.booleans()), min_size=1, max_size=12), coords)
def test_the_chosen_unit_is_available_and_none_available_is_closer(raw, target):
    units = [unit(i, lat, lon, available=a) for i, ((lat, lon), a) in enumerate(raw)]
    choice = choose_unit(units, lat=target[0], lon=target[1], now=NOW)
    available = [u for u in units if u.available]
    if not available:
        assert choice is None
        return
    assert choice is not None
    chosen = next(u for u in units if u.id == choice.unit_id)
    assert chosen.available
    best = min(great_circle_m(u.lat, u.lon, *target) for u in available)
    assert great_circle_m(chosen.lat, chosen.lon, *target) <= best + 1e-6
