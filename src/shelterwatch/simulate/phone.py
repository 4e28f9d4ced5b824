"""What a resident's phone answers when the server does not: the offline pack, ranked on the phone.

The resident page keeps the pack (`/v1/pack`) and ranks it itself (`rank.js`) when a look-up
fails or takes too long; rank.js is the same rule as `rules.ranking`, so the simulation ranks the
pack it holds with that rule: the nearest `pool` doors by great-circle distance, their statuses
as the pack had them updated by what the page heard on its event stream. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shelterwatch.rules import ranking
from shelterwatch.rules.geo import great_circle_many
from shelterwatch.vocabulary import Status


class Phone:
    """The pack as every phone holds it (one copy stands for all)."""

    def __init__(self, shelters: Sequence[Mapping[str, Any]], *, pool: int = 12,
                 model: ranking.WalkingModel | None = None) -> None:
        self.shelters = list(shelters)
        self.lat = np.asarray([s["lat"] for s in self.shelters], dtype=float)
        self.lon = np.asarray([s["lon"] for s in self.shelters], dtype=float)
        self.pool = pool
        self.model = model or ranking.WalkingModel()

    def rank(self, lat: float, lon: float, *, heard: Mapping[int, str], limit: int,
             warning_s: int | None) -> list[int]:
        """The shelter ids the page would list, best first."""
        if not self.shelters:
            return []
        size = min(len(self.shelters), max(self.pool, limit * 2))
        distances = great_circle_many(lat, lon, self.lat, self.lon)
        nearest = np.argpartition(distances, size - 1)[:size]
        candidates = []
        for k in nearest:
            s = self.shelters[int(k)]
            status = heard.get(s["id"], s.get("status") or Status.UNKNOWN.value)
            candidates.append(ranking.Candidate(
                s["id"], float(distances[k]), Status(status), s.get("step_free"),
                s.get("capacity"), None, s.get("readiness")))
        ranked = ranking.rank(candidates, model=self.model, limit=limit, warning_s=warning_s)
        return [r.shelter_id for r in ranked]
