"""`GET /v1/stream`: Server-Sent Events projected from the public fact log.

Every event's id is its fact seq, so a client that reconnects with Last-Event-ID misses nothing:
the gap is read from the log, then live facts follow from the process's log follower.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from shelterwatch import db
from shelterwatch.deps import address_of
from shelterwatch.errors import TooManyRequests
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.observations import service as observations
from shelterwatch.vocabulary import ALERT_KINDS, INCIDENT_KINDS, FactKind

# Which facts a client hears, and as which event: subscribed by kind, never by a name's prefix.
EVENT_OF_KIND: dict[FactKind, str] = {
    **dict.fromkeys(ALERT_KINDS, "alert"), FactKind.STATUS_CHANGED: "status",
    **dict.fromkeys(INCIDENT_KINDS, "incident"),
    # audits: a ghost leaves the map at once; readiness relabels a shelter
    FactKind.SHELTER_GHOSTED: "ghost", FactKind.SHELTER_RESTORED: "ghost",
    FactKind.READINESS_CHANGED: "readiness",
}
KEEPALIVE_S = 15.0
QUEUE_LIMIT = 1000

router = APIRouter(tags=["live"])
Queue = asyncio.Queue[tuple[int, bytes]]


def event_name(kind: str) -> str | None:
    return EVENT_OF_KIND.get(FactKind(kind)) if kind in _KINDS else None


_KINDS = frozenset(FactKind)


def encode(fact: Fact) -> bytes | None:
    name = event_name(fact.kind)
    if name is None:
        return None
    payload = orjson.loads(fact.payload)
    if fact.kind == FactKind.STATUS_CHANGED and "reasons" in payload:
        # The status as a reader sees it: worded by the catalogue, the codes kept beside it.
        payload = {**payload, "explanation": observations.worded(payload)["explanation"]}
    data = orjson.dumps({"kind": fact.kind, "at": log.public_view(fact)["at"], **payload})
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (fact.seq, name.encode(), data)


class StreamHub:
    """Fans facts from the follower thread out to every connected client's queue."""

    def __init__(self) -> None:
        self._clients: set[tuple[asyncio.AbstractEventLoop, Queue]] = set()
        self._lock = threading.Lock()
        self._per_address: dict[str, int] = {}

    def publish(self, facts: Sequence[Fact]) -> None:
        encoded = [(f.seq, e) for f in facts if (e := encode(f)) is not None]
        if not encoded:
            return
        with self._lock:
            clients = list(self._clients)
        for loop, queue in clients:
            for item in encoded:
                loop.call_soon_threadsafe(_offer, queue, item)

    def connect(self, address: str = "", limit: int = 0) -> asyncio.Queue[tuple[int, bytes]]:
        """A queue for one client; more than `limit` open streams from one address are refused
        (each holds memory and a socket for as long as it lasts)."""
        queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(QUEUE_LIMIT)
        with self._lock:
            held = self._per_address.get(address, 0)
            if limit and held >= limit:
                raise TooManyRequests(f"this address already holds {held} open streams (limit "
                                      f"{limit}); close one first", retry_after_s=30)
            self._per_address[address] = held + 1
            self._clients.add((asyncio.get_running_loop(), queue))
        return queue

    def client_count(self) -> int:
        return len(self._clients)

    def disconnect(self, queue: asyncio.Queue[tuple[int, bytes]], address: str = "") -> None:
        with self._lock:
            self._clients = {c for c in self._clients if c[1] is not queue}
            left = self._per_address.get(address, 1) - 1
            if left > 0:
                self._per_address[address] = left
            else:
                self._per_address.pop(address, None)


def _offer(queue: asyncio.Queue[tuple[int, bytes]], item: tuple[int, bytes]) -> None:
    if not queue.full():  # a client too slow to keep up reconnects and resumes from the log
        queue.put_nowait(item)


def _backlog(database_url: str, after: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    with db.reading(database_url) as session:
        while True:
            facts = log.after(session, after, limit=2000)
            if not facts:
                return out
            out.extend((f.seq, e) for f in facts if (e := encode(f)) is not None)
            after = facts[-1].seq


@router.get("/v1/stream", summary="Live alert, status and incident events (SSE)")
async def stream(request: Request) -> StreamingResponse:
    app: Any = request.app
    hub: StreamHub = app.state.hub
    last_id = request.headers.get("last-event-id") or request.query_params.get("after")
    # Read the follower's position before connecting; the backlog query closes any gap between.
    start: int = app.state.follower.applied_seq
    if last_id is not None and last_id.isdigit() and len(last_id) < 19:
        start = int(last_id)
    address = address_of(request) or ""
    queue = hub.connect(address, app.state.settings.stream_connections_per_address)

    async def events() -> AsyncIterator[bytes]:
        try:
            sent = start
            yield b"retry: 2000\n\n"
            backlog = await asyncio.to_thread(_backlog, app.state.settings.database_url, start)
            for seq, chunk in backlog:
                yield chunk
                sent = max(sent, seq)
            yield b": connected\n\n"
            while True:
                try:
                    seq, chunk = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
                    continue
                if seq > sent:
                    sent = seq
                    yield chunk
        finally:
            hub.disconnect(queue, address)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
