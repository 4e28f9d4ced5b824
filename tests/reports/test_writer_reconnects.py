"""The database goes away for a moment (a failover): a report waiting on it still gets a receipt.

Real disconnection, on PostgreSQL: every connection to the test's database is terminated and new
ones are refused (`ALLOW_CONNECTIONS false`) for a second, as while a standby is promoted.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from shelterwatch.config import Settings
from tests.reports.helpers import kyiv_shelter
from tests.support.databases import postgres_admin_url

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(postgres_admin_url() is None,
                                 reason="PostgreSQL lane only (set SHELTERWATCH_PG)")]


def _admin(sql: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(sql)


def test_a_report_sent_while_the_database_is_away_for_a_second_is_recorded(
        kyiv_settings: Settings, kyiv_client: TestClient) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    body = {"shelter_id": shelter.id, "kind": "full"}
    assert kyiv_client.post("/v1/reports", json=body).status_code == 201  # the writer connects
    name = make_url(kyiv_settings.database_url).database
    _admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    try:
        _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        back = threading.Timer(1.0, _admin, (f"ALTER DATABASE {name} ALLOW_CONNECTIONS true",))
        back.start()
        sent = time.monotonic()
        answer = kyiv_client.post("/v1/reports", json=body)
        waited = time.monotonic() - sent
        back.join()
    finally:
        _admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert answer.status_code == 201, answer.text
    assert waited >= 0.9, "the database was refusing connections for a second"
    tracking = answer.json()["tracking_id"]
    assert kyiv_client.get(f"/v1/reports/{tracking}").status_code == 200
