"""`GET /v1/stream`: Server-Sent Events projected from the public fact log.

Every event's id is its fact seq, so a client that reconnects with Last-Event-ID misses nothing:
a recent gap is served from the process's ring, an older one is read from the log, then live
facts follow from the hub. A client without Last-Event-ID costs no database read at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from shelterwatch.deps import address_of
from shelterwatch.problems import PROBLEM
from shelterwatch.stream.events import backlog as read_backlog
from shelterwatch.stream.hub import StreamHub, Subscriber

HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


class EventStream(Response):
    """One client's stream, written straight to the ASGI `send`.

    No generator, queue or task group per client: one coroutine writes what the hub wakes it
    for, and one small task waits for the client to hang up (`http.disconnect`).
    """

    media_type = "text/event-stream"

    def __init__(self, hub: StreamHub, subscriber: Subscriber, *, resume: int | None,
                 database_url: str) -> None:
        super().__init__(status_code=200, headers=HEADERS)
        # Open-ended: the server frames it in chunks, so no Content-Length (Response adds 0).
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.hub, self.subscriber = hub, subscriber
        self.resume, self.database_url = resume, database_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub, subscriber = self.hub, self.subscriber
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": self.status_code,
                        "headers": self.raw_headers})
            await _write(send, b"retry: 2000\n\n")
            if await self._start(send):
                await _write(send, b": connected\n\n")
                while (chunks := await hub.next_chunks(subscriber)) is not None:
                    await _write(send, chunks[0] if len(chunks) == 1 else b"".join(chunks))
        finally:
            watcher.cancel()
            hub.disconnect(subscriber)
        # Behind the ring or shut down: end the response; the client reconnects with its last id.
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(self, send: Send) -> bool:
        hub, resume = self.hub, self.resume
        if resume is None:
            return hub.attach(self.subscriber, hub.position)
        if hub.covers(resume):
            return hub.attach(self.subscriber, resume)
        upto = hub.position  # the log's older part; the ring carries what follows it
        backlog = await asyncio.to_thread(read_backlog, self.database_url, resume, upto)
        for start in range(0, len(backlog), 100):
            await _write(send, b"".join(chunk for _, chunk in backlog[start:start + 100]))
        return hub.attach(self.subscriber, upto)

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.hub.drop(self.subscriber)


async def _write(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def stream_endpoint(request: Request) -> EventStream:
    """Open one client's stream; a resume point is its Last-Event-ID (or `?after=`)."""
    app: Any = request.app
    last_id = request.headers.get("last-event-id") or request.query_params.get("after")
    resume = int(last_id) if last_id is not None and last_id.isdigit() and len(last_id) < 19 \
        else None
    address = address_of(request) or ""
    hub: StreamHub = app.state.hub
    subscriber = hub.connect(address, app.state.settings.stream_connections_per_address)
    return EventStream(hub, subscriber, resume=resume,
                       database_url=app.state.settings.database_url)


# A plain Starlette route matched first: a crowd connecting at the siren must not pay FastAPI's
# routing through every router (over a millisecond a connection at ten thousand of them).
route = Route("/v1/stream", stream_endpoint, methods=["GET"], include_in_schema=False)



def _refusals(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/{code}"} for code in codes}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}


# What the stream server refuses (stream/http.py, stream/server.py): a head it cannot read
# exactly (400), a path it does not serve (404: a proxy routed it wrong), a method other than
# GET (405), too many streams from one address (429), a head over the limit (431), a server
# stopping (503, Retry-After), an HTTP version other than 1.x (505).
OPENAPI_PATH: dict[str, Any] = {"get": {
    "tags": ["live"],
    "summary": "Live alert, status and incident events (SSE)",
    "description": "Server-Sent Events; each event's id is its fact seq. A client that "
                   "reconnects with `Last-Event-ID` (or `?after=`) gets every event after it. "
                   "A city serves it from its own stream nodes (`shelterwatch stream`).",
    "operationId": "stream_v1_stream_get",
    "parameters": [
        {"name": "after", "in": "query", "required": False,
         "description": "resume after this fact seq (as Last-Event-ID)",
         "schema": {"type": "string"}},
        {"name": "last-event-id", "in": "header", "required": False,
         "schema": {"type": "string"}}],
    "responses": {
        "200": {"description": "Events, each with its fact seq as id",
                "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **_refusals("400", "404", "429", "431", "503"),
        "405": _problem("Not GET (problem+json, Allow: GET)"),
        "505": _problem("Not HTTP/1.1 or HTTP/1.0 (problem+json)")},
}}


def document(app: FastAPI) -> None:
    """Add `/v1/stream` to the OpenAPI document the app builds."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schema.setdefault("paths", {}).setdefault("/v1/stream", OPENAPI_PATH)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
