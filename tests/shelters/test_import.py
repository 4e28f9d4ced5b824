"""Importing registries through the `shelterwatch import` command, as an operator would."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import osmium
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.areas.bundled import normalise_name
from shelterwatch.areas.models import Area
from shelterwatch.config import Settings
from shelterwatch.log.models import Fact
from shelterwatch.shelters.models import Shelter
from tests.support.kyiv import KYIV_CSV, KYIV_MAPPING

FIXTURES = Path(__file__).parent.parent / "fixtures" / "registry"
runner = CliRunner()


def shelterwatch(*args: str) -> tuple[int, str]:
    result = runner.invoke(__import__("shelterwatch.cli.main").cli.main.app, list(args))
    return result.exit_code, result.output


def import_kyiv(*extra: str) -> tuple[int, str]:
    return shelterwatch("import", str(KYIV_CSV), "--format", "csv", "--mapping",
                        str(KYIV_MAPPING), *extra)


def shelter_count(settings: Settings) -> int:
    with db.reading(settings.database_url) as s:
        return int(s.execute(select(func.count()).select_from(Shelter)).scalar_one())


def fact_count(settings: Settings) -> int:
    with db.reading(settings.database_url) as s:
        return int(s.execute(select(func.count()).select_from(Fact)).scalar_one())


def test_real_kyiv_registry_imports_with_the_source_counts_per_district(settings: Settings) -> None:
    code, out = import_kyiv()
    assert code == 0, out
    with KYIV_CSV.open(encoding="utf-8") as fh:
        expected = Counter(normalise_name(r["district"]) for r in csv.DictReader(fh))
    with db.reading(settings.database_url) as s:
        rows = s.execute(select(Area.name, func.count()).join(Shelter, Shelter.area_id == Area.id)
                         .group_by(Area.name)).all()
    got = {normalise_name(name).removesuffix(" район"): n for name, n in rows}
    assert got == dict(expected)
    assert sum(got.values()) == 3694
    assert "3694" in out


def test_reimporting_the_same_file_changes_nothing_and_says_so(settings: Settings) -> None:
    import_kyiv()
    facts_before = fact_count(settings)
    code, out = import_kyiv()
    assert code == 0
    assert "nothing changed" in out
    assert fact_count(settings) == facts_before
    assert shelter_count(settings) == 3694


def test_a_city_sized_import_stores_its_facts_exactly_as_they_were_hashed(
        settings: Settings) -> None:
    """Thousands of rows go in by COPY on PostgreSQL: what is stored must verify."""
    import_kyiv()
    code, out = shelterwatch("log", "verify")
    assert code == 0, out
    assert f"log intact: {fact_count(settings)} facts verified" in out, out


def test_a_changed_row_is_updated_and_logged(settings: Settings, tmp_path: Path) -> None:
    import_kyiv()
    text = KYIV_CSV.read_text(encoding="utf-8").replace("В наявності", "Відсутній", 1)
    changed = tmp_path / "kyiv.csv"
    changed.write_text(text, encoding="utf-8")
    facts_before = fact_count(settings)
    code, out = shelterwatch("import", str(changed), "--mapping", str(KYIV_MAPPING))
    assert code == 0, out
    assert fact_count(settings) == facts_before + 1
    with db.reading(settings.database_url) as s:
        kinds = s.execute(select(Fact.kind).order_by(Fact.seq.desc()).limit(1)).scalar_one()
    assert kinds == "shelter.updated"


def test_broken_rows_are_reported_by_line_and_reason_and_valid_rows_imported(
        settings: Settings) -> None:
    code, out = shelterwatch("import", str(FIXTURES / "kmda-broken.csv"),
                             "--mapping", str(KYIV_MAPPING))
    assert code == 0, out
    flat = " ".join(out.split())
    expected = {
        "line 5": "missing coordinate 'lat'",
        "line 6": "coordinate 'lon' out of range",
        "line 7": "point (52.229700, 21.012200) lies outside every known area",
        "line 8": "unreadable coordinate 'lat'",
        "line 9": "no kind for this row",
        "line 10": "unreadable step_free",
        "line 11": "fewer fields than the header",
    }
    for line, reason in expected.items():
        assert f"rejected {line}: {reason}" in flat, (line, flat)
    assert shelter_count(settings) == 3


def test_strict_import_with_a_rejected_row_imports_nothing(settings: Settings) -> None:
    facts_before = fact_count(settings)
    code, out = shelterwatch("import", str(FIXTURES / "kmda-broken.csv"),
                             "--mapping", str(KYIV_MAPPING), "--strict")
    assert code != 0
    assert "nothing imported" in " ".join(out.split())
    assert shelter_count(settings) == 0
    assert fact_count(settings) == facts_before


def test_geojson_properties_are_understood_without_a_mapping(settings: Settings) -> None:
    code, out = shelterwatch("import", str(FIXTURES / "shelters.geojson"), "--format", "geojson")
    assert code == 0, out
    flat = " ".join(out.split())
    assert "feature 3: coordinate 'lat' out of range" in flat
    assert "feature 4: geometry must be a Point" in flat
    assert "feature 5: unknown kind 'castle'" in flat
    with db.reading(settings.database_url) as s:
        lviv = s.execute(select(Shelter).where(Shelter.source_id == "lviv-1")).scalar_one()
        metro = s.execute(select(Shelter).where(Shelter.source_id == "kyiv-1")).scalar_one()
        assert (lviv.kind, lviv.capacity, lviv.step_free, lviv.area_id) == ("simple", 150, True,
                                                                             "27")
        assert metro.kind == "metro" and metro.area_id.startswith("UA80")  # a Kyiv district


@pytest.mark.parametrize("suffix", [".osm", ".osm.pbf"])
def test_openstreetmap_shelters_bunkers_and_metro_stations_are_imported(
        settings: Settings, tmp_path: Path, suffix: str) -> None:
    path = FIXTURES / "kyiv-sample.osm"
    if suffix == ".osm.pbf":
        path = tmp_path / "kyiv-sample.osm.pbf"
        with osmium.SimpleWriter(str(path)) as writer:
            for obj in osmium.FileProcessor(str(FIXTURES / "kyiv-sample.osm")):
                writer.add(obj)
    code, out = shelterwatch("import", str(path), "--format", "osm", "--source", "osm")
    assert code == 0, out
    with db.reading(settings.database_url) as s:
        got = {r.source_id: (r.kind, r.capacity, r.step_free)
               for r in s.execute(select(Shelter)).scalars()}
    assert got == {"node/1001": ("shelter", 200, True), "node/1002": ("metro", None, None),
                   "way/3001": ("shelter", None, None)}
    assert "node/1004: unreadable capacity" in " ".join(out.split())


def test_import_of_a_missing_file_fails_with_one_line(settings: Settings) -> None:
    code, out = shelterwatch("import", "/nonexistent/shelters.csv")
    assert code == 1
    assert "no such file" in out
