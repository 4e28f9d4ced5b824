"""`shelterwatch demo kyiv-2023-06-01`: the seed night meets its goals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run_demo(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "shelterwatch.cli.main", "demo", "kyiv-2023-06-01", "--json",
         *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_residents_at_the_locked_clinic_are_steered_and_the_patrol_opens_it_in_time():
    night = run_demo()
    assert night["steered_after_report_s"] is not None
    assert night["steered_after_report_s"] <= 10
    assert night["door_open_after_alert_s"] <= 600
    events = [e["event"] for e in night["timeline"]]
    assert any("patrol forces the clinic door open" in e for e in events)
    assert any("school keyholder taps the link" in e for e in events)
    assert all(set(e) == {"at", "event"} for e in night["timeline"])
    assert night["timeline"][0]["at"].startswith("2023-05-31T23:49:31")


def test_a_door_controller_opens_the_clinic_within_seconds_of_the_siren():
    night = run_demo("--door-controller")
    assert night["door_open_after_alert_s"] <= 15
    assert night["steered_after_report_s"] is None  # nobody found it locked


def test_an_unknown_scenario_is_refused_in_one_line():
    done = subprocess.run([sys.executable, "-m", "shelterwatch.cli.main", "demo", "atlantis"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unknown scenario" in done.stderr
