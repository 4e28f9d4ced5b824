"""Malformed CAP geometry is refused with the reason, by the API (422) and the CLI (exit 1)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shelterwatch.config import Settings

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cap" / "ua-kyiv-air-raid.xml"
GOOD = "<polygon>50.59,30.24 50.59,30.83 50.21,30.83 50.21,30.24 50.59,30.24</polygon>"
BAD = {
    "not numbers": "<polygon>1,2,3 abc</polygon>",
    "two points": "<polygon>50.59,30.24 50.21,30.83</polygon>",
    "nan circle": "<circle>NaN,30.5 10</circle>",
    "nan radius": "<circle>50.4,30.5 NaN</circle>",
    "off the globe": "<polygon>95,30.24 95,30.83 50.21,30.83 95,30.24</polygon>",
    "bare circle": "<circle>50.4,30.5</circle>",
}


def _variant(geometry: str) -> bytes:
    return FIXTURE.read_text().replace(GOOD, geometry).encode()


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_cap_geometry_is_a_422_naming_it(
        client: TestClient, make_token: Callable[..., str], name: str) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    r = client.post("/v1/alerts/cap", content=_variant(BAD[name]), headers=op)
    assert r.status_code == 422, (name, r.status_code, r.text)
    assert "polygon" in r.json()["detail"] or "circle" in r.json()["detail"]


def test_a_self_intersecting_polygon_still_starts_the_alert(
        client: TestClient, make_token: Callable[..., str]) -> None:
    op = {"Authorization": f"Bearer {make_token('operator')}"}
    bowtie = "<polygon>50.59,30.24 50.21,30.83 50.59,30.83 50.21,30.24 50.59,30.24</polygon>"
    r = client.post("/v1/alerts/cap", content=_variant(bowtie), headers=op)
    assert r.status_code == 200, r.text


@pytest.mark.slow  # runs the CLI as a process
def test_the_cli_refuses_malformed_geometry_in_one_line(settings: Settings,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(_variant(BAD["not numbers"]))
    result = subprocess.run([sys.executable, "-m", "shelterwatch.cli.main", "alerts", "cap",
                             str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "polygon" in result.stderr
