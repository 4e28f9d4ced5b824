"""Latency of every accountability dashboard view at 5,000 shelters × 1,000 alerts.

For each database (SQLite, and PostgreSQL when reachable) it makes a fresh database with the
bundled areas and fills the rollups the worker keeps with 5,000 shelters in Kyiv's districts
(200 owners) under 1,000 one-hour alerts spread over a year: 5,000,000 (shelter, alert) rows,
70 % of them verified open at some second of the first half hour, and a locked-door case on 1 %.
The rows are written straight into the rollup tables, the daily ones summed from the pairs
(generating 5 M pairs through the services would bench the writer, not the dashboard). Then
each view is asked through the real app (the ASGI app in-process, so routing, SQL and
rendering count, the network does not) three times;
the first and the best answer times are printed. Goal (issue 13): ≤ 2 s each, on 2 cores.

    .venv/bin/python bench/stats.py [--shelters 5000] [--alerts 1000] [--pg URL | --no-pg]
                                    [--no-sqlite]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_DEFAULT, pg_database  # noqa: E402

from shelterwatch import db, migrate  # noqa: E402
from shelterwatch.app import create_app  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.areas.models import Area  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.config import Settings  # noqa: E402

OWNERS = 200


def fill(url: str, shelters: int, alerts: int) -> tuple[list[str], float]:
    """The rollups of a year; returns Kyiv's district ids and the seconds it took."""
    began = time.perf_counter()
    migrate.upgrade(url)
    with db.transaction(url) as s:
        areas.load_bundled(s, now=utcnow())
    with db.reading(url) as s:
        districts = sorted(s.execute(select(Area.id).where(Area.parent_id == "31")).scalars())
    year_ago = utcnow().replace(microsecond=0) - timedelta(days=365)
    step = timedelta(days=365) / alerts
    indexes = ("ix_stats_pairs_started_at", "ix_stats_pairs_shelter_id_started_at",
               "ix_stats_pairs_owner_id_started_at", "ix_stats_pairs_ended_at")
    with db.transaction(url) as s:  # built after the rows: far quicker than row by row
        for name in indexes:
            s.execute(text(f"DROP INDEX {name}"))
    with db.transaction(url) as s:
        s.execute(text("CREATE TABLE bench_alerts (id INTEGER PRIMARY KEY, "
                       "started_at TIMESTAMP, ended_at TIMESTAMP)"))
        s.execute(text("INSERT INTO stats_shelters (shelter_id, area_id, owner_id) "
                       "VALUES (:s, :a, :o)"),
                  [{"s": n, "a": districts[n % len(districts)], "o": n % OWNERS + 1}
                   for n in range(1, shelters + 1)])

        def stamp(at: datetime) -> object:
            return at.strftime("%Y-%m-%d %H:%M:%S.000000") if db.is_sqlite(url) else at

        s.execute(text("INSERT INTO bench_alerts VALUES (:i, :b, :e)"),
                  [{"i": n, "b": stamp(year_ago + step * n),
                    "e": stamp(year_ago + step * n + timedelta(hours=1))}
                   for n in range(1, alerts + 1)])
        s.execute(text(
            "INSERT INTO stats_pairs (alert_id, shelter_id, area_id, owner_id, started_at, "
            "ended_at, open_after_s, open_by, check_in_after_s, full_reports, unfit_reports, "
            "missing_reports) SELECT a.id, s.shelter_id, s.area_id, s.owner_id, a.started_at, "
            "a.ended_at, CASE WHEN (a.id * 31 + s.shelter_id * 17) % 10 < 7 "
            "THEN (a.id * 7 + s.shelter_id * 13) % 1800 END, 'keyholder', "
            "CASE WHEN (a.id * 31 + s.shelter_id * 17) % 10 < 5 "
            "THEN (a.id * 7 + s.shelter_id * 13) % 1800 END, 0, "
            "CASE WHEN (a.id + s.shelter_id) % 997 = 0 THEN 1 ELSE 0 END, 0 "
            "FROM bench_alerts a CROSS JOIN stats_shelters s"))
        s.execute(text(
            "INSERT INTO stats_cases (incident_id, tracking_id, shelter_id, area_id, owner_id, "
            "alert_id, created_at, door_open_at, closed_at, resolution) "
            "SELECT a.id * 100000 + s.shelter_id, 'KV-' || a.id || '-' || s.shelter_id, "
            "s.shelter_id, s.area_id, s.owner_id, a.id, a.started_at, a.ended_at, a.ended_at, "
            "'opened_by_keyholder' FROM bench_alerts a CROSS JOIN stats_shelters s "
            "WHERE (a.id * 31 + s.shelter_id * 17) % 100 = 3"))
        s.execute(text("DROP TABLE bench_alerts"))
        # … and the daily rollups the worker keeps beside them, summed from those pairs.
        day = ("substr(started_at, 1, 10)" if db.is_sqlite(url)
               else "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
        s.execute(text(
            f"INSERT INTO stats_daily (day, area_id, owner_id, pairs, open_5, open_during, "
            f"check_ins, alert_s, open_s, check_in_s, full_reports, unfit_reports, "
            f"missing_reports) SELECT {day}, area_id, owner_id, count(*), "
            f"sum(CASE WHEN open_after_s <= 300 THEN 1 ELSE 0 END), count(open_after_s), "
            f"count(check_in_after_s), 3600 * count(*), coalesce(sum(open_after_s), 0), "
            f"coalesce(sum(check_in_after_s), 0), sum(full_reports), "
            f"sum(unfit_reports), sum(missing_reports) FROM stats_pairs "
            f"GROUP BY {day}, area_id, owner_id"))
        for area, group in (("area_id", ", area_id"), ("'*'", "")):
            s.execute(text(
                f"INSERT INTO stats_open_times (day, area_id, bucket_s, n) "
                f"SELECT {day}, {area}, open_after_s / 10 * 10, count(*) FROM stats_pairs "
                f"WHERE open_after_s IS NOT NULL GROUP BY {day}{group}, open_after_s / 10 * 10"))
    with db.transaction(url) as s:
        s.execute(text("CREATE INDEX ix_stats_pairs_started_at ON stats_pairs (started_at)"))
        s.execute(text("CREATE INDEX ix_stats_pairs_shelter_id_started_at "
                       "ON stats_pairs (shelter_id, started_at)"))
        s.execute(text("CREATE INDEX ix_stats_pairs_owner_id_started_at "
                       "ON stats_pairs (owner_id, started_at)"))
        s.execute(text("CREATE INDEX ix_stats_pairs_ended_at ON stats_pairs (ended_at)"))
    with db.engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return districts, time.perf_counter() - began


def views(districts: list[str]) -> list[tuple[str, str]]:
    district = districts[0]
    return [
        ("city, all time (JSON)", "/v1/stats"),
        ("city, 30 days (JSON)", "/v1/stats?days=30"),
        ("city, a date range (JSON)", "/v1/stats?from=2026-01-01T00:00:00Z"
                                      "&to=2026-04-01T00:00:00Z"),
        ("district (JSON)", f"/v1/stats?area={district}"),
        ("owner (JSON)", "/v1/stats?owner=7"),
        ("figures (CSV)", "/v1/stats.csv"),
        ("cases (CSV)", "/v1/stats/cases.csv"),
        ("/stats page", "/stats"),
        ("/stats/areas/{id} page", f"/stats/areas/{district}"),
        ("/stats/owners/{id} page", "/stats/owners/7"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shelters", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--pg", default=os.environ.get("SHELTERWATCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lanes = [] if args.no_sqlite else [("sqlite", f"sqlite:///{Path(tmp) / 'stats.sqlite3'}")]
        if not args.no_pg:
            try:
                lanes.append(("postgresql", pg_database(args.pg, "sw_bench_stats")))
            except Exception as exc:  # no server: say so and bench SQLite alone
                print(f"postgresql: skipped ({type(exc).__name__}: {exc})".splitlines()[0])
        pairs = args.shelters * args.alerts
        print(f"{args.shelters:,} shelters × {args.alerts:,} alerts = {pairs:,} pairs, "
              f"{os.cpu_count()} CPUs; seconds per answer, first and best of 3 (goal ≤ 2 s)")
        for name, url in lanes:
            districts, took = fill(url, args.shelters, args.alerts)
            print(f"{name}: rollups filled in {took:.0f} s")
            settings = Settings(database_url=url, log_key_path=str(Path(tmp) / "key.pem"))
            with TestClient(create_app(settings)) as client:
                for label, path in views(districts):
                    times = []
                    for _ in range(3):
                        began = time.perf_counter()
                        answer = client.get(path)
                        times.append(time.perf_counter() - began)
                        assert answer.status_code == 200, (path, answer.text[:200])
                    print(f"  {name:>10}  {label:<28} first {times[0]:6.2f}  "
                          f"best {min(times):6.2f}")
            db.dispose(url)


if __name__ == "__main__":
    main()
