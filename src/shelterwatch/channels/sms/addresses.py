"""Finding a place by the address a resident types, from the registry's own addresses.

The registry is the gazetteer a push-button phone can use: every shelter has an address, and the
door sign prints it. "НАЙБЛИЖЧЕ Курчатова 18" finds the shelters at that house, or else the
nearest house number on the same street (house numbers run along a street), and answers from
there — saying which address it understood. Built once per version of the registry, so a look-up
costs a dictionary access whatever the registry's size.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shelterwatch.rules import sms


@dataclass(frozen=True, slots=True)
class Place:
    lat: float
    lon: float
    address: str  # the registry's address that was matched
    exact: bool  # the very house, not the nearest number on the street
    shelter_ids: tuple[int, ...]


class Gazetteer:
    """(street, house) → shelters, and street → shelters in house-number order."""

    def __init__(self, shelters: Sequence[Any]) -> None:
        self.houses: dict[tuple[str, str], list[Any]] = {}
        streets: dict[str, list[tuple[int, Any]]] = {}
        for shelter in shelters:
            address = shelter.properties.get("address") or ""
            street, house = sms.address_key(address)
            if not street:
                continue
            self.houses.setdefault((street, house), []).append(shelter)
            number = sms.house_number(house)
            if number is not None:
                streets.setdefault(street, []).append((number, shelter))
        self.streets = {k: sorted(v, key=lambda p: (p[0], p[1].id)) for k, v in streets.items()}

    def find(self, typed: str) -> Place | None:
        street, house = sms.address_key(typed)
        found = self.houses.get((street, house))
        if found:
            first = found[0]
            return Place(first.lat, first.lon, first.properties.get("address") or "", True,
                         tuple(s.id for s in found))
        along = self.streets.get(street)
        number = sms.house_number(house)
        if not along or number is None:
            return None
        i = bisect_left([n for n, _ in along], number)
        nearby = [along[j] for j in (i - 1, i) if 0 <= j < len(along)]
        _, best = min(nearby, key=lambda p: abs(p[0] - number))
        return Place(best.lat, best.lon, best.properties.get("address") or "", False, ())


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def gazetteer(index: Any) -> Gazetteer:
    """The gazetteer of the index's current registry (rebuilt only when the registry changes)."""
    shelters = index.all()
    with _lock:
        if _cache.get("shelters") is not shelters:
            _cache["gazetteer"], _cache["shelters"] = Gazetteer(shelters), shelters
        built: Gazetteer = _cache["gazetteer"]
        return built
