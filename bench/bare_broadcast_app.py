"""The baseline for `bench/stream.py`: a bare Starlette broadcast, its own minimal app.

What anyone would write first: each client gets a queue and a `StreamingResponse` reading it;
`POST /publish` puts the body it is given into every queue. No database, no log, no middleware.
Served by uvicorn with the same options as `shelterwatch serve`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

clients: set[asyncio.Queue[bytes]] = set()


async def stream(request: Request) -> StreamingResponse:
    queue: asyncio.Queue[bytes] = asyncio.Queue(1000)
    clients.add(queue)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n\n"
            while True:
                yield await queue.get()
        finally:
            clients.discard(queue)

    return StreamingResponse(events(), media_type="text/event-stream")


async def publish(request: Request) -> Response:
    body = await request.body()
    for queue in clients:
        if not queue.full():
            queue.put_nowait(body)
    return Response(status_code=204)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "clients": len(clients)})


app = Starlette(routes=[Route("/stream", stream), Route("/publish", publish, methods=["POST"]),
                        Route("/health", health)])
