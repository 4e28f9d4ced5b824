"""The stream server: `/v1/stream` on raw asyncio, ten thousand clients and more per process.

Under uvicorn and ASGI each client cost a task woken per event, the ASGI send machinery and
chunked framing per write, and about half a millisecond of CPU to open; ten thousand opening or
dropping at once stalled every other request on the loop for most of a second. Here a client
is an `asyncio.Protocol` around the hub's `Subscriber`: when the hub hands it an event, the
protocol writes the one encoded bytes object every client shares straight to its transport,
with no task, future or framing of its own. Opening is one parse of the request head, dropping
a set removal. A client whose socket stops taking data (the transport's buffer above its high
mark) is skipped until it drains and then catches up from the ring; if the ring moved past it
meanwhile, its connection is cut and it resumes from the log with its Last-Event-ID.

A stream's connection is never reused: the response carries no length and ends when the
connection does. The process also answers `GET /v1/health/live` (a supervisor's or a proxy's
check), `GET /v1/health` (readiness: the database answers and the process follows the log, read
off the loop) and `GET /metrics` (`stream/metrics.py`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
from collections.abc import Callable
from typing import cast

from shelterwatch import db
from shelterwatch.clientaddr import client_address
from shelterwatch.config import Settings
from shelterwatch.errors import TooManyRequests
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.log.readiness import readiness
from shelterwatch.stream import metrics
from shelterwatch.stream.events import backlog
from shelterwatch.stream.http import (
    Refusal,
    Request,
    json_response,
    parse_head,
    problem,
    response,
    response_head,
    resume_point,
)
from shelterwatch.stream.hub import KEEPALIVE, StreamHub, Subscriber
from shelterwatch.vocabulary import NOTIFICATION_KINDS

logger = logging.getLogger(__name__)

STREAM_HEAD = response_head(200, [
    ("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-store"),
    ("x-accel-buffering", "no"), ("connection", "close")]) + b"retry: 2000\n\n"
CONNECTED = b": connected\n\n"
HEAD_TIMEOUT_S = 10.0  # a client that has not sent its request head by then is let go
LINGER_S = 2.0  # how long an answered client may take to hang up
# Connections taken per wake of the listening socket: a surge of ten thousand is accepted in
# slices, with the loop's other work between them (the kernel's queue holds the rest).
ACCEPT_BATCH = 64
LISTEN_QUEUE = 4096
# A client that heard of the shutdown has this long to go before the process exits anyway.
CLOSE_GRACE_S = 5.0
# The stream process has nothing else to do, and on SQLite a look for other processes' commits
# is one PRAGMA: it looks often, so a report reaches the crowd soon after its commit.
FOLLOW_INTERVAL_S = 0.05
# The kernel's share of a client's backlog (it doubles it): a socket that stops taking data fills
# it and then the transport's own buffer soon, so a stalled phone is noticed, not hoarded for.
SEND_BUFFER = 32_768


class Connection(Subscriber):
    """A subscriber whose wake-up writes to its socket at once."""

    __slots__ = ("protocol",)

    def __init__(self, address: str, protocol: StreamProtocol) -> None:
        super().__init__(address)
        self.protocol = protocol

    def wake(self) -> None:
        self.protocol.flush()


class StreamServer:
    """The hub, the settings the requests are judged by, whether the server is stopping, and
    what `/metrics` tells (the follower is the stream process's own; `serve` hands streams to
    a server without one, and its API answers `/metrics` itself)."""

    def __init__(self, hub: StreamHub, settings: Settings,
                 follower: LogFollower | None = None) -> None:
        self.hub, self.settings, self.follower = hub, settings, follower
        self.closing = False
        self.tally = metrics.Tally()
        self.registry = metrics.registry_for(hub, self.tally, follower)

    def protocol(self) -> StreamProtocol:
        return StreamProtocol(self)

    def close(self) -> None:
        """End every stream (clients reconnect elsewhere with their last id); refuse new ones."""
        self.closing = True
        self.hub.close()


class StreamProtocol(asyncio.Protocol):
    """One connection: its request head, then (for a stream) its subscriber."""

    __slots__ = ("head", "paused", "server", "subscriber", "timer", "transport")

    def __init__(self, server: StreamServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.head: bytearray | None = bytearray()  # None once the head was read
        self.subscriber: Connection | None = None
        self.paused = False
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's or uvloop's (handed over by `handoff`; not an asyncio.Transport subclass)
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.head is None:
            return  # a stream takes nothing after its request
        self.head += data
        limit = self.server.settings.max_header_bytes
        while (head := self.head) is not None:
            end = head.find(b"\r\n\r\n")
            if end < 0:
                if len(head) > limit:
                    self._refuse(Refusal(431, f"the request head exceeds {limit} bytes"))
                return
            self.head = None
            if self.timer is not None:
                self.timer.cancel()
            if end > limit:
                self._refuse(Refusal(431, f"the request head exceeds {limit} bytes"))
                return
            try:
                self._answer(parse_head(bytes(head[:end])))
            except Refusal as refusal:
                self._refuse(refusal)
                return
            if self.head is not None:  # kept alive: what followed is the next request
                self.head += head[end + 4:]

    def _answer(self, request: Request) -> None:
        if request.path == "/v1/stream":
            _only_get(request)
            self._open(request)
        elif request.path == "/v1/health/live":
            _only_get(request)
            self._small(request, lambda close: json_response(200, {"ok": True}, close=close))
        elif request.path == "/metrics":
            _only_get(request)
            text = metrics.exposition(self.server.registry)
            self._small(request, lambda close: response(200, text, metrics.CONTENT_TYPE,
                                                        close=close))
        elif request.path == "/v1/health":
            _only_get(request)
            self._readiness()
        else:
            raise Refusal(404, f"this server serves /v1/stream, not {request.path[:80]!r}")

    def _small(self, request: Request, answer: Callable[[bool], bytes]) -> None:
        """Answer a checker or a scraper. Its connection is kept (HTTP/1.1, unless it asked to
        close), so its next look is not queued behind a crowd's thousands of new connections
        in the kernel's accept queue."""
        closes = request.headers.get("connection", "").lower() == "close"
        if request.version == "HTTP/1.1" and not closes:
            assert self.transport is not None
            self.transport.write(answer(False))
            self.head = bytearray()
            self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S,
                                                               self.transport.abort)
        else:
            self._reply(answer(True))

    def _readiness(self) -> None:
        """`/v1/health`: the database is read off the loop; the answer ends the connection."""
        server = self.server
        applied = server.follower.applied_seq if server.follower is not None \
            else server.hub.position
        read = asyncio.get_running_loop().run_in_executor(
            None, readiness, server.settings.database_url, applied)
        read.add_done_callback(self._ready_read)

    def _ready_read(self, done: asyncio.Future[tuple[bool, dict[str, object]]]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if done.exception() is not None:
            ok, body = False, {"ok": False, "detail": f"readiness failed: {done.exception()!r}"}
        else:
            ok, body = done.result()
        if ok and self.server.closing:
            ok, body = False, {**body, "ok": False, "detail": "this server is stopping"}
        self._reply(json_response(200 if ok else 503, body))

    def _open(self, request: Request) -> None:
        server, hub = self.server, self.server.hub
        if server.closing:
            raise Refusal(503, "this server is stopping; connect again", (("retry-after", "1"),))
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername")
        address = client_address(peer[0] if peer else None, request.headers.get("x-forwarded-for"),
                                 server.settings.trusted_proxies) or ""
        subscriber = Connection(address, self)
        try:
            hub.connect_subscriber(subscriber, server.settings.stream_connections_per_address)
        except TooManyRequests as exc:
            raise Refusal(429, exc.detail, (("retry-after", str(exc.retry_after_s)),)) from None
        self.subscriber = subscriber
        resume = resume_point(request)
        if resume is None:
            self._attach(hub.position, STREAM_HEAD)
        elif hub.covers(resume):
            self._attach(resume, STREAM_HEAD)
        else:  # older than the ring: read from the log off the loop, the ring follows it
            self.transport.write(STREAM_HEAD)
            upto = hub.position
            read = asyncio.get_running_loop().run_in_executor(
                None, backlog, server.settings.database_url, resume, upto)
            read.add_done_callback(lambda done: self._backlog_read(done, upto))

    def _backlog_read(self, done: asyncio.Future[list[tuple[int, bytes]]], upto: int) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if done.exception() is not None:
            logger.warning("stream backlog read failed: %r", done.exception())
            self.transport.close()  # the client resumes again with its last id
            return
        events = done.result()
        for start in range(0, len(events), 100):
            self.transport.write(b"".join(chunk for _, chunk in events[start:start + 100]))
        self.server.tally.events_sent += len(events)
        self._attach(upto)

    def _attach(self, after: int, head: bytes = b"") -> None:
        """Join the hub after seq `after`, writing `head` and what the ring holds in one go."""
        transport, hub = self.transport, self.server.hub
        assert transport is not None and self.subscriber is not None
        if not hub.attach(self.subscriber, after):
            transport.write(head)
            transport.close()  # behind the ring already: resume from the log
            return
        chunks = hub.pull(self.subscriber)
        transport.write(b"".join([head, CONNECTED, *(chunks or ())]))
        if chunks is None:
            transport.close()
        else:
            self._count(chunks)

    def flush(self) -> None:
        """Write what the hub holds for this client; called by the hub on every new event."""
        transport, subscriber = self.transport, self.subscriber
        if transport is None or subscriber is None:
            return
        hub = self.server.hub
        if self.paused:  # its socket is full: it catches up when it drains, if it still can
            if subscriber.gone:
                transport.abort()
            elif hub.behind(subscriber):
                self.server.tally.slow_cut += 1
                transport.abort()
            return
        chunks = hub.pull(subscriber)
        if chunks is None:
            if not subscriber.gone:  # behind the ring
                self.server.tally.slow_cut += 1
            transport.close()  # left, behind, or shut down: the client resumes with its id
        elif chunks:
            transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
            self._count(chunks)

    def _count(self, chunks: list[bytes]) -> None:
        if chunks and chunks[0] is not KEEPALIVE:
            self.server.tally.events_sent += len(chunks)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        subscriber = self.subscriber
        if subscriber is not None:
            subscriber.gone = True
            self.server.hub.disconnect(subscriber)
        # No cycle left behind (protocol, subscriber, transport): a crowd that drops at once is
        # freed as it goes, not in one long pass of the garbage collector later.
        self.transport = self.subscriber = None

    def _reply(self, response: bytes) -> None:
        """Answer and end the connection. The client may still be sending (a refused head);
        closing with its bytes unread would reset the connection and could lose the answer,
        so our side ends first and what it sends is read and dropped until it hangs up."""
        transport = self.transport
        assert transport is not None
        transport.write(response)
        if transport.can_write_eof():
            transport.write_eof()
            self.timer = asyncio.get_running_loop().call_later(LINGER_S, transport.abort)
        else:
            transport.close()

    def _refuse(self, refusal: Refusal) -> None:
        self.head = None
        if self.timer is not None:
            self.timer.cancel()
        self._reply(problem(refusal))

    def eof_received(self) -> bool:
        return False  # the client is done sending: close (a stream's answer needs no reply)


def _only_get(request: Request) -> None:
    if request.method != "GET":
        raise Refusal(405, f"{request.path} answers GET, not {request.method[:20]}",
                      (("allow", "GET"),))


async def listen(server: StreamServer, host: str, port: int) -> asyncio.Server:
    """Listening on host:port, accepting in slices from a deep kernel queue."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    # asyncio takes `backlog` connections per wake and also hands it to listen(); the second
    # listen() keeps the slices small and the kernel's queue deep.
    listening = await loop.create_server(server.protocol, sock=sock, backlog=ACCEPT_BATCH)
    sock.listen(LISTEN_QUEUE)
    return listening


async def serve(settings: Settings, host: str, port: int,
                on_ready: Callable[[], None] | None = None) -> None:
    """The stream process: follow the log, serve the crowd, end every stream on SIGTERM."""
    loop = asyncio.get_running_loop()
    # The stream carries no delivery fact: an alert's ten thousand are never loaded here.
    follower = LogFollower(settings.database_url,
                           interval_s=min(settings.follow_interval_s, FOLLOW_INTERVAL_S),
                           skip=NOTIFICATION_KINDS)
    hub = StreamHub()
    follower.subscribe(hub.publish)
    with db.reading(settings.database_url) as session:
        follower.applied_seq = log.last_seq(session)
    hub.begin(follower.applied_seq)
    gc.collect()
    gc.freeze()  # start-up's objects live as long as the process: out of the collector's way
    follower.start()
    server = StreamServer(hub, settings, follower)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listening = await listen(server, host, port)
    logger.info("stream server on %s:%d", host, port)
    if on_ready is not None:
        on_ready()
    try:
        await stop.wait()
    finally:
        listening.close()
        server.close()
        deadline = loop.time() + CLOSE_GRACE_S
        while hub.client_count() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        follower.stop()
