"""What the logs say about residents' requests: enough to follow a request, nothing private."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from shelterwatch import db, logs
from shelterwatch.app import create_app
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.keyholders import service as keyholders
from tests.reports.helpers import bearer, kyiv_shelter, token
from tests.support.server import ChildProcess, free_port

DEVICE, LAT, LON, CONTACT = "secret-device-42", "50.4512345", "30.5198765", "+380501234567"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger's JSON lines, in a buffer; the test's logging is put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    logs.configure("json", logging.DEBUG, stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def report_and_look_up(client: TestClient, shelter_id: int) -> None:
    r = client.post("/v1/reports", json={"shelter_id": shelter_id, "kind": "locked",
                                         "device_id": DEVICE, "lat": float(LAT),
                                         "lon": float(LON), "contact": CONTACT})
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/nearest?lat={LAT}&lon={LON}").status_code == 200


def test_a_reports_log_line_names_route_status_and_time_never_the_device_or_position(
        kyiv_settings: Settings, captured: io.StringIO) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    every = kyiv_settings.model_copy(update={"log_requests": "all"})
    with TestClient(create_app(every)) as client:
        report_and_look_up(client, shelter.id)
    out = lines(captured)
    requests = {(line["method"], line["route"]): line for line in out
                if line["logger"] == "shelterwatch.requests"}
    posted = requests[("POST", "/v1/reports")]
    assert posted["status"] == 201 and posted["level"] == "info"
    assert isinstance(posted["duration_ms"], float) and len(str(posted["request_id"])) == 16
    assert requests[("GET", "/v1/nearest")]["status"] == 200
    assert {"ts", "level", "logger", "message"} <= set(posted)
    text = captured.getvalue()
    for secret in (DEVICE, LAT, LON, CONTACT, "30.51987", "50.45123"):
        assert secret not in text


def request_lines(settings: Settings, stream: io.StringIO) -> list[tuple[object, object]]:
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/areas").status_code == 200
        assert client.post("/v1/reports", json={"kind": "locked"}).status_code == 422
    return [(line["route"], line["status"]) for line in lines(stream)
            if line["logger"] == "shelterwatch.requests"]


def test_by_default_writes_and_errors_get_a_line_and_fast_reads_do_not(
        settings: Settings, captured: io.StringIO) -> None:
    patient = settings.model_copy(update={"log_slow_ms": 60_000.0})  # nothing is slow here
    assert request_lines(patient, captured) == [("/v1/reports", 422)]


def test_a_slow_read_gets_a_line(settings: Settings, captured: io.StringIO) -> None:
    hasty = settings.model_copy(update={"log_slow_ms": 0.001})  # every request is slow
    assert request_lines(hasty, captured) == [("/v1/areas", 200), ("/v1/reports", 422)]


def test_a_proxys_request_id_is_kept_and_a_forged_one_is_replaced() -> None:
    assert logs.new_request_id(b"req-0123456789abcdef") == "req-0123456789abcdef"
    forged = logs.new_request_id(b'x", "level": "critical')
    assert '"' not in forged and len(forged) == 16


def test_no_two_requests_share_an_id_not_even_in_a_forked_worker() -> None:
    # Ids join a request's log lines: two requests with one id would mix two residents' lines.
    ours = [logs.new_request_id() for _ in range(20_000)]
    assert len(set(ours)) == len(ours) and all(len(i) == 16 for i in ours)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker forked from this process after it had served requests
        os.write(write, " ".join(logs.new_request_id() for _ in range(1000)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    theirs = os.read(read, 1 << 20).decode().split()
    os.close(read)
    assert len(theirs) == 1000
    assert not set(theirs) & set(ours + [logs.new_request_id() for _ in range(1000)])


def test_shelterwatch_serve_writes_only_json_lines_without_private_fields(
        kyiv_settings: Settings, tmp_path: Path) -> None:
    shelter = kyiv_shelter(kyiv_settings.database_url)
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "DATABASE_URL": kyiv_settings.database_url,
           "SHELTERWATCH_LOG_FORMAT": "json"}
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shelterwatch.cli.main", "serve", "--port", str(port),
             "--access-log"], env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/v1/health/live", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        with httpx.Client(base_url=base) as client:
            report_and_look_up(client, shelter.id)  # type: ignore[arg-type]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    out = [orjson.loads(line) for line in log_path.read_text().splitlines()]
    assert any(line["logger"].startswith("uvicorn") for line in out)  # type: ignore[union-attr]
    assert {(line.get("route"), line.get("status")) for line in out} >= {
        ("/v1/reports", 201), ("/v1/nearest", 200)}
    for secret in (DEVICE, LAT, LON, CONTACT):
        assert secret not in log_path.read_text()


def test_the_worker_logs_json_lines_naming_no_keyholder_address(
        kyiv_client: TestClient, kyiv_settings: Settings, tmp_path: Path) -> None:
    url = kyiv_settings.database_url
    shelter = kyiv_shelter(url)
    hook = "http://127.0.0.1:9/ivanna-private-hook"  # nothing listens: every send fails
    with db.transaction(url) as s:
        keyholders.create_keyholder(s, contact=keyholders.ContactIn(name="Ivanna", webhook=hook),
                                    shelter_ids=[shelter.id], now=utcnow(), actor="test")
    assert kyiv_client.post("/v1/alerts", json={"area_id": "31"},
                            headers=bearer(token(url, "operator"))).status_code == 201
    report_and_look_up(kyiv_client, shelter.id)
    log_path = tmp_path / "worker.log"
    worker = ChildProcess({"DATABASE_URL": url, "SHELTERWATCH_LOG_FORMAT": "json",
                           "SHELTERWATCH_NOTIFY_CHANNELS": "webhook",
                           "SHELTERWATCH_WORKER_TICK_S": "0.1"}, log_path)
    worker.spawn(["shelterwatch.cli.main", "worker", "--verbose"])
    try:
        deadline = time.monotonic() + 60
        while "failed" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        worker.stop()
    text = log_path.read_text()
    out = [orjson.loads(line) for line in text.splitlines()]
    failed = [line for line in out if str(line["message"]).startswith("delivery ")]
    assert failed and failed[0]["channel"] == "webhook" and failed[0]["level"] == "warning"
    for secret in ("ivanna", "127.0.0.1:9", DEVICE, LAT, LON, CONTACT):
        assert secret not in text
