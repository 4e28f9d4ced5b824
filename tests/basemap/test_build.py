"""`shelterwatch basemap build` on a small extract: real osmium-tool, tilemaker and pmtiles."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shelterwatch.basemap.archive import Archive
from shelterwatch.cli.main import app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "basemap" / "khreshchatyk.osm"


def extract_pbf(tmp: Path) -> Path:
    """The fixture as the .osm.pbf a Geofabrik cut would be (osmium converts it)."""
    pbf = tmp / "khreshchatyk.osm.pbf"
    subprocess.run(["osmium", "cat", str(FIXTURE), "-o", str(pbf), "--overwrite"], check=True)
    return pbf


def build_fixture(tmp: Path) -> Path:
    out = tmp / "basemap"
    result = CliRunner().invoke(app, ["basemap", "build", str(extract_pbf(tmp)),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_an_extract_becomes_one_archive_of_street_tiles_a_style_and_a_gazetteer(
        tmp_path: Path) -> None:
    out = build_fixture(tmp_path)
    archive = Archive(out)
    try:
        assert (archive.min_zoom, archive.max_zoom) == (10, 14)
        z14 = [t for t in archive.tile_list if t[0] == 14]
        assert z14, "the streets are cut at zoom 14"
        raw = b"".join(gzip.decompress(archive.tile(*t) or b"") for t in z14)
        # The names of the streets and the house numbers are in the vector tiles.
        assert "вулиця Хрещатик".encode() in raw
        assert b"housenumber" in raw and b"roads" in raw and b"buildings" in raw
        assert archive.tile(14, 0, 0) is None  # far away: nothing, not an error
    finally:
        archive.close()
    gazetteer = json.loads((out / "gazetteer.json").read_text("utf-8"))
    chykalenka = next(s for s in gazetteer["streets"] if s["name"] == "вулиця Євгена Чикаленка")
    assert chykalenka["old"] == ["Пушкінська вулиця"]
    assert ["вулиця Євгена Чикаленка", "20", 50.4462, 30.5182] in gazetteer["addresses"]
    manifest = json.loads((out / "basemap.json").read_text("utf-8"))
    assert manifest["attribution"].startswith("© OpenStreetMap contributors")
    assert manifest["bbox"] == [30.515, 50.4425, 30.5262, 50.453]


def test_a_rebuild_replaces_the_basemap_and_a_failed_one_keeps_the_old(tmp_path: Path) -> None:
    out = build_fixture(tmp_path)
    before = (out / "city.pmtiles").read_bytes()
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" version="1" '
                     'lat="50.45" lon="30.52"/></osm>', encoding="utf-8")
    result = CliRunner().invoke(app, ["basemap", "build", str(empty), "--out", str(out)])
    assert result.exit_code == 1
    assert "no streets, buildings or water" in result.output
    assert (out / "city.pmtiles").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".basemap-")] == []


def test_without_tilemaker_the_build_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither osmium nor tilemaker on it
    result = CliRunner().invoke(app, ["basemap", "build", str(FIXTURE),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "osmium is not installed" in result.output
    assert "system-deps.sh" in result.output


def test_without_a_basemap_its_urls_say_how_to_build_one(client: Any) -> None:
    r = client.get("/basemap/index.json")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "shelterwatch basemap build" in r.json()["detail"]
    page = client.get("/").text
    assert '"basemap":null' in page  # the page draws the district outline and says so
