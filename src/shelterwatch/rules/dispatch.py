"""Choosing the patrol unit that reaches a locked door first (DESIGN §4.4), without I/O.

Travel time is the great-circle distance stretched by a detour factor at a city driving speed;
a routing service can replace it later without changing the choice rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shelterwatch.rules.geo import great_circle_m


@dataclass(frozen=True, slots=True)
class Travel:
    """How patrols move: speed in metres per second and the road-over-straight-line factor."""

    speed_mps: float = 8.3  # about 30 km/h through a city at night, with lights
    detour: float = 1.4


DEFAULT_TRAVEL = Travel()


@dataclass(frozen=True, slots=True)
class PatrolUnitState:
    id: int
    lat: float | None
    lon: float | None
    available: bool
    position_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    unit_id: int
    travel_s: float


def travel_time_s(lat1: float, lon1: float, lat2: float, lon2: float, travel: Travel) -> float:
    """Seconds to drive between two points."""
    return great_circle_m(lat1, lon1, lat2, lon2) * travel.detour / travel.speed_mps


def choose_unit(
    units: Iterable[PatrolUnitState],
    *,
    lat: float,
    lon: float,
    now: datetime,
    travel: Travel = DEFAULT_TRAVEL,
    position_max_age_s: float = 3600.0,
) -> Choice | None:
    """The available unit with the shortest travel time to (lat, lon); ties go to the lower id.

    A unit whose last position is older than `position_max_age_s` is still eligible, but ranked
    after every unit with a fresh fix: its position is a guess.
    """
    best: tuple[bool, float, int] | None = None
    for unit in units:
        if not unit.available or unit.lat is None or unit.lon is None:
            continue
        stale = unit.position_at is None or (
            (now - unit.position_at).total_seconds() > position_max_age_s
        )
        key = (stale, travel_time_s(unit.lat, unit.lon, lat, lon, travel), unit.id)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    return Choice(unit_id=best[2], travel_s=best[1])
