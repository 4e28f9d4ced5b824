"""One resident's way through the night: pick a shelter, walk, find the door, try the next.

The same rules drive the run against the server (where the ranking comes from /v1/nearest) and
the baseline (where it is the nearest door the person knows of), so the two differ only in what
shelterwatch tells people and does about locked doors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shelterwatch.simulate.city import Door, DoorWorld, Resident


@dataclass(frozen=True, slots=True)
class Arrival:
    shelter_id: int
    t: float  # seconds after the alert
    found: Door
    after_first_report: bool  # someone had already reported this door locked


@dataclass(slots=True)
class Journey:
    resident: Resident
    lat: float
    lon: float
    tried: list[int] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    steered: int = 0  # times the phone turned them away from a door on the way
    lookups: int = 0
    first_walk_s: float | None = None  # the walk to the first shelter they were sent to

    @classmethod
    def of(cls, resident: Resident) -> Journey:
        return cls(resident, resident.lat, resident.lon)

    @property
    def sheltered_at(self) -> float | None:
        """When they got through an open door, if they did."""
        return next((a.t for a in self.arrivals if a.found == Door.OPEN), None)

    def choose(self, ranked: Sequence[int]) -> int | None:
        """The best-ranked shelter not tried (or turned away from) yet."""
        return next((sid for sid in ranked if sid not in self.tried), None)

    def walked(self, walk_s: float) -> None:
        """They set off on a walk of `walk_s` seconds."""
        if self.first_walk_s is None:
            self.first_walk_s = walk_s

    def arrive(self, world: DoorWorld, shelter_id: int, t: float, lat: float,
               lon: float) -> Arrival:
        """At the door at `t`: what they find; the caller reports a locked or unfit one."""
        found = world.found(shelter_id, t)
        first = world.first_report_s.get(shelter_id)
        arrival = Arrival(shelter_id, t, found, found == Door.LOCKED and first is not None
                          and first < t)
        self.arrivals.append(arrival)
        self.tried.append(shelter_id)
        self.lat, self.lon = lat, lon
        return arrival

    def turned_away(self, shelter_id: int, lat: float, lon: float) -> None:
        """The phone says the door ahead is reported locked: ask again from here."""
        self.steered += 1
        self.tried.append(shelter_id)
        self.lat, self.lon = lat, lon

    def goes_on(self, max_tries: int) -> bool:
        return self.sheltered_at is None and len(self.arrivals) < max_tries
