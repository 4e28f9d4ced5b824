"""Reports written together in one transaction behave exactly as if each had come alone.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.errors import InvalidInput
from shelterwatch.incidents.models import Incident
from shelterwatch.intake import core
from shelterwatch.intake import service as intake
from shelterwatch.intake.core import Intake
from shelterwatch.vocabulary import ObservationKind, Role
from tests.incidents.test_rebuild import _tables
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.server import LiveServer


def _resident(shelter_id: int, device: str, kind: ObservationKind = ObservationKind.LOCKED,
              lat: float | None = None, lon: float | None = None) -> core.Item:
    return core.Item(shelter_id=shelter_id, kind=kind, role=Role.RESIDENT, reporter=device,
                      actor="resident", lat=lat, lon=lon, private={"device_id": device})


def test_one_batch_opens_one_case_counts_me_too_and_keeps_a_bad_report_to_itself(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    door, other = kyiv_shelter(url, 0), kyiv_shelter(url, 1)
    operator = token(url, "operator")
    r = kyiv_client.post("/v1/alerts", json={"area_id": "31"}, headers=bearer(operator))
    assert r.status_code == 201, r.text
    items = [_resident(door.id, f"d:{n}", lat=door.lat, lon=door.lon) for n in range(3)]
    items.insert(1, _resident(99_999_999, "d:lost"))  # no such shelter
    items.append(core.Item(shelter_id=door.id, kind=ObservationKind.OPEN, role=Role.PATROL,
                            reporter="patrol-7", actor="patrol-7"))
    items.append(_resident(other.id, "d:9", kind=ObservationKind.OPEN))
    with db.transaction(url) as session:
        results = intake.submit_many(session, items, now=utcnow(), tracking_prefix="KV")

    assert isinstance(results[1], InvalidInput) and "99999999" in results[1].detail
    done = [r for r in results if isinstance(r, Intake)]
    assert [r.decision.action.value for r in done] == ["open", "join", "join", "resolve",
                                                       "record"]
    with db.reading(url) as s:
        case = s.execute(select(Incident.me_too, Incident.resolution, Incident.tracking_id)
                         .where(Incident.shelter_id == door.id)).one()
    assert tuple(case) == (2, "found_open", done[0].observation.id)
    receipt = kyiv_client.get(f"/v1/reports/{done[2].observation.id}").json()
    assert receipt["incident"]["tracking_id"] == case.tracking_id

    live = _tables(url)
    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    assert _tables(url) == live


@pytest.mark.slow
def test_concurrent_residents_all_get_receipts_and_a_retried_key_gets_the_first_one(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    url = kyiv_settings.database_url
    shelters = [kyiv_shelter(url, i) for i in range(3)]
    server = live_server(SHELTERWATCH_REPORTS_PER_ADDRESS_PER_MINUTE="1000000")
    answers: dict[tuple[int, int], httpx.Response] = {}
    lock = threading.Lock()

    def fire(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n in range(15):
                body = {"shelter_id": shelters[(worker + n) % 3].id, "kind": "locked",
                        "device_id": f"crowd-{worker:02d}-{n:03d}"}
                # every worker sends its 5th report under one shared key: one must win
                key = "shared-key" if n == 4 else f"k-{worker}-{n}"
                if n == 4:
                    body = {"shelter_id": shelters[0].id, "kind": "open"}
                r = http.post("/v1/reports", json=body, headers={"Idempotency-Key": key})
                with lock:
                    answers[(worker, n)] = r

    threads = [threading.Thread(target=fire, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert all(r.status_code == 201 for r in answers.values()), [
        r.text for r in answers.values() if r.status_code != 201][:3]
    shared = {answers[(w, 4)].json()["tracking_id"] for w in range(8)}
    assert len(shared) == 1
    ids = {r.json()["tracking_id"] for r in answers.values()}
    assert len(ids) == 8 * 14 + 1
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert all(http.get(f"/v1/reports/{tid}").status_code == 200 for tid in ids)
    outcome = CliRunner().invoke(cli, ["log", "verify"])
    assert outcome.exit_code == 0, outcome.output
