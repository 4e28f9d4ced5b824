"""Places per person within reach (2SFCA) and where a new or fixed shelter would help most.

Two questions a planner asks after "who is out of reach?":

- *Is there room?* The two-step floating catchment area (Luo & Wang 2003): each usable shelter's
  capacity is shared among all the people who can reach it in time (step 1: places per person of
  its catchment); each cell then adds up the ratios of every shelter it can reach (step 2). A cell
  below 1 place per person cannot all fit, even if every door is open.
- *Where to act?* Greedy maximal coverage (Church & ReVelle 1974): pick the candidate site that
  brings the most people not yet within reach into reach, count them as covered, repeat. The
  marginal gain of each pick is the number of people it adds on top of the earlier ones.

Both take the flat candidate arrays of `rules.coverage` and plain numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shelterwatch.rules.coverage import BoolArray, Candidates, FloatArray, IntArray


def two_step_fca(candidates: Candidates, population: FloatArray, capacity: FloatArray,
                 usable: BoolArray, speed_mps: float, warning_s: FloatArray) -> FloatArray:
    """Places per person of each cell: Σ over reachable usable shelters of capacity ÷ catchment.

    A shelter is within a cell's catchment when the walk to it takes no longer than the cell's
    warning time. Shelters of unknown capacity should be passed with capacity 0.
    """
    cell = candidates.cell_of_entry()
    within = (candidates.metres / speed_mps <= warning_s[cell]) & usable[candidates.shelter]
    s_idx = candidates.shelter[within]
    c_idx = cell[within]
    demand = np.bincount(s_idx, weights=population[c_idx], minlength=len(capacity))
    ratio = np.divide(capacity, demand, out=np.zeros(len(capacity)), where=demand > 0)
    access: FloatArray = np.asarray(
        np.bincount(c_idx, weights=ratio[s_idx], minlength=candidates.n_cells), dtype=np.float64)
    return access


@dataclass(frozen=True, slots=True)
class Pick:
    """One chosen site, in order: how many people it brings within reach beyond earlier picks."""

    site: int
    marginal_gain: float
    cumulative_gain: float


def greedy_max_coverage(covers: Sequence[Sequence[int] | IntArray], population: FloatArray,
                        already_covered: BoolArray, budget: int) -> list[Pick]:
    """Choose up to `budget` sites from `covers` (the cells each site would bring within reach).

    Each step picks the site with the largest population among cells not yet covered (ties to the
    lower site index, so the answer is reproducible); it stops early when no site adds anyone.
    Greedy is within 1 − 1/e of the best possible choice (Nemhauser, Wolsey & Fisher 1978).
    """
    covered = already_covered.copy()
    sets = [np.unique(np.asarray(c, dtype=np.int64)) for c in covers]
    taken: set[int] = set()
    picks: list[Pick] = []
    total = 0.0
    for _ in range(max(0, budget)):
        best, best_gain = -1, 0.0
        for site, cells in enumerate(sets):
            if site in taken or len(cells) == 0:
                continue
            gain = float(population[cells[~covered[cells]]].sum())
            if gain > best_gain:
                best, best_gain = site, gain
        if best < 0:
            break
        taken.add(best)
        covered[sets[best]] = True
        total += best_gain
        picks.append(Pick(best, best_gain, total))
    return picks
