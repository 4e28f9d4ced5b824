"""rank.js (the phone's offline ranking) orders any scene as rules/ranking.py does, run in Node.

The browser cross-check (test_rank_agrees) compares the two on the bundled registry at a few
points; this one throws several hundred random scenes at both: every status, step-free or not,
capacities, audits, with and without an alert's warning time.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import shelterwatch
from shelterwatch.rules.geo import great_circle_m
from shelterwatch.rules.ranking import FAILS, STATUS_CLASS, Candidate, WalkingModel, rank
from shelterwatch.vocabulary import Status

STATIC = Path(shelterwatch.__file__).parent / "web" / "static"
NODE = shutil.which("node")
MODEL = WalkingModel()
POOL = 12
RUN = """
const fs = require("fs");
eval(fs.readFileSync(process.argv[2], "utf8") + ";global.Rank = Rank;");
const {scenes, config} = JSON.parse(fs.readFileSync(0, "utf8"));
console.log(JSON.stringify(scenes.map((s) => {
  const statuses = new Map(s.shelters.map((x) => [x.id, x.status]));
  return Rank.rank(s.shelters, s.lat, s.lon, {...config, statusOf: (id) => statuses.get(id),
    stepFree: s.stepFree, warningS: s.warningS, limit: s.limit}).map((r) => r.shelter.id);
})));
"""
READINESS = [None, {"category": "ready"}, {"category": "limited"}, {"category": "not_ready"}]


def scene(rng: random.Random) -> dict[str, Any]:
    lat, lon = 50.45 + rng.uniform(-0.1, 0.1), 30.52 + rng.uniform(-0.1, 0.1)
    spread = rng.choice([0.001, 0.003, 0.01, 0.03])  # doors metres to kilometres apart
    shelters = [{"id": i + 1, "lat": lat + rng.uniform(-spread, spread),
                 "lon": lon + rng.uniform(-spread, spread),
                 "status": rng.choice(list(Status)).value,
                 "step_free": rng.choice([True, False, None]),
                 "capacity": rng.choice([None, 0, 50, 200]),
                 "readiness": rng.choice(READINESS)} for i in range(rng.randint(1, 30))]
    return {"lat": lat, "lon": lon, "shelters": shelters, "stepFree": rng.random() < 0.3,
            "warningS": rng.choice([None, 60, 120, 600]), "limit": rng.randint(1, 6)}


def python_rank(s: dict[str, Any]) -> list[int]:
    """What the server does: the nearest pool by great-circle distance, ranked by the rule."""
    wanted = max(s["limit"], 3)
    size = max(POOL, wanted * 2) * (3 if s["stepFree"] else 1)
    hits = sorted((great_circle_m(s["lat"], s["lon"], x["lat"], x["lon"]), x["id"], x)
                  for x in s["shelters"])[:size]
    candidates = [Candidate(x["id"], d, Status(x["status"]), x["step_free"], x["capacity"],
                            None, x["readiness"]) for d, _, x in hits]
    return [r.shelter_id for r in rank(candidates, model=MODEL, limit=s["limit"],
                                       step_free=s["stepFree"], warning_s=s["warningS"])]


def test_rank_js_orders_random_scenes_as_the_server_rule_does(tmp_path: Path) -> None:
    if NODE is None:
        pytest.skip("node is not installed (make test installs it with npm)")
    rng = random.Random(20230601)
    scenes = [scene(rng) for _ in range(600)]
    config = {"walk": {"speed": MODEL.speed_mps, "reducedSpeed": MODEL.reduced_mobility_speed_mps,
                       "detour": MODEL.detour_factor}, "pool": POOL,
              "statusClass": {s.value: c for s, c in STATUS_CLASS.items()},
              "fails": {s.value: p for s, p in FAILS.items()}}
    (tmp_path / "run.js").write_text(RUN, "utf-8")
    done = subprocess.run([NODE, str(tmp_path / "run.js"), str(STATIC / "rank.js")],
                          input=json.dumps({"scenes": scenes, "config": config}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    phone = json.loads(done.stdout)
    differ = [i for i, (s, got) in enumerate(zip(scenes, phone, strict=True))
              if got != python_rank(s)]
    assert not differ, f"{len(differ)} of {len(scenes)} scenes differ, first {differ[:5]}"
