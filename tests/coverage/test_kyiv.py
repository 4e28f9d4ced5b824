"""The command on the real Kyiv registry with the bundled district totals (README's figures)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from shelterwatch.cli.main import app
from shelterwatch.config import Settings

DISTRICTS = ("Holosiivskyi", "Darnytskyi", "Desnianskyi", "Dniprovskyi", "Obolonskyi",
             "Pecherskyi", "Podilskyi", "Sviatoshynskyi", "Solomianskyi", "Shevchenkivskyi")


def test_kyiv_shares_out_of_reach_per_threat_and_district(
        kyiv_settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["coverage", "--area", "31", "--threat", "ballistic",
                                      "--out", str(tmp_path)], terminal_width=120)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    header = next(line for line in lines if "district" in line and "people" in line)
    assert all(t in header for t in ("ballistic", "cruise", "drones", "aviation"))
    for name in DISTRICTS:
        row = next(line for line in lines if f" {name} " in line)
        assert len(re.findall(r"\d+\.\d%", row)) == 4, row
    assert re.fullmatch(r"out of reach \(ballistic, 120 s\): \d+\.\d% of 2,967,360 people "
                        r"\([\d,]+\)", lines[-1]), lines[-1]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["total"]["population"] == 2_967_360
    assert len(summary["districts"]) == 10
    assert summary["shelters"]["considered"] >= 3_600
    assert summary["population_source"]["date"] == "2020-01-01"
    assert 7_000 < summary["grid"]["cells"] < 9_000
