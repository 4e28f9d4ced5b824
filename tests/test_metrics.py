"""What the people on call see: Prometheus figures and liveness, nothing private."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.outbox import service as outbox

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
