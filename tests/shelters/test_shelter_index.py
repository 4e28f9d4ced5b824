"""The in-memory shelter index finds exactly the nearest shelters and follows the log."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.rules.geo import great_circle_m
from shelterwatch.shelters.index import IndexedShelter, ShelterIndex
from shelterwatch.vocabulary import Status


def shelter(sid: int, lat: float, lon: float, **kw: object) -> IndexedShelter:
    return IndexedShelter.from_public({"id": sid, "lat": lat, "lon": lon, "area_id": "31",
                                       "name": f"shelter {sid}", **kw})


def brute(points: list[IndexedShelter], lat: float, lon: float, k: int) -> list[float]:
    return sorted(great_circle_m(lat, lon, s.lat, s.lon) for s in points)[:k]


def national_set(n: int, seed: int = 7) -> list[IndexedShelter]:
    """Shelters clustered in towns across Ukraine's extent, plus scattered rural ones."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform([44.4, 22.2], [52.3, 40.2], size=(80, 2))
    weight = rng.pareto(1.2, 80) + 1
    weight /= weight.sum()
    picks = rng.choice(80, size=n, p=weight)
    pts = towns[picks] + rng.normal(0, 0.04, size=(n, 2))
    rural = rng.random(n) < 0.15
    pts[rural] = rng.uniform([44.4, 22.2], [52.3, 40.2], size=(int(rural.sum()), 2))
    return [shelter(i + 1, float(a), float(b)) for i, (a, b) in enumerate(pts)]


def test_nearest_equals_brute_force_on_a_national_size_set() -> None:
    points = national_set(20_000)
    index = ShelterIndex(points)
    rng = np.random.default_rng(3)
    for lat, lon in rng.uniform([44.0, 22.0], [52.5, 40.5], size=(150, 2)):
        got = [d for _, d in index.nearest(float(lat), float(lon), 12)]
        assert np.allclose(got, brute(points, float(lat), float(lon), 12), atol=1e-6)


@given(
    st.lists(st.tuples(st.floats(-85, 85), st.floats(-180, 180)), min_size=1, max_size=60),
    st.tuples(st.floats(-89, 89), st.floats(-180, 180)),
    st.integers(1, 15),
)
def test_nearest_equals_brute_force_anywhere_on_earth(
    coords: list[tuple[float, float]], query: tuple[float, float], k: int
) -> None:
    points = [shelter(i, a, b) for i, (a, b) in enumerate(coords)]
    got = [d for _, d in ShelterIndex(points).nearest(query[0], query[1], k)]
    want = brute(points, query[0], query[1], k)
    assert len(got) == len(want) == min(k, len(points))
    assert np.allclose(got, want, atol=1e-3)


def test_points_across_the_antimeridian_are_found() -> None:
    index = ShelterIndex([shelter(1, 65.0, -179.99), shelter(2, 65.0, 170.0)])
    [(nearest, d)] = index.nearest(65.0, 179.99, 1)
    assert nearest.id == 1 and d < 2000


def test_an_empty_registry_answers_nothing() -> None:
    assert ShelterIndex().nearest(50.45, 30.52, 3) == []


@dataclass
class FakeFact:
    """A fact row as the follower hands it over (seq, kind, payload JSON)."""

    seq: int
    kind: str
    payload: str


def fact(seq: int, kind: str, **payload: object) -> FakeFact:
    return FakeFact(seq, kind, orjson.dumps(payload).decode())


def test_imported_and_moved_shelters_show_in_the_next_answer() -> None:
    index = ShelterIndex([shelter(1, 50.45, 30.52)])
    index.apply([fact(1, "shelter.created", id=2, lat=50.4501, lon=30.5201, area_id="31",
                      name="new", step_free=True)])  # type: ignore[list-item]
    assert [s.id for s, _ in index.nearest(50.4501, 30.5201, 1)] == [2]
    index.apply([fact(2, "shelter.updated", id=2, lat=50.0, lon=30.0,  # type: ignore[list-item]
                      area_id="31", name="moved")])
    assert [s.id for s, _ in index.nearest(50.4501, 30.5201, 2)] == [1, 2]
    assert index.get(2) is not None and index.get(2).properties["name"] == "moved"


def test_status_facts_change_a_shelters_status_and_unknown_is_the_default() -> None:
    index = ShelterIndex([shelter(1, 50.45, 30.52)])
    assert index.status_of(1) is Status.UNKNOWN
    index.apply([fact(1, "status.changed", shelter_id=1,  # type: ignore[list-item]
                      status="locked_reported")])
    assert index.status_of(1) is Status.LOCKED_REPORTED
    index.apply([fact(2, "status.changed", shelter_id=1, status="bogus")])  # type: ignore[list-item]
    assert index.status_of(1) is Status.LOCKED_REPORTED


def test_public_properties_never_carry_the_owner() -> None:
    s = shelter(1, 50.45, 30.52, owner="ЖБК Академічний")
    assert "owner" not in s.feature(status="unknown")["properties"]
    assert math.isclose(s.feature()["geometry"]["coordinates"][1], 50.45)
