"""A server killed mid-burst loses no report it had answered 201 (DESIGN §3.1).

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from shelterwatch.config import Settings
from tests.reports.helpers import kyiv_shelter
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow


def test_every_acknowledged_report_survives_a_sigkill_mid_burst(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    shelters = [kyiv_shelter(kyiv_settings.database_url, i) for i in range(20)]
    server = live_server(SHELTERWATCH_REPORTS_PER_ADDRESS_PER_MINUTE="1000000")
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def fire(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            n = 0
            while not stop.is_set():
                n += 1
                shelter = shelters[(worker + n) % len(shelters)]
                try:
                    r = http.post("/v1/reports", json={
                        "shelter_id": shelter.id, "kind": "locked",
                        "device_id": f"burst-{worker:02d}-{n:05d}"})
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(r.json()["tracking_id"])

    threads = [threading.Thread(target=fire, args=(w,)) for w in range(12)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # SIGKILL while requests are in flight
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acknowledged) >= 150

    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        lost = [tid for tid in acknowledged if http.get(f"/v1/reports/{tid}").status_code != 200]
    assert lost == [], f"{len(lost)} of {len(acknowledged)} acknowledged reports were lost"
