"""Coverage of Kyiv (issue 14): the full computation and the recompute after one shelter closes.

Goals: the whole city (~8,000 resolution-9 cells, 3,694 shelters, bundled district totals,
straight line × detour) in ≤ 60 s; the live recompute after a shelter turns `locked_confirmed`
(only its cells, then every threat's summary and its ranked sites to fix) in ≤ 1 s.

Sites: the Kyiv registry has no history of locked doors here, so `--locked-prone N` (200, about
the closed shelters reported in Kyiv's first two days of June 2023) shelters drawn with a fixed
seed stand for the locked-prone doors; the top 10 are ranked per threat.

Run: .venv/bin/python bench/coverage.py [--repeat 3] [--closures 20] [--locked-prone 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import kyiv_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--closures", type=int, default=20)
    parser.add_argument("--locked-prone", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        run(args.repeat, args.closures, args.locked_prone, Path(tmp))


def run(repeat: int, closures: int, prone: int, tmp: Path) -> None:
    import numpy as np

    from shelterwatch import db
    from shelterwatch.alerts import service as alerts
    from shelterwatch.clock import utcnow
    from shelterwatch.config import get_settings
    from shelterwatch.coverage import figures, outputs, sites
    from shelterwatch.coverage import model as models
    from shelterwatch.coverage.live import AreaCoverage, walk_params
    from shelterwatch.vocabulary import Status, Threat

    settings = get_settings()
    url = settings.database_url
    kyiv_database(url)
    config, walk = alerts.warning_config(settings), walk_params(settings)

    full: list[float] = []
    model = None
    for _ in range(repeat):
        started = time.perf_counter()
        with db.reading(url) as session:
            model = models.build(session, area_id="31", config=config, walk=walk)
            statuses = models.current_statuses(session)
            read = sites.read_hints(session, now=utcnow(), window_days=30)
        usable = model.usable(statuses)
        reach = model.reach(usable)
        picked = np.random.default_rng(14).choice(model.shelters.ids, prone, replace=False)
        hints = sites.Hints({int(i): 2 for i in picked} | dict(read.locked_prone),
                            read.not_ready, read.window_days)
        sums = {t: {**figures.summary(model, usable, figures.evaluate(model, usable, reach, t)),
                    **sites.ranked(model, statuses, usable, t, hints, 10)} for t in Threat}
        full.append(time.perf_counter() - started)
    assert model is not None
    started = time.perf_counter()
    sites.ranked(model, statuses, usable, Threat.BALLISTIC, hints, 10)
    sites_s = time.perf_counter() - started
    started = time.perf_counter()
    ev = figures.evaluate(model, usable, reach, Threat.BALLISTIC)
    outputs.write_all(tmp / "out", model, sums[Threat.BALLISTIC],
                      list(figures.features(model, ev)), sums[Threat.BALLISTIC]["sites"])
    files_s = time.perf_counter() - started
    entries = len(model.normal.shelter)
    print(f"Kyiv grid: {len(model.grid)} cells (H3 res 9), {len(model.shelters)} shelters, "
          f"{entries:,} cell-shelter pairs within {walk.horizon_s:.0f} s")
    print(f"full computation (grid, people, walks, reach, 5 threats' summaries and sites): "
          f"median {statistics.median(full):.2f} s, runs {', '.join(f'{x:.2f}' for x in full)} "
          f"(goal <= 60 s) {'ok' if max(full) <= 60 else 'MISSED'}")
    print(f"ranking {prone} locked-prone doors, top 10, one threat: {sites_s * 1000:.0f} ms")
    print(f"writing cells.geojson, cells.csv, summary.json and map.png: {files_s:.2f} s")

    everyone = np.ones(len(model.shelters), dtype=bool)
    baseline = {t: figures.evaluate(model, everyone, model.reach(everyone), t) for t in Threat}
    state = AreaCoverage(model, dict(statuses), frozenset(), usable, reach, baseline, hints, 10)
    state.refresh()
    served = np.bincount(reach[0].shelter[reach[0].shelter >= 0],
                         minlength=len(model.shelters))
    busiest = np.argsort(-served, kind="stable")[:closures]
    times, cells = [], []
    for i in busiest.tolist():
        sid = int(model.shelters.ids[i])
        flipped = state.apply_statuses({sid: Status.LOCKED_CONFIRMED.value}, at="", seq=1)
        assert flipped == [i]
        times.append(state.last_recompute_s or 0.0)
        cells.append(state.changes[0]["cells_recomputed"])
        state.apply_statuses({sid: Status.OPEN_VERIFIED.value}, at="", seq=2)
    print(f"recompute after one shelter turns locked_confirmed ({closures} busiest shelters, "
          f"{min(cells)}–{max(cells)} cells each, then 5 threats' summaries and sites): "
          f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(goal <= 1 s) {'ok' if max(times) <= 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
