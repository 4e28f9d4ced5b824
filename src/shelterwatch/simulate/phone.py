"""What a resident's phone answers when the server does not: the offline pack, ranked on the phone.

The resident page keeps the pack (`/v1/pack`) and ranks it itself (`rank.js`) when a look-up
fails or takes too long; rank.js is the same rule as `rules.ranking`, so the simulation ranks the
pack it holds with that rule: the nearest `pool` doors by great-circle distance, their statuses
as the pack had them updated by what the page heard on its event stream. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shelterwatch.rules import ranking
from shelterwatch.rules.geo import great_circle_many
from shelterwatch.vocabulary import Status

SHORTLIST = 4  # times the pool, shortlisted by flat-earth distance before the exact one


class Phone:
    """The pack as every phone holds it (one copy stands for all)."""

    def __init__(self, shelters: Sequence[Mapping[str, Any]], *, pool: int = 12,
                 model: ranking.WalkingModel | None = None) -> None:
        self.shelters = list(shelters)
        self.lat = np.asarray([s["lat"] for s in self.shelters], dtype=float)
        self.lon = np.asarray([s["lon"] for s in self.shelters], dtype=float)
        self.pool = pool
        # Flat-earth coordinates (longitude scaled at the middle latitude) to shortlist doors
        # cheaply: a city's tens of thousands of pack rankings, not its server, were the
        # simulation's cost. The shortlist's exact distances then decide, as before.
        middle = math.radians(float(self.lat.mean())) if self.shelters else 0.0
        self.cos_lat = math.cos(middle)
        self.y = np.radians(self.lat)
        self.x = np.radians(self.lon) * self.cos_lat
        self.model = model or ranking.WalkingModel()

    def rank(self, lat: float, lon: float, *, heard: Mapping[int, str], limit: int,
             warning_s: int | None) -> list[int]:
        """The shelter ids the page would list, best first."""
        if not self.shelters:
            return []
        size = min(len(self.shelters), max(self.pool, limit * 2))
        # Within a city the flat-earth order differs from the great circle's by far less than
        # a shortlist four times the pool allows for.
        short = min(len(self.shelters), size * SHORTLIST)
        flat = (self.y - math.radians(lat)) ** 2 + (
            self.x - math.radians(lon) * self.cos_lat) ** 2
        shortlist = np.argpartition(flat, short - 1)[:short] if short < len(flat) else (
            np.arange(len(flat)))
        exact = great_circle_many(lat, lon, self.lat[shortlist], self.lon[shortlist])
        order = np.argpartition(exact, size - 1)[:size] if size < short else np.arange(short)
        candidates = []
        for k in order:
            s = self.shelters[int(shortlist[k])]
            status = heard.get(s["id"], s.get("status") or Status.UNKNOWN.value)
            candidates.append(ranking.Candidate(
                s["id"], float(exact[k]), Status(status), s.get("step_free"),
                s.get("capacity"), None, s.get("readiness")))
        ranked = ranking.rank(candidates, model=self.model, limit=limit, warning_s=warning_s)
        return [r.shelter_id for r in ranked]
