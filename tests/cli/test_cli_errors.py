"""The command line fails with one line and a non-zero exit, never a traceback or a quiet 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelterwatch.config import Settings
from tests.cli.test_cli import run


@pytest.mark.parametrize("text", [
    "[1, 2]",
    '"just a string"',
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": "POINT(1 2)",'
    ' "properties": {"name": "x"}}]}',
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [],'
    ' "geometry": {"type": "Point", "coordinates": ["a", "b"]}}]}',
])
def test_odd_geojson_is_rejected_with_a_reason_and_a_non_zero_exit(
        settings: Settings, tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.geojson"
    path.write_text(text)
    result = run("import", str(path), "--format", "geojson")
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "every row was rejected" in result.stderr or "error:" in result.stderr


def test_import_exits_non_zero_when_every_row_is_rejected(
        settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,lat,lon\nx,not-a-number,30.5\ny,95,30.5\n")
    result = run("import", str(path), "--format", "csv")
    assert result.returncode == 1
    assert "every row was rejected (2)" in result.stderr


def test_a_patrol_off_the_globe_is_refused(settings: Settings) -> None:
    result = run("patrols", "create", "--name", "Unit 9", "--lat", "95", "--lon", "30")
    assert result.returncode == 1
    assert "lat must be within ±90" in result.stderr


def test_log_verify_on_a_missing_sqlite_file_fails_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    result = run("log", "verify")
    assert result.returncode == 1
    assert "no database at" in result.stderr
    assert not missing.exists()


def test_simulating_a_night_nobody_defined_names_the_nights_there_are() -> None:
    result = run("simulate", "kyiv-2024-01-01")
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "unknown night 'kyiv-2024-01-01'" in result.stderr
    assert "kyiv-2023-06-01" in result.stderr
