"""Reads that may lag go to the replica; a resident's own receipt never does.

The standby's replay is paused (`pg_wal_replay_pause`), so it is stale for certain: commits still
succeed, since a synchronous standby acknowledges what it has on disk, applied or not.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import get_settings
from shelterwatch.worker.pack import PackPublisher
from tests.replication.conftest import prepare_on
from tests.support.databases import postgres_admin_url
from tests.support.replication import (
    ReplicatedPostgres,
    missing_tools,
    replicated_postgres,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(postgres_admin_url() is None,
                                 reason="PostgreSQL lane only (set SHELTERWATCH_PG)"),
              pytest.mark.skipif(missing_tools() is not None, reason=missing_tools() or "")]


@pytest.fixture
def pair() -> Iterator[ReplicatedPostgres]:
    with replicated_postgres() as pg:
        yield pg


def test_the_public_log_reads_the_replica_and_a_receipt_the_primary(
        pair: ReplicatedPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    shelters = prepare_on(pair, "shelterwatch")
    monkeypatch.setenv("DATABASE_URL", pair.multi_host_url("shelterwatch"))
    monkeypatch.setenv("SHELTERWATCH_REPLICA_URL", pair.standby_url("shelterwatch"))
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        head = client.get("/v1/log", params={"after": 0, "limit": 5000}).json()["facts"][-1]["seq"]
        pair.standby.execute("SELECT pg_wal_replay_pause()", dbname="shelterwatch")
        try:
            receipt = client.post("/v1/reports", json={"shelter_id": shelters[0],
                                                        "kind": "full"})
            assert receipt.status_code == 201, receipt.text
            tracking = receipt.json()["tracking_id"]
            # the resident's own case page: from the primary, at once
            assert client.get(f"/v1/reports/{tracking}").status_code == 200
            # the public log: from the paused replica, not there yet
            assert client.get("/v1/log", params={"after": head}).json()["facts"] == []
        finally:
            pair.standby.execute("SELECT pg_wal_replay_resume()", dbname="shelterwatch")
        caught_up: list[dict] = []
        for _ in range(100):  # the replica applies what it holds within moments
            caught_up = client.get("/v1/log", params={"after": head}).json()["facts"]
            if caught_up:
                break
            time.sleep(0.05)
        assert any(f["kind"] == "observation.recorded" for f in caught_up)
    get_settings.cache_clear()


def test_the_pack_loads_from_the_paused_replica_and_still_has_the_newest_change(
        pair: ReplicatedPostgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shelters = prepare_on(pair, "shelterwatch")
    primary, replica = pair.multi_host_url("shelterwatch"), pair.standby_url("shelterwatch")
    monkeypatch.setenv("DATABASE_URL", primary)
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        pair.standby.execute("SELECT pg_wal_replay_pause()", dbname="shelterwatch")
        try:
            assert client.post("/v1/reports", json={"shelter_id": shelters[0],
                                                    "kind": "full"}).status_code == 201
            publisher = PackPublisher(primary, tmp_path, load_url=replica).start()
            publisher.stop()
            (replica_seq,), = pair.standby.execute("SELECT max(seq) FROM facts",
                                                   dbname="shelterwatch")
            (primary_seq,), = pair.primary.execute("SELECT max(seq) FROM facts",
                                                   dbname="shelterwatch")
        finally:
            pair.standby.execute("SELECT pg_wal_replay_resume()", dbname="shelterwatch")
    get_settings.cache_clear()
    # the load did read the stale replica: it lacked the report, which came from the log after
    assert int(replica_seq) < int(primary_seq)  # type: ignore[call-overload]
    assert publisher.pack.touched == 1
    # … and the published pack has the change all the same, from the primary's log
    assert publisher.pack.seq == primary_seq
    pack = orjson.loads((tmp_path / "pack.json").read_bytes())
    entry, = (s for s in pack["shelters"] if s["id"] == shelters[0])
    assert entry["status"] == "full"
