"""The stream server on a real loopback socket: strict about what it reads (a request it cannot
read exactly gets a precise problem+json, and nothing it is sent brings it down), and a client
whose socket stops taking data is cut, to resume from the log, while the others hear everything."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest

from shelterwatch.config import Settings
from shelterwatch.log.models import Fact
from shelterwatch.stream import server as stream_server
from shelterwatch.stream.hub import StreamHub
from shelterwatch.stream.views import OPENAPI_PATH
from tests.support.metrics import figure

T0 = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)


def fact(seq: int, padding: int = 0) -> Fact:
    return Fact(seq=seq, at=T0, kind="alert.started", actor="operator", private_digest="",
                payload=orjson.dumps({"id": seq, "area_id": "31", "pad": "x" * padding}).decode(),
                prev_hash="0" * 64, hash="0" * 64)


class Running:
    """A StreamServer on its own loop in a thread, as the stream process runs it."""

    def __init__(self, settings: Settings, capacity: int) -> None:
        self.hub = StreamHub(capacity)
        self.server = stream_server.StreamServer(self.hub, settings)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> int:
        self.hub.begin(0)
        self.listening = await stream_server.listen(self.server, "127.0.0.1", 0)
        return int(self.listening.sockets[0].getsockname()[1])

    def clients(self) -> int:
        return asyncio.run_coroutine_threadsafe(self._count(), self.loop).result(5)

    async def _count(self) -> int:
        return self.hub.client_count()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.listening.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def running(settings: Settings) -> Iterator[Running]:
    server = Running(settings, capacity=8)
    yield server
    server.stop()


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; the status, headers and body of the answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {name.lower(): value for name, _, value in (h.partition(": ") for h in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def test_requests_it_cannot_read_exactly_get_precise_problems_and_nothing_breaks(
        running: Running) -> None:
    host = b"Host: x\r\n"
    cases = [  # (request, status, words the detail must say)
        (b"GET /v1/stream HTTP/1.1\r\n" + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, "8192"),
        (b"GET /v1/stream HTTP/1.1\r\n" + b"X-Big: a\r\n" * 2000, 431, "exceeds"),  # no end
        (b"GET /v1/stream\r\n" + host + b"\r\n", 400, "request line"),
        (b"GET  /v1/stream HTTP/1.1\r\n" + host + b"\r\n", 400, "request line"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "ASCII"),  # TLS hello
        (b"POST /v1/stream HTTP/1.1\r\n" + host + b"Content-Length: 0\r\n\r\n", 405, "GET"),
        (b"DELETE /v1/health/live HTTP/1.1\r\n" + host + b"\r\n", 405, "GET"),
        (b"GET /v1/reports HTTP/1.1\r\n" + host + b"\r\n", 404, "/v1/reports"),
        (b"GET /v1/stream HTTP/2.0\r\n" + host + b"\r\n", 505, "HTTP/2.0"),
        (b"GET v1/stream HTTP/1.1\r\n" + host + b"\r\n", 400, "absolute path"),
        (b"GET /v1/stream HTTP/1.1\r\n\r\n", 400, "Host"),
        (b"GET /v1/stream HTTP/1.1\r\n" + host + b" folded\r\n\r\n", 400, "Name: value"),
        (b"GET /v1/stream HTTP/1.1\r\nHost x\r\n\r\n", 400, "Name: value"),
        (b"GET /v1/stream HTTP/1.1\r\n" + host + b"Content-Length: 5\r\n\r\nhello", 400, "body"),
        (b"GET /v1/stream HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n", 400,
         "body"),
    ]
    # Every refusal the server gives is one the API's document lists for /v1/stream.
    documented = set(OPENAPI_PATH["get"]["responses"])
    assert {str(status) for _, status, _ in cases} | {"429", "503"} <= documented, documented
    for request, status, words in cases:
        got, headers, body = exchange(running.port, request)
        assert got == status, (request[:60], body)
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == status and words in problem["detail"], (request[:60], problem)
        if status == 405:
            assert headers["allow"] == "GET"
    # A client that sends half a head and hangs up costs nothing either.
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/str")
    status, _, body = exchange(running.port, b"GET /v1/health/live HTTP/1.0\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"ok": True})
    assert running.clients() == 0


def test_a_health_checker_keeps_its_connection_and_may_pipeline(running: Running) -> None:
    check = b"GET /v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(check * 3)  # three at once, in one packet
        answers = read_until(sock, b"{}", timeout=1)  # (never there: reads until it times out)
        assert answers.count(b"HTTP/1.1 200 OK") == 3, answers
        sock.sendall(check[:20])  # the next one in two pieces, on the same connection
        time.sleep(0.05)
        sock.sendall(check[20:] + b"GET /v1/health/live HTTP/1.1\r\nHost: x\r\n"
                     b"Connection: close\r\n\r\n")
        sock.settimeout(5)
        data = b""
        while chunk := sock.recv(65536):  # the last asked to close: the server does
            data += chunk
        assert data.count(b"HTTP/1.1 200 OK") == 2 and data.endswith(b'{"ok":true}'), data


def read_until(sock: socket.socket, marker: bytes, timeout: float = 5) -> bytes:
    data, deadline = b"", time.monotonic() + timeout
    sock.settimeout(0.1)
    while marker not in data and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
    return data


def test_a_client_that_stops_reading_is_cut_while_the_others_hear_every_event(
        running: Running) -> None:
    request = b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n"
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a tiny window
    slow.connect(("127.0.0.1", running.port))
    slow.sendall(request)
    fast = socket.create_connection(("127.0.0.1", running.port), timeout=5)
    fast.sendall(request)
    for sock in (slow, fast):
        assert b": connected" in read_until(sock, b": connected")
    # 60 events of 20 KB: far more than the slow socket and its transport's buffer take, and
    # more than the ring's 8; published from another thread, as the log follower does.
    got = b""
    for seq in range(1, 61):
        running.hub.publish([fact(seq, padding=20_000)])
        got += read_until(fast, b"id: %d\n" % seq)
    assert [int(line[4:]) for line in got.split(b"\n") if line.startswith(b"id: ")] == \
        list(range(1, 61))
    # The slow one heard a prefix, in order, and then its connection ended: it reconnects
    # with the last id it read and gets the rest from the log.
    slow.settimeout(5)
    heard = b""
    try:
        while chunk := slow.recv(65536):
            heard += chunk
    except ConnectionResetError:
        pass
    ids = [int(line[4:]) for line in heard.split(b"\n") if line.startswith(b"id: ")]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) < 60
    # … and the people on call see it: one client cut, every event written counted
    base = f"http://127.0.0.1:{running.port}"
    assert figure(base, "shelterwatch_sse_slow_clients_cut_total") == 1
    assert figure(base, "shelterwatch_sse_events_sent_total") >= 60 + len(ids)
    fast.close()
    slow.close()
    deadline = time.monotonic() + 5
    while running.clients() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.clients() == 0


def test_the_cap_counts_the_address_a_trusted_proxy_names_and_no_other(
        settings: Settings) -> None:
    capped = settings.model_copy(update={"trusted_proxies": "127.0.0.1",
                                         "stream_connections_per_address": 1})
    running = Running(capped, capacity=8)
    try:
        def open_stream(forwarded_for: str) -> socket.socket:
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=5)
            sock.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: "
                         + forwarded_for.encode() + b"\r\n\r\n")
            return sock

        first = open_stream("203.0.113.7")
        second = open_stream("10.9.9.9, 203.0.113.8")  # the hop our proxy added counts
        for sock in (first, second):
            assert b": connected" in read_until(sock, b": connected")
        status, headers, body = exchange(running.port, b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
                                         b"X-Forwarded-For: 203.0.113.7\r\n\r\n")
        assert status == 429 and headers["retry-after"] == "30"
        assert "open streams" in json.loads(body)["detail"]
        first.close()
        second.close()
    finally:
        running.stop()
    # Without a trusted proxy the header is the client's word: the peer's address counts.
    running = Running(settings.model_copy(update={"stream_connections_per_address": 1}), 8)
    try:
        held = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        held.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n")
        assert b": connected" in read_until(held, b": connected")
        status, _, _ = exchange(running.port, b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
                                b"X-Forwarded-For: 2.2.2.2\r\n\r\n")
        assert status == 429
        held.close()
    finally:
        running.stop()
