"""Who can reach a usable shelter before the threat arrives: the pure arithmetic of coverage.

The shell (`shelterwatch.coverage`) turns a registry, a population grid and a street network into
plain arrays; everything here is a function of those arrays, so the CLI, the live console panel,
the benchmark and the tests compute exactly alike.

The central structure is a list of *candidates* per cell: every shelter within the walking horizon,
with the walking distance to it (by the street network, or the straight line times the detour
factor), nearest first, stored as flat CSR-style arrays. The nearest usable shelter of a cell is
then its first usable candidate, and when one shelter stops being usable only the cells it served
have to look again, further down their own lists — the incremental recompute that keeps the
console's figure live within a second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shelterwatch.vocabulary import Status

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A door that is confirmed locked, unfit, closed or full takes nobody in. An unverified `locked`
# report does not make a shelter unusable (DESIGN §3.4: an unverified report never hides one).
UNUSABLE: frozenset[Status] = frozenset(
    {Status.LOCKED_CONFIRMED, Status.UNFIT, Status.CLOSED, Status.FULL})
NO_SHELTER = -1


def is_usable(status: Status, *, ghost: bool = False) -> bool:
    """Whether people can take cover there now: its live status, and not a ghost (audits)."""
    return not ghost and status not in UNUSABLE


@dataclass(frozen=True, slots=True)
class Candidates:
    """For each cell, the shelters within the horizon, nearest first (CSR layout).

    Cell i's candidates are `shelter[indptr[i]:indptr[i+1]]` at walking distances
    `metres[indptr[i]:indptr[i+1]]`, sorted ascending.
    """

    indptr: IntArray
    shelter: IntArray
    metres: FloatArray

    @property
    def n_cells(self) -> int:
        return len(self.indptr) - 1

    def cell_of_entry(self) -> IntArray:
        """Which cell each flat entry belongs to."""
        out: IntArray = np.repeat(np.arange(self.n_cells, dtype=np.int64), np.diff(self.indptr))
        return out

    @classmethod
    def from_lists(cls, rows: Sequence[Sequence[tuple[int, float]]]) -> Candidates:
        """From one list of (shelter, metres) per cell, in any order (tests and small inputs)."""
        indptr = [0]
        shelters: list[int] = []
        metres: list[float] = []
        for row in rows:
            for s, m in sorted(row, key=lambda e: (e[1], e[0])):
                shelters.append(s)
                metres.append(m)
            indptr.append(len(shelters))
        return cls(np.asarray(indptr, dtype=np.int64), np.asarray(shelters, dtype=np.int64),
                   np.asarray(metres, dtype=np.float64))


@dataclass(frozen=True, slots=True)
class Reach:
    """Each cell's nearest usable shelter (or NO_SHELTER) and the walk to it in seconds (inf)."""

    shelter: IntArray
    walk_s: FloatArray


def nearest_usable(candidates: Candidates, usable: BoolArray, speed_mps: float,
                   cells: IntArray | None = None) -> Reach:
    """The first usable candidate of each cell (of `cells` only, when given).

    `usable` is indexed by shelter; a cell with no usable candidate within the horizon gets
    NO_SHELTER and an infinite walk.
    """
    if speed_mps <= 0:
        raise ValueError("walking speed must be positive")
    rows = np.arange(candidates.n_cells, dtype=np.int64) if cells is None else cells
    starts = candidates.indptr[rows]
    ends = candidates.indptr[rows + 1]
    ok = usable[candidates.shelter] if len(candidates.shelter) else np.zeros(0, dtype=np.bool_)
    # Position of the first usable entry at or after each row's start: a reverse running minimum.
    big = len(candidates.shelter)
    pos = np.where(ok, np.arange(big, dtype=np.int64), big)
    next_ok = np.minimum.accumulate(pos[::-1])[::-1] if big else pos
    first = np.full(len(rows), big, dtype=np.int64)
    inside = starts < big
    first[inside] = next_ok[starts[inside]]
    found = first < ends
    shelter = np.full(len(rows), NO_SHELTER, dtype=np.int64)
    walk = np.full(len(rows), math.inf, dtype=np.float64)
    shelter[found] = candidates.shelter[first[found]]
    walk[found] = candidates.metres[first[found]] / speed_mps
    return Reach(shelter, walk)


def recompute_after_change(candidates: Candidates, usable: BoolArray, speed_mps: float,
                           current: Reach, changed: Sequence[int]) -> tuple[Reach, IntArray]:
    """Reach after the shelters in `changed` flipped usability, touching only affected cells.

    A shelter that closed affects the cells it served; one that opened affects the cells that
    list it as a candidate. Returns the new reach and the indices of the cells looked at again.
    """
    if not changed:
        return current, np.zeros(0, dtype=np.int64)
    flipped = np.zeros(len(usable), dtype=np.bool_)
    flipped[np.asarray(changed, dtype=np.int64)] = True
    served = flipped[np.maximum(current.shelter, 0)] & (current.shelter != NO_SHELTER)
    listed = np.zeros(candidates.n_cells, dtype=np.bool_)
    opened = flipped & usable
    if opened.any() and len(candidates.shelter):
        listed[np.unique(candidates.cell_of_entry()[opened[candidates.shelter]])] = True
    cells: IntArray = np.flatnonzero(served | listed).astype(np.int64)
    partial = nearest_usable(candidates, usable, speed_mps, cells)
    shelter = current.shelter.copy()
    walk = current.walk_s.copy()
    shelter[cells] = partial.shelter
    walk[cells] = partial.walk_s
    return Reach(shelter, walk), cells


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number of people over cells in proportion to weights, summing exactly.

    Largest remainder (Hamilton): each cell gets the floor of its share, and the people left over
    go to the largest remainders (ties to the lower index), so the output total equals the input.
    Zero or no weights spread the total evenly.
    """
    if total < 0:
        raise ValueError("a population cannot be negative")
    n = len(weights)
    if n == 0:
        if total:
            raise ValueError("people to place but no cell to place them in")
        return []
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ValueError("weights must be finite and non-negative")
    mass = math.fsum(weights)
    shares = [total / n] * n if mass <= 0 else [total * w / mass for w in weights]
    floors = [math.floor(s) for s in shares]
    left = total - sum(floors)
    order = sorted(range(n), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


@dataclass(frozen=True, slots=True)
class DistrictFigures:
    """People in a district, and how many of them cannot reach a usable shelter in time."""

    population: float
    out_of_reach: float

    @property
    def share(self) -> float:
        return self.out_of_reach / self.population if self.population > 0 else 0.0


def out_of_reach(population: FloatArray, walk_s: FloatArray, warning_s: FloatArray) -> BoolArray:
    """Cells whose people cannot walk to a usable shelter within their warning time."""
    result: BoolArray = ~(walk_s <= warning_s)
    return result


def by_district(population: FloatArray, unreached: BoolArray, district: IntArray,
                names: Sequence[str]) -> dict[str, DistrictFigures]:
    """Population and population out of reach per district, in `names` order."""
    k = len(names)
    pop = np.bincount(district, weights=population, minlength=k)
    out = np.bincount(district, weights=np.where(unreached, population, 0.0), minlength=k)
    return {name: DistrictFigures(float(pop[i]), float(out[i])) for i, name in enumerate(names)}


def newly_out_of_reach(population: FloatArray, before: BoolArray, after: BoolArray) -> float:
    """People out of reach now who were within reach before (a door locked since)."""
    return float(population[after & ~before].sum())


def warning_per_cell(district: IntArray, warning_by_district: Mapping[int, int]) -> FloatArray:
    """The warning seconds of each cell, from its district's (overrides are per area)."""
    table = np.zeros(max(warning_by_district, default=-1) + 1, dtype=np.float64)
    for d, s in warning_by_district.items():
        table[d] = float(s)
    out: FloatArray = table[district]
    return out
