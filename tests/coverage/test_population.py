"""Every kind of population input lands on the grid with every person counted once, labelled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import h3
import numpy as np
import pytest

from shelterwatch.coverage import grid as grids
from shelterwatch.coverage import network, population
from tests.coverage import city


@pytest.fixture(scope="module")
def grid() -> grids.Grid:
    west_lon, east_lon = city.LON0 - city.STEP / 2, city.LON0 + (city.N - 1) * city.STEP
    return grids.build(city.CITY, [
        grids.District(city.WEST, "Захід", "West", city._rect(west_lon, city.MID_LON)),
        grids.District(city.EAST, "Схід", "East", city._rect(city.MID_LON, east_lon))])


def test_the_bundled_kyiv_totals_keep_every_person_and_say_whose_they_are() -> None:
    from shelterwatch.areas.bundled import records

    districts = [grids.District(r.id, r.name, r.name_en, r.geometry or {})
                 for r in records() if r.parent_id == "31"]
    kyiv = grids.build("31", districts)
    people = population.load(kyiv, None)
    assert people.per_cell.sum() == 2_967_360  # the city's published total, 1 Jan 2020
    solomianskyi = [i for i, d in enumerate(districts) if d.name_en.startswith("Solomianskyi")]
    assert people.per_cell[kyiv.district == solomianskyi[0]].sum() == 383_093
    assert people.source.date == "2020-01-01" and people.source.coarse
    assert people.source.label.startswith("Головне управління статистики у м. Києві")


def test_a_coarser_kontur_cell_is_split_evenly_into_its_children(
        grid: grids.Grid, tmp_path: Path) -> None:
    inside = grid.cells[len(grid) // 2]
    parent = h3.cell_to_parent(inside, 8)
    children = h3.cell_to_children(parent, 9)
    in_grid = [c for c in children if c in set(grid.cells)]
    path = tmp_path / "kontur.csv"
    path.write_text(f"h3,population\n{parent},700\n", encoding="utf-8")
    people = population.load(grid, path, date="2023-11-01")
    assert people.per_cell.sum() == pytest.approx(700 * len(in_grid) / 7)
    assert people.outside_area == pytest.approx(700 * (7 - len(in_grid)) / 7)
    assert people.source.date == "2023-11-01" and not people.source.coarse


def test_a_kontur_geopackage_is_read_from_its_feature_table(
        grid: grids.Grid, tmp_path: Path) -> None:
    path = tmp_path / "kontur_population_XX_20231101.gpkg"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT)")
        conn.execute("INSERT INTO gpkg_contents VALUES ('population', 'features')")
        conn.execute("CREATE TABLE population (fid INTEGER, h3 TEXT, population REAL)")
        conn.executemany("INSERT INTO population VALUES (?, ?, ?)",
                         [(i, c, 10.0 + i) for i, c in enumerate(grid.cells[:5])])
    people = population.load(grid, path)
    assert people.per_cell[:5].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert people.per_cell.sum() == 60.0
    assert "GeoPackage" in people.source.method


def test_a_worldpop_raster_puts_each_pixel_in_its_centres_cell(
        grid: grids.Grid, tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    size = 0.0005
    cols, rows = 60, 60  # 0.03° square: the city and a margin around it
    west, north = city.LON0 - 0.005, city.LAT0 + 0.025
    values = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols) % 7
    path = tmp_path / "worldpop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="float32", crs="EPSG:4326",
                       transform=Affine(size, 0, west, 0, -size, north)) as dst:
        dst.write(values, 1)
    people = population.load(grid, path, label="WorldPop 2020 (constrained)", date="2020")
    position = grid.position()
    expected_in = 0.0
    for r in range(rows):
        for c in range(cols):
            lat, lon = north - (r + 0.5) * size, west + (c + 0.5) * size
            if h3.latlng_to_cell(lat, lon, 9) in position:
                expected_in += float(values[r, c])
    assert people.per_cell.sum() == pytest.approx(expected_in)
    assert people.per_cell.sum() + people.outside_area == pytest.approx(float(values.sum()))
    assert people.source.label == "WorldPop 2020 (constrained)"


def test_buildings_residents_go_to_their_cells(grid: grids.Grid, tmp_path: Path) -> None:
    lat, lon = city.corner(5, 5)
    path = tmp_path / "buildings.csv"
    path.write_text(f"lat,lon,population\n{lat},{lon},120\n{lat},{lon},30\n50.0,30.0,999\n",
                    encoding="utf-8")
    people = population.load(grid, path)
    cell = grid.position()[h3.latlng_to_cell(lat, lon, 9)]
    assert people.per_cell[cell] == 150 and people.per_cell.sum() == 150
    assert people.outside_area == 999


def test_osm_buildings_weigh_the_district_spread(grid: grids.Grid, tmp_path: Path) -> None:
    """Two buildings in the west (1 and 3 storeys): the west's 1,000 people go 250 / 750."""
    osm = city.write_osm(tmp_path / "city.osm")
    text = osm.read_text(encoding="utf-8").replace("</osm>", "")
    spots = [(city.corner(3, 3), 1), (city.corner(15, 5), 3)]
    for k, ((lat, lon), levels) in enumerate(spots):
        base = 900_000 + 10 * k
        text += "".join(f'<node id="{base + j}" version="1" lat="{lat + dy:.7f}" '
                        f'lon="{lon + dx:.7f}"/>'
                        for j, (dy, dx) in enumerate([(0, 0), (0.0001, 0), (0.0001, 0.0001)]))
        text += (f'<way id="{800_000 + k}" version="1"><nd ref="{base}"/><nd ref="{base + 1}"/>'
                 f'<nd ref="{base + 2}"/><nd ref="{base}"/><tag k="building" v="yes"/>'
                 f'<tag k="building:levels" v="{levels}"/></way>')
    osm.write_text(text + "</osm>", encoding="utf-8")
    net = network.read(osm)
    assert len(net.buildings) == 2
    totals = tmp_path / "totals.csv"
    totals.write_text("district_id,population\nSYN-W,1000\nSYN-E,10\n", encoding="utf-8")
    people = population.load(grid, totals, buildings=net.buildings, buildings_source="city.osm")
    position = grid.position()
    first = position[h3.latlng_to_cell(*city.corner(3, 3), 9)]
    second = position[h3.latlng_to_cell(*city.corner(15, 5), 9)]
    assert (people.per_cell[first], people.per_cell[second]) == (250, 750)
    assert people.per_cell.sum() == 1010  # the east has no buildings: spread evenly
    assert "OSM buildings" in people.source.method


@pytest.mark.parametrize(("body", "reason"), [
    ("h3,population\nnot-a-cell,5\n", "is not an H3 cell"),
    ("h3,population\n891e6385923ffff,-3\n", "is negative"),
    ("district_id,population\nSYN-W,5\n", "no population for district SYN-E"),
    ("district_id,people\nSYN-W,5\n", "no population column"),
])
def test_bad_population_files_are_refused_with_the_reason(
        grid: grids.Grid, tmp_path: Path, body: str, reason: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=reason):
        population.load(grid, path)
