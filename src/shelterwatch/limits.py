"""Refuse oversized bodies before they are read and oversized headers before anything runs, so
a huge upload or a header flood costs the server nothing."""

from __future__ import annotations

from itertools import chain

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, large_paths: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.large_paths = large_paths or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.large_paths.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(HTTPException):
    """Raised while the body is read, so FastAPI's body parser passes it on as a 413 (a chunked
    upload has no Content-Length to refuse it by beforehand)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Payload too large: request body exceeds {limit} bytes")


async def _too_large(send: Send, limit: int) -> None:
    body = orjson.dumps({"type": "about:blank", "title": "Payload too large", "status": 413,
                         "detail": f"request body exceeds {limit} bytes"})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class HeaderLimit:
    """431 with a problem+json body when the request's headers together exceed `max_bytes`.

    The HTTP server's own bound (h11: 16 KB by default, httptools: none of its own) answers
    with a bare error or not at all; this one answers every caller the same documented way.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            size = sum(map(len, chain.from_iterable(headers))) + 4 * len(headers)
            if size > self.max_bytes:
                body = orjson.dumps({
                    "type": "about:blank", "title": "Request header fields too large",
                    "status": 431,
                    "detail": f"request headers total {size} bytes, over the limit of "
                              f"{self.max_bytes}"})
                await send({"type": "http.response.start", "status": 431,
                            "headers": [(b"content-type", b"application/problem+json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
