"""The same night without shelterwatch: nobody acts on a report and nobody is told anything.

People walk to the nearest shelter they know of (the registry by distance), find the door as it
is, and try the next nearest; a locked door stays locked all night except where a controller
opened it at the alert's start (the city's locks do that on their own). Pure, seeded by the
residents and doors it is given.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from shelterwatch.rules.geo import great_circle_many
from shelterwatch.simulate.city import Door, DoorWorld, Resident, Shelter, walk_s
from shelterwatch.simulate.journey import Journey
from shelterwatch.simulate.nights import NightPlan

CONTROLLER_UNLOCK_S = 1.0  # a controller's unlock reaches the door a second after the alert


def play(residents: Sequence[Resident], shelters: Sequence[Shelter], world: DoorWorld,
         plan: NightPlan, *, pool: int = 12) -> list[Journey]:
    """Every resident's journey through the night without shelterwatch."""
    for sid, door in world.plans.items():
        if door.controller:
            world.open(sid, CONTROLLER_UNLOCK_S)
    lat = np.asarray([s.lat for s in shelters])
    lon = np.asarray([s.lon for s in shelters])
    by_id = {s.id: s for s in shelters}
    journeys = [Journey.of(r) for r in residents]
    # (time, order, resident index, shelter walked to or -1 to choose): one heap, time order,
    # so whoever finds a door locked first is the first report for those who come later.
    events: list[tuple[float, int, int, int]] = [
        (r.start_s, i, i, -1) for i, r in enumerate(residents)]
    heapq.heapify(events)
    order = len(events)
    while events:
        t, _, i, target = heapq.heappop(events)
        if t > plan.night_s:
            break
        journey = journeys[i]
        if target >= 0:
            shelter = by_id[target]
            arrival = journey.arrive(world, target, t, shelter.lat, shelter.lon)
            if arrival.found == Door.LOCKED:
                world.reported(target, t)  # they would tell; nobody would act
            if not journey.goes_on(plan.max_tries):
                continue
        distances = great_circle_many(journey.lat, journey.lon, lat, lon)
        nearest = np.argsort(distances)[:pool + len(journey.tried)]
        choice = journey.choose([shelters[k].id for k in nearest])
        if choice is None:
            continue
        order += 1
        walk = walk_s(journey.resident, journey.lat, journey.lon, by_id[choice], plan)
        journey.walked(walk)
        heapq.heappush(events, (t + walk, order, i, choice))
    return journeys
