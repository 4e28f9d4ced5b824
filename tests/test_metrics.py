"""What the people on call see: Prometheus figures and liveness, nothing private."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.outbox import service as outbox
from tests.reports.helpers import kyiv_shelter

T0 = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)


def test_metrics_show_route_latency_outbox_depth_and_stream_clients_without_addresses(
        client: TestClient, settings) -> None:
    with db.transaction(settings.database_url) as s:
        outbox.enqueue(s, outbox.Outgoing(
            subject="incident:1", step="notify_keyholders", recipient="keyholder:1:sms",
            channel="sms", address="+380501234567", title="Locked", body="Open it"),
            now=T0, actor="worker")
    assert client.get("/v1/areas").status_code == 200
    text = client.get("/metrics").text
    assert 'shelterwatch_request_seconds_count{method="GET",route="/v1/areas"} 1.0' in text
    assert 'shelterwatch_outbox_depth{channel="sms"} 1.0' in text
    assert "shelterwatch_sse_clients 0.0" in text
    assert "+380501234567" not in text and "keyholder:1" not in text


def test_liveness_answers_without_the_database(client: TestClient) -> None:
    assert client.get("/v1/health/live").json() == {"ok": True}


def test_metrics_count_each_report_commit_and_label_nearest_by_its_route(
        kyiv_client: TestClient, kyiv_settings) -> None:
    before = kyiv_client.get("/metrics").text
    assert "shelterwatch_report_batch_size_count 0.0" in before
    for n in range(3):
        shelter = kyiv_shelter(kyiv_settings.database_url, offset=n)
        r = kyiv_client.post("/v1/reports", json={"shelter_id": shelter.id, "kind": "full",
                                                  "device_id": f"metrics-phone-{n}"})
        assert r.status_code == 201, r.text
    assert kyiv_client.get("/v1/nearest?lat=50.45&lon=30.52").status_code == 200
    text = kyiv_client.get("/metrics").text
    # One report at a time: three commits of one report each.
    assert "shelterwatch_report_batch_size_count 3.0" in text
    assert "shelterwatch_report_batch_size_sum 3.0" in text
    assert 'shelterwatch_report_batch_size_bucket{le="1.0"} 3.0' in text
    assert 'shelterwatch_request_seconds_count{method="GET",route="/v1/nearest"} 1.0' in text
    assert "metrics-phone" not in text


def test_metrics_show_a_feed_gone_quiet_as_stale_and_a_fresh_one_as_not(
        client: TestClient, settings) -> None:
    from datetime import timedelta

    from shelterwatch.alerts import feeds
    from shelterwatch.clock import utcnow

    now = utcnow()
    with db.transaction(settings.database_url) as s:
        feeds.record_ok(s, source="alerts-in-ua", now=now - timedelta(minutes=10))
        feeds.record_ok(s, source="ukrainealarm", now=now)
        feeds.record_failure(s, source="ukrainealarm", now=now, reason="HTTP 503 from upstream")
    text = client.get("/metrics").text
    assert 'shelterwatch_feed_stale{source="alerts-in-ua"} 1.0' in text
    assert 'shelterwatch_feed_stale{source="ukrainealarm"} 0.0' in text
    quiet = next(line for line in text.splitlines()
                 if line.startswith('shelterwatch_feed_seconds_since_ok{source="alerts-in-ua"}'))
    assert 590 < float(quiet.split()[-1]) < 700
    assert "503" not in text  # a feed's error stays off the public figures
