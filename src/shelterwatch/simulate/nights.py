"""The nights a simulation can play, as data: when the alert ran, its threat, how people behave.

The rates are the June 2023 inspection's (after the night of 1 June, when people died at the
locked door of a Desnianskyi clinic): 9.3% of Kyiv's checked shelters were found locked and
23.6% unfit. Behaviour without a published source (how fast a keyholder answers at three in the
morning, how many sleep through it, how fast a patrol car goes) is a stated assumption, here in
one place so a run can be argued with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class NightPlan:
    name: str
    area_id: str  # alerts.in.ua location UID of the area the alert is for
    alert_start: datetime
    alert_end: datetime
    threat: str
    warning_s: float  # how long residents have before the threat arrives
    night_s: float  # how long the simulation follows the night from the alert
    locked_share: float  # doors locked whose keyholders never answer
    unfit_share: float  # shelters that cannot take people in (flooded, storage, no exit)
    keyholder_silent_share: float  # keyholders of usable shelters who sleep through it
    keyholder_median_s: float  # the others answer after a log-normal delay …
    keyholder_sigma: float  # … with this spread (of the log)
    walking_mean_mps: float
    walking_sd_mps: float
    detour_factor: float  # streets against the straight line, as the product assumes
    patrol_speed_mps: float  # a patrol car at night with its lights on
    patrol_detour: float
    patrol_setoff_s: float  # from taking a task to rolling
    patrol_poll_s: float  # how often an idle patrol's phone asks for tasks
    force_door_s: float  # rescue tools at a locked door
    max_tries: int  # doors a resident tries before giving up


KYIV_2023_06_01 = NightPlan(
    name="kyiv-2023-06-01",
    area_id="31",
    # alerts.in.ua history for Kyiv city, as the bundled replay (`shelterwatch demo`) uses
    alert_start=datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC),
    alert_end=datetime(2023, 6, 1, 1, 3, 5, tzinfo=UTC),
    threat="ballistic",  # Iskander-M that night; rules.warning's ballistic default
    warning_s=120.0,
    night_s=900.0,
    locked_share=0.093,
    unfit_share=0.236,
    keyholder_silent_share=0.2,
    keyholder_median_s=90.0,
    keyholder_sigma=0.8,
    walking_mean_mps=1.3,
    walking_sd_mps=0.25,
    detour_factor=1.3,
    patrol_speed_mps=11.0,  # 40 km/h
    patrol_detour=1.4,
    patrol_setoff_s=30.0,
    patrol_poll_s=10.0,
    force_door_s=90.0,
    max_tries=4,
)

NIGHTS: dict[str, NightPlan] = {KYIV_2023_06_01.name: KYIV_2023_06_01}
