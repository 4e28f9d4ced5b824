"""Audits ingested per minute with photos, and the campaign progress query at 65,000 shelters.

For each database (SQLite, and PostgreSQL when reachable) it makes a fresh database with the
bundled areas and 65,000 shelters spread over Kyiv's districts, and a campaign over all of them
split among 2,000 inspection groups (the size of the June 2023 inspection). Then:

* ingest: N full audits (38 answers, one fail with its photo of ~200 KB) sent to
  `POST /v1/audits` through the real app in-process (routing, validation, base64, the photo
  written and fsynced to disk, the audit, its deficiency, readiness and facts committed), one
  after another, as an inspection group's phones would sync; audits per minute printed.
  Goal (issue 12): >= 100/min on these 2 cores.
* progress: 62,912 campaign audits over nine days written straight into the table (9.3 % found
  closed, 23.6 % not ready, the 2023 shares), then `GET /v1/campaigns/{id}/progress` and
  `/backlog` asked three times each: first and best answer printed.

    .venv/bin/python bench/audits.py [--audits 200] [--shelters 65000] [--pg URL | --no-pg]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_DEFAULT, pg_database  # noqa: E402

from shelterwatch import bulk, db, migrate  # noqa: E402
from shelterwatch.app import create_app  # noqa: E402
from shelterwatch.areas import service as areas  # noqa: E402
from shelterwatch.areas.models import Area  # noqa: E402
from shelterwatch.audits import checklist as checklists  # noqa: E402
from shelterwatch.audits.models import Audit  # noqa: E402
from shelterwatch.auth import service as auth  # noqa: E402
from shelterwatch.clock import utcnow  # noqa: E402
from shelterwatch.config import Settings  # noqa: E402
from shelterwatch.rules.readiness import AnswerType, Tier  # noqa: E402
from shelterwatch.shelters.models import Shelter  # noqa: E402

GROUPS = 2000
CAMPAIGN_AUDITS = 62_912


def fill(url: str, shelters: int) -> list[str]:
    migrate.upgrade(url)
    with db.transaction(url) as s:
        areas.load_bundled(s, now=utcnow())
    with db.reading(url) as s:
        districts = sorted(s.execute(select(Area.id).where(Area.parent_id == "31")).scalars())
    now = utcnow()
    rng = random.Random(12)
    rows = [{"id": n, "source": "bench", "source_id": str(n), "name": f"Укриття {n}",
             "address": f"вул. Тестова, {n}", "lat": 50.35 + rng.random() * 0.2,
             "lon": 30.40 + rng.random() * 0.3, "area_id": districts[n % len(districts)],
             "kind": "simple", "capacity": 50 + n % 200, "step_free": None,
             "obligation": "24_7", "facilities": "[]", "details": "{}", "owner": None,
             "fingerprint": "", "created_at": now, "updated_at": now}
            for n in range(1, shelters + 1)]
    with db.transaction(url) as s:
        bulk.insert(s, db.table_of(Shelter), rows)
    return districts


def answers(failing: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in checklists.load().for_tier(Tier.FULL, "simple"):
        out[item.id] = 100_000 if item.answer is AnswerType.NUMBER else "pass"
    out[failing] = "fail"
    return out


def photo(n: int, size: int = 200_000) -> str:
    """A photo-sized body behind a JPEG signature: the server checks the type and stores bytes."""
    body = b"\xff\xd8\xff\xe0" + random.Random(n).randbytes(size - 4)
    return base64.b64encode(body).decode()


def campaign_audits(url: str, campaign_id: int, shelters: int) -> None:
    """The campaign's 62,912 audits over nine days, written straight into the table."""
    rng = random.Random(7)
    start = utcnow() - timedelta(days=9)
    rows = []
    for n in range(CAMPAIGN_AUDITS):
        sid = n * shelters // CAMPAIGN_AUDITS + 1
        closed = rng.random() < 0.093
        category = "not_ready" if closed or rng.random() < 0.2 else "ready"
        rows.append({"shelter_id": sid, "tier": "full", "actor": "auditor:1",
                     "checklist_version": "2025.1", "rule_version": "worst-of/1",
                     "answers": "{}", "category": category, "reasons": "[]",
                     "ghost_reason": None, "closed_on_arrival": closed, "lat": None,
                     "lon": None, "accuracy_m": 8.0, "gps_flagged": False,
                     "campaign_id": campaign_id, "source": "bench", "external_id": f"b{n}",
                     "note": None, "started_at": None,
                     "recorded_at": start + timedelta(seconds=n * 9 * 86400 // CAMPAIGN_AUDITS)})
    with db.transaction(url) as s:
        for i in range(0, len(rows), 5000):
            bulk.insert(s, db.table_of(Audit), rows[i:i + 5000])
    with db.engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def lane(name: str, url: str, tmp: Path, n_audits: int, shelters: int) -> None:
    began = time.perf_counter()
    fill(url, shelters)
    settings = Settings(database_url=url, log_key_path=str(tmp / "key.pem"),
                        photo_dir=str(tmp / f"photos-{name}"),
                        coverage_areas="")  # no coverage sweep beside the figures
    with db.transaction(url) as s:
        _, operator = auth.create(s, role="operator", name="bench", now=utcnow())
        _, auditor = auth.create(s, role="auditor", name="bench", now=utcnow())
    with TestClient(create_app(settings)) as client:
        made = client.post("/v1/campaigns", headers={"Authorization": f"Bearer {operator}"},
                           json={"name": "bench", "area_id": "31",
                                 "deadline": (utcnow() + timedelta(days=9)).isoformat(),
                                 "groups": [f"group {g}" for g in range(1, GROUPS + 1)]})
        assert made.status_code == 201, made.text
        campaign = made.json()["id"]
        print(f"{name}: {shelters:,} shelters and a campaign of {GROUPS:,} groups in "
              f"{time.perf_counter() - began:.0f} s")
        headers = {"Authorization": f"Bearer {auditor}"}
        bodies = [{"shelter_id": n * 7 % shelters + 1, "tier": "full",
                   "answers": answers("first_aid"), "campaign_id": campaign,
                   "lat": 50.45, "lon": 30.52, "accuracy_m": 6,
                   "photos": [{"item_id": "first_aid", "data": photo(n)}]}
                  for n in range(n_audits)]
        began = time.perf_counter()
        for n, body in enumerate(bodies):
            r = client.post("/v1/audits", json=body,
                            headers={**headers, "Idempotency-Key": f"bench-{n}"})
            assert r.status_code == 201, r.text[:300]
        took = time.perf_counter() - began
        print(f"  {name:>10}  ingest: {n_audits} audits with a ~200 KB photo each in "
              f"{took:.1f} s = {n_audits / took * 60:,.0f} audits/min (goal >= 100)")
        campaign_audits(url, campaign, shelters)
        for label, path in (("progress", f"/v1/campaigns/{campaign}/progress"),
                            ("backlog", f"/v1/campaigns/{campaign}/backlog")):
            times = []
            for _ in range(3):
                began = time.perf_counter()
                answer = client.get(path, headers=headers)
                times.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text[:200]
            print(f"  {name:>10}  {label} at {shelters:,} shelters, "
                  f"{CAMPAIGN_AUDITS + n_audits:,} audits: first {times[0]:.3f} s, "
                  f"best {min(times):.3f} s")
    db.dispose(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=200)
    parser.add_argument("--shelters", type=int, default=65_000)
    parser.add_argument("--pg", default=os.environ.get("SHELTERWATCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        lanes = [] if args.no_sqlite else [("sqlite", f"sqlite:///{Path(tmp) / 'a.sqlite3'}")]
        if not args.no_pg:
            try:
                lanes.append(("postgresql", pg_database(args.pg, "sw_bench_audits")))
            except Exception as exc:  # no server: say so and bench SQLite alone
                print(f"postgresql: skipped ({type(exc).__name__}: {exc})".splitlines()[0])
        for name, url in lanes:
            lane(name, url, Path(tmp), args.audits, args.shelters)


if __name__ == "__main__":
    main()
