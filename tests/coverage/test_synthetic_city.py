"""The coverage command on a synthetic city whose every walk is known by hand (see city.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shelterwatch.app import create_app
from shelterwatch.cli.main import app
from shelterwatch.config import Settings
from shelterwatch.coverage import figures
from shelterwatch.coverage import model as models
from shelterwatch.coverage.live import walk_params
from shelterwatch.rules.warning import WarningConfig
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import Threat
from tests.coverage import city

SPEED = 1.3
CRUISE_S = 600


@pytest.fixture
def synthetic(session: Session, settings: Settings) -> Session:
    city.install(session)
    session.commit()
    return session


def _shelter_ids(session: Session) -> dict[str, int]:
    return {str(sid): int(i) for sid, i in session.execute(
        select(Shelter.source_id, Shelter.id).where(Shelter.source == "synthetic")).all()}


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _cells(out: Path) -> dict[str, dict[str, object]]:
    data = json.loads((out / "cells.geojson").read_text())
    assert all(f["geometry"]["type"] == "Polygon" for f in data["features"])
    return {f["properties"]["h3"]: f["properties"] for f in data["features"]}


def _grid_cells(session: Session) -> list[str]:
    return list(models.grid_for(session, city.CITY).cells)


def test_walks_by_the_street_grid_are_the_hand_computed_ones(
        synthetic: Session, tmp_path: Path) -> None:
    osm = city.write_osm(tmp_path / "city.osm")
    pop_file, people = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    ids = _shelter_ids(synthetic)
    output = _run(["coverage", "--area", city.CITY, "--threat", "cruise", "--network", str(osm),
                   "--population", str(pop_file), "--out", str(tmp_path / "out")])
    cells = _cells(tmp_path / "out")
    assert set(cells) == set(people)
    expected_out = 0
    for cell, props in cells.items():
        walks = {s.source_id: city.walk_m(cell, s) / SPEED for s in city.SHELTERS}
        best = min(walks, key=lambda k: walks[k])
        # The nearest shelter (either of two at the same distance, where they tie).
        chosen = {v: k for k, v in ids.items()}[props["shelter_id"]]  # type: ignore[index]
        assert walks[chosen] == pytest.approx(walks[best], abs=1e-6), cell
        assert props["walk_s"] == pytest.approx(walks[best], abs=0.06), cell
        assert props["reachable"] is (walks[best] <= CRUISE_S)
        # Reduced mobility: only the step-free shelter counts, at 0.8 m/s, within 30 minutes.
        slow = city.walk_m(cell, city.SHELTERS[2]) / 0.8
        if slow <= 1800:
            assert props["reduced_mobility_shelter_id"] == ids["sw"]
            assert props["reduced_mobility_walk_s"] == pytest.approx(slow, abs=0.1)
        else:
            assert props["reduced_mobility_walk_s"] is None
            assert props["reduced_mobility_reachable"] is False
        expected_out += 0 if walks[best] <= CRUISE_S else people[cell]
    # 2SFCA by hand: each shelter's places over the people who reach it within 600 s, summed
    # over the shelters a cell reaches in time.
    walk = {(c, s.source_id): city.walk_m(c, s) / SPEED for c in cells for s in city.SHELTERS}
    demand = {s.source_id: sum(people[c] for c in cells if walk[c, s.source_id] <= CRUISE_S)
              for s in city.SHELTERS}
    places = {c: sum(s.capacity / demand[s.source_id] for s in city.SHELTERS
                     if walk[c, s.source_id] <= CRUISE_S) for c in cells}
    for cell, props in cells.items():
        assert props["places_per_person"] == pytest.approx(places[cell], abs=6e-5), cell
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["total"]["out_of_reach"] == expected_out
    assert summary["total"]["places_per_person"] == pytest.approx(
        sum(people[c] * places[c] for c in cells) / sum(people.values()), abs=1e-4)
    assert summary["total"]["population"] == sum(people.values())  # the 5,000 outside excluded
    assert summary["population_outside_area"] == 5000
    assert {d["id"] for d in summary["districts"]} == {city.WEST, city.EAST}
    assert summary["population_source"]["label"] == "people.csv"
    assert "street network of city.osm" in summary["reach"]["method"]
    share = expected_out / sum(people.values())
    assert output.strip().splitlines()[-1].startswith(f"out of reach (cruise, 600 s): "
                                                     f"{share * 100:.1f}%")
    assert (tmp_path / "out" / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_railway_makes_people_walk_round_by_the_crossing(
        synthetic: Session, tmp_path: Path) -> None:
    """A cell just east of the railway, opposite the west shelter, is not served across it."""
    osm = city.write_osm(tmp_path / "city.osm")
    pop, _ = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    common = ["coverage", "--area", city.CITY, "--threat", "drones", "--population", str(pop)]
    _run([*common, "--network", str(osm), "--out", str(tmp_path / "net")])
    _run([*common, "--out", str(tmp_path / "est")])
    by_net, by_estimate = _cells(tmp_path / "net"), _cells(tmp_path / "est")
    probe = h3.latlng_to_cell(city.LAT0 + 10 * city.STEP, city.LON0 + 11.3 * city.STEP, 9)
    assert by_net[probe]["walk_s"] > by_estimate[probe]["walk_s"]


def test_district_totals_spread_keep_every_person(synthetic: Session, tmp_path: Path) -> None:
    totals = tmp_path / "districts.csv"
    totals.write_text("district_id,population\nSYN-W,12345\nSYN-E,6789\n", encoding="utf-8")
    _run(["coverage", "--area", city.CITY, "--population", str(totals),
          "--population-date", "2024-01-01", "--out", str(tmp_path / "out")])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    by_id = {d["id"]: d for d in summary["districts"]}
    assert by_id["SYN-W"]["population"] == 12345 and by_id["SYN-E"]["population"] == 6789
    cells = _cells(tmp_path / "out")
    assert sum(int(c["population"]) for c in cells.values()) == 12345 + 6789  # type: ignore[call-overload]
    assert summary["population_source"]["coarse"] is True
    assert summary["population_source"]["date"] == "2024-01-01"


def test_closing_one_shelter_changes_exactly_the_cells_it_served(
        synthetic: Session, settings: Settings, tmp_path: Path) -> None:
    totals = tmp_path / "districts.csv"
    totals.write_text("district_id,population\nSYN-W,1000\nSYN-E,2000\n", encoding="utf-8")
    model = models.build(synthetic, area_id=city.CITY, config=WarningConfig(),
                         walk=walk_params(settings), population_file=totals)
    ids = _shelter_ids(synthetic)
    before_usable = model.usable({})
    before = model.reach(before_usable)
    after_usable = model.usable({ids["w"]: "locked_confirmed"})
    after = model.reach(after_usable)
    w = model.shelters.position()[ids["w"]]
    served = set((before[0].shelter == w).nonzero()[0].tolist())
    changed = set((before[0].shelter != after[0].shelter).nonzero()[0].tolist())
    assert served and changed == served
    ev_before = figures.evaluate(model, before_usable, before, Threat.DRONES)
    ev_after = figures.evaluate(model, after_usable, after, Threat.DRONES)
    newly = set((ev_after.unreached & ~ev_before.unreached).nonzero()[0].tolist())
    assert newly <= served


def test_an_unknown_area_is_a_one_line_error(synthetic: Session, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["coverage", "--area", "nowhere", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "area 'nowhere' does not exist" in result.output
    assert not (tmp_path / "summary.json").exists()


def test_sites_are_ranked_by_the_people_they_would_bring_within_reach(
        synthetic: Session, settings: Settings, tmp_path: Path,
        make_token: Callable[..., str]) -> None:
    """The west shelter is confirmed locked; a planner proposes a point in the empty south-east.
    Reopening the west shelter brings back exactly the people it served in time; the point
    brings in the people within 600 m (cruise: 600 s at 1.3 m/s, detour 1.3 → 600 m straight)."""
    ids = _shelter_ids(synthetic)
    synthetic.rollback()
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/checks", json={"shelter_id": ids["w"], "kind": "locked"},
                        headers={"Authorization": f"Bearer {make_token('patrol')}"})
        assert r.status_code == 201 and r.json()["status"] == "locked_confirmed", r.text
    pop_file, people = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    south_east = city.corner(0, 20)
    sites = tmp_path / "sites.csv"
    sites.write_text(f"name,lat,lon\nnew school basement,{south_east[0]},{south_east[1]}\n",
                     encoding="utf-8")
    common = ["coverage", "--area", city.CITY, "--threat", "cruise",
              "--population", str(pop_file)]
    _run([*common, "--candidates", str(sites), "--out", str(tmp_path / "out")])
    cells = _cells(tmp_path / "out")
    assert all(c["shelter_id"] != ids["w"] for c in cells.values())
    ranked = json.loads((tmp_path / "out" / "summary.json").read_text())["sites"]
    by_label = {s["label"]: s for s in ranked}
    unreached = {h for h, c in cells.items() if not c["reachable"]}
    near_point = {h for h in unreached if city.great_circle(
        *h3.cell_to_latlng(h), *south_east) <= 600}
    near_w = {h for h in unreached if city.great_circle(
        *h3.cell_to_latlng(h), city.SHELTERS[0].lat, city.SHELTERS[0].lon) * 1.3 / 1.3 <= 600}
    gain_point = sum(people[h] for h in near_point)
    gain_w = sum(people[h] for h in near_w)
    assert gain_point > 0 and gain_w > 0 and not near_point & near_w
    assert by_label["new school basement"]["marginal_gain"] == gain_point
    assert by_label[f"shelter {ids['w']}"]["marginal_gain"] == gain_w
    assert ranked[0]["marginal_gain"] == max(gain_point, gain_w)
    assert ranked[-1]["cumulative_gain"] == gain_point + gain_w


def test_reports_of_no_shelter_nearby_are_counted_on_the_grid(
        synthetic: Session, settings: Settings, tmp_path: Path) -> None:
    synthetic.rollback()
    lat, lon = city.corner(18, 2)
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            r = client.post("/open311/v2/requests.json", data={
                "service_code": "no_shelter_nearby", "lat": str(lat), "long": str(lon)})
            assert r.status_code in (200, 201), r.text
    totals = tmp_path / "districts.csv"
    totals.write_text("district_id,population\nSYN-W,1000\nSYN-E,2000\n", encoding="utf-8")
    _run(["coverage", "--area", city.CITY, "--population", str(totals),
          "--out", str(tmp_path / "out")])
    cells = _cells(tmp_path / "out")
    assert cells[h3.latlng_to_cell(round(lat, 3), round(lon, 3), 9)]["no_shelter_reports"] == 2
    assert sum(int(c["no_shelter_reports"]) for c in cells.values()) == 2  # type: ignore[call-overload]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {d["id"]: d["no_shelter_reports"] for d in summary["districts"]} == {
        city.WEST: 2, city.EAST: 0}


def test_the_same_inputs_give_the_same_files(synthetic: Session, tmp_path: Path) -> None:
    """Planning results are derived data: a second run reproduces them byte for byte."""
    osm = city.write_osm(tmp_path / "city.osm")
    pop, _ = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    common = ["coverage", "--area", city.CITY, "--population", str(pop), "--network", str(osm)]
    _run([*common, "--out", str(tmp_path / "a")])
    _run([*common, "--out", str(tmp_path / "b")])
    for name in ("cells.geojson", "cells.csv", "summary.json", "sites.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _gain_alone(people: dict[str, int], site: tuple[float, float],
                others: list[tuple[float, float]]) -> int:
    """People within the cruise walk (600 m straight at detour 1.3 and 1.3 m/s: 600 s) of
    `site` and of no other usable shelter: what the site alone brings within reach."""
    def near(h: str, p: tuple[float, float]) -> bool:
        return city.great_circle(*h3.cell_to_latlng(h), *p) <= 600
    return sum(n for h, n in people.items()
               if near(h, site) and not any(near(h, o) for o in others))


def test_a_door_found_locked_lately_is_a_site_to_fix_though_counted_open_now(
        synthetic: Session, settings: Settings, tmp_path: Path,
        make_token: Callable[..., str]) -> None:
    """The south-west door was found locked by a patrol and then opened: it counts as usable
    today, but it is `locked`-prone, so it is a site to fix, worth the people only it serves."""
    ids = _shelter_ids(synthetic)
    synthetic.rollback()
    patrol = {"Authorization": f"Bearer {make_token('patrol')}"}
    with TestClient(create_app(settings)) as client:
        for kind in ("locked", "open"):
            r = client.post("/v1/checks", json={"shelter_id": ids["sw"], "kind": kind},
                            headers=patrol)
            assert r.status_code == 201, r.text
        assert r.json()["status"] == "open_verified"
    pop_file, people = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    common = ["coverage", "--area", city.CITY, "--threat", "cruise", "--population",
              str(pop_file)]
    output = _run([*common, "--out", str(tmp_path / "out")])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (site,) = summary["sites"]
    sw, w, e = (city.SHELTERS[2], city.SHELTERS[0], city.SHELTERS[1])
    gain = _gain_alone(people, (sw.lat, sw.lon), [(w.lat, w.lon), (e.lat, e.lon)])
    assert (site["shelter_id"], site["reason"]) == (ids["sw"], "locked_prone:1")
    assert site["marginal_gain"] == site["cumulative_gain"] == gain > 0
    basis = summary["sites_basis"]
    assert basis["out_of_reach_without_registry_candidates"] == (
        summary["total"]["out_of_reach"] + gain)
    assert "where to add or fix" in output and f"shelter {ids['sw']}" in output
    assert output.strip().splitlines()[-1].startswith("out of reach (cruise, 600 s)")
    # A door found locked before the window is not held against it.
    _run([*common, "--locked-window-days", "0", "--out", str(tmp_path / "now")])
    assert json.loads((tmp_path / "now" / "summary.json").read_text())["sites"] == []


def test_shelters_rated_not_ready_are_sites_to_fix(
        synthetic: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The readiness audits' hook: whatever `not_ready_ids` names is ranked with its gain."""
    ids = _shelter_ids(synthetic)
    monkeypatch.setattr(models, "not_ready_ids", lambda session: frozenset({ids["e"]}))
    pop_file, people = city.population_csv(tmp_path / "people.csv", _grid_cells(synthetic))
    _run(["coverage", "--area", city.CITY, "--threat", "cruise", "--population", str(pop_file),
          "--out", str(tmp_path / "out")])
    (site,) = json.loads((tmp_path / "out" / "summary.json").read_text())["sites"]
    e, w, sw = city.SHELTERS[1], city.SHELTERS[0], city.SHELTERS[2]
    assert (site["shelter_id"], site["reason"]) == (ids["e"], "not_ready")
    assert site["marginal_gain"] == _gain_alone(people, (e.lat, e.lon),
                                                [(w.lat, w.lon), (sw.lat, sw.lon)])
    csv_head = (tmp_path / "out" / "sites.csv").read_text().splitlines()[0]
    assert csv_head.startswith("rank,label,shelter_id,reason,")
