"""The seed night's two figures against their goals (issue 6), with and without a door controller.

Run: .venv/bin/python bench/door_open_kyiv_2023_06_01.py   (the controller run needs Mosquitto
on 127.0.0.1:1883 or SHELTERWATCH_MQTT_URL).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from shelterwatch.demo.kyiv_2023_06_01 import replay

GOALS = {"steered_after_report_s": 10.0, "door_open_after_alert_s": 600.0}
CONTROLLER_GOAL_S = 15.0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        night = replay(door_controller=False, workdir=Path(tmp))
    for name, goal in GOALS.items():
        value = night[name]
        verdict = "ok" if value is not None and value <= goal else "MISSED"
        print(f"{name}: {value} (goal <= {goal}) {verdict}")
    with tempfile.TemporaryDirectory() as tmp:
        fitted = replay(door_controller=True, workdir=Path(tmp))
    value = fitted["door_open_after_alert_s"]
    verdict = "ok" if value is not None and value <= CONTROLLER_GOAL_S else "MISSED"
    print(f"door_open_after_alert_s with a door controller: {value} "
          f"(goal <= {CONTROLLER_GOAL_S}) {verdict}")


if __name__ == "__main__":
    main()
