"""The clock a simulated night runs on: faster, shared by every process from one anchor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shelterwatch import clock
from shelterwatch.app import create_app
from shelterwatch.config import ConfigError, Settings, load


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    yield
    clock.compress(1.0, None)


def test_a_compressed_clock_runs_speed_times_faster_from_its_anchor() -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=10)
    clock.compress(30.0, anchor)
    ahead = (clock.utcnow() - datetime.now(UTC)).total_seconds()
    # 10 s of real time since the anchor read as 300 s: 290 s ahead of the wall clock
    assert 289.0 <= ahead <= 292.0
    assert clock.real_seconds(60.0) == pytest.approx(2.0)


def test_two_processes_given_the_same_anchor_read_the_same_time() -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=3)
    clock.compress(12.0, anchor)
    first = clock.utcnow()
    clock.compress(12.0, anchor.astimezone())  # the same instant written in another zone
    assert (clock.utcnow() - first).total_seconds() < 0.5


def test_speed_one_is_real_time() -> None:
    clock.compress(1.0, datetime.now(UTC) - timedelta(hours=1))
    assert abs((clock.utcnow() - datetime.now(UTC)).total_seconds()) < 0.5
    assert clock.real_seconds(60.0) == 60.0


def test_a_replay_jump_holds_on_a_compressed_clock() -> None:
    clock.compress(10.0, datetime.now(UTC))
    target = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)
    clock.set_replay_time(target)
    try:
        assert abs((clock.utcnow() - target).total_seconds()) < 5
    finally:
        clock.set_replay_time(datetime.now(UTC))


def test_a_speed_without_an_anchor_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="CLOCK_ANCHOR"):
        load(clock_speed=20)


def test_a_fast_clock_is_refused_outside_development() -> None:
    with pytest.raises(ConfigError, match="outside development"):
        load(clock_speed=20, clock_anchor=datetime.now(UTC), environment="production",
             secret_key="a-real-secret-of-enough-length")


def test_the_server_runs_on_the_clock_its_settings_name(settings: Settings) -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=20)
    create_app(settings.model_copy(update={"clock_speed": 50.0, "clock_anchor": anchor}))
    ahead = (clock.utcnow() - datetime.now(UTC)).total_seconds()
    assert 975.0 <= ahead <= 985.0
