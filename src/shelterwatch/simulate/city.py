"""The city's truth on the night, which shelterwatch only learns through evidence: which doors are
locked or unfit, where people are, how fast they walk, when a door actually opens.

Pure and seeded: the same seed gives the same doors and people, so a run with shelterwatch and
the baseline without it play the very same night.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from shelterwatch.rules.geo import great_circle_m
from shelterwatch.simulate.nights import NightPlan


class Door(StrEnum):
    OPEN = "open"  # someone with the key is there, or it is open around the clock
    LOCKED = "locked"  # locked, and its keyholder does not answer
    UNFIT = "unfit"  # cannot take people in


@dataclass(frozen=True, slots=True)
class Shelter:
    id: int
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DoorPlan:
    door: Door
    controller: bool  # an electronic lock that unlocks on command
    keyholder_answers_s: float | None  # when the keyholder checks in after the request


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    lat: float
    lon: float
    start_s: float  # when, after the alert, they look for a shelter
    speed_mps: float


def assign_doors(shelter_ids: Sequence[int], plan: NightPlan, *, controller_share: float,
                 rng: random.Random) -> dict[int, DoorPlan]:
    """Draw each door's state with the night's rates (exact counts, shuffled by the seed)."""
    ids = sorted(shelter_ids)
    n = len(ids)
    locked, unfit = round(n * plan.locked_share), round(n * plan.unfit_share)
    doors = [Door.LOCKED] * locked + [Door.UNFIT] * unfit + [Door.OPEN] * (n - locked - unfit)
    rng.shuffle(doors)
    controlled = set(rng.sample(ids, round(n * controller_share)))
    out: dict[int, DoorPlan] = {}
    for sid, door in zip(ids, doors, strict=True):
        answers: float | None = None
        # Only a usable shelter's keyholder checks in "open"; a locked door's never answers.
        if door == Door.OPEN and rng.random() >= plan.keyholder_silent_share:
            answers = plan.keyholder_median_s * math.exp(plan.keyholder_sigma * rng.gauss())
        out[sid] = DoorPlan(door, sid in controlled, answers)
    return out


def place_residents(cells: Sequence[tuple[float, float, float]], n: int, plan: NightPlan, *,
                    arrive_s: float, rng: random.Random,
                    jitter_m: float = 150.0) -> list[Resident]:
    """`n` residents drawn by population weight over cells (lat, lon, people), each somewhere
    in their cell, starting over `arrive_s` seconds after the alert."""
    weights = [c[2] for c in cells]
    if n and not any(w > 0 for w in weights):
        raise ValueError("no people in the cells to place residents from")
    picks = rng.choices(range(len(cells)), weights=weights, k=n)
    out = []
    for i, cell in enumerate(picks):
        lat, lon, _ = cells[cell]
        dn, de = rng.uniform(-jitter_m, jitter_m), rng.uniform(-jitter_m, jitter_m)
        speed = min(2.0, max(0.6, rng.gauss(plan.walking_mean_mps, plan.walking_sd_mps)))
        out.append(Resident(i, lat + dn / 111_320.0,
                            lon + de / (111_320.0 * math.cos(math.radians(lat))),
                            rng.uniform(0.0, arrive_s), speed))
    return out


def walk_s(resident: Resident, from_lat: float, from_lon: float, to: Shelter,
           plan: NightPlan) -> float:
    """Seconds on foot: the straight line times the detour, at this person's pace."""
    return (great_circle_m(from_lat, from_lon, to.lat, to.lon) * plan.detour_factor
            / resident.speed_mps)


def drive_s(from_lat: float, from_lon: float, to: Shelter, plan: NightPlan) -> float:
    """Seconds for a patrol car from where it is to a door, setting off included."""
    return plan.patrol_setoff_s + (great_circle_m(from_lat, from_lon, to.lat, to.lon)
                                   * plan.patrol_detour / plan.patrol_speed_mps)


def along(from_lat: float, from_lon: float, to: Shelter, share: float) -> tuple[float, float]:
    """Where a walker is after `share` of the way (short city walks: linear is exact enough)."""
    share = min(1.0, max(0.0, share))
    return from_lat + (to.lat - from_lat) * share, from_lon + (to.lon - from_lon) * share


@dataclass(slots=True)
class DoorWorld:
    """What each door really is at each moment of the night (seconds from the alert)."""

    plans: dict[int, DoorPlan]
    opened_at: dict[int, float] = field(default_factory=dict)  # locked doors opened, when
    first_report_s: dict[int, float] = field(default_factory=dict)  # first locked report

    def found(self, shelter_id: int, t: float) -> Door:
        """What a resident finds at the door at `t`."""
        door = self.plans[shelter_id].door
        if door == Door.LOCKED and self.opened_at.get(shelter_id, math.inf) <= t:
            return Door.OPEN
        return door

    def open(self, shelter_id: int, t: float) -> bool:
        """A patrol or a controller opens the door at `t`; whether it was locked until then."""
        if self.found(shelter_id, t) != Door.LOCKED:
            return False
        self.opened_at[shelter_id] = t
        return True

    def reported(self, shelter_id: int, t: float) -> None:
        """A resident reported this door locked at `t` (the first one counts)."""
        self.first_report_s.setdefault(shelter_id, t)
