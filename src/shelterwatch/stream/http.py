"""The little HTTP/1.1 the stream server speaks: one request head in, one response head out.

The stream server answers a few requests (`GET /v1/stream`, its health and `/metrics`) and keeps a
connection only for a checker's small answers, so it needs none of a general server's machinery:
no bodies, no chunked framing (an SSE response ends when the connection does, which HTTP/1.1
allows for a response without a length). What it does need is to be strict: a request it cannot
read exactly is refused with a problem+json that says why, never guessed at. Pure functions over
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl

import orjson

# A token (RFC 9110 §5.6.2): what a method and a header name may be made of.
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                   b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_VERSIONS = {b"HTTP/1.1", b"HTTP/1.0"}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    version: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; the first of repeated ones


class Refusal(Exception):
    """A request answered with an error and the connection closed."""

    def __init__(self, status: int, detail: str,
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(status, detail)
        self.status, self.detail, self.headers = status, detail, headers

    def __str__(self) -> str:
        return f"{self.status} {self.detail}"


def parse_head(head: bytes) -> Request:
    """The request line and headers (without the blank line that ends them), or a Refusal."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise Refusal(400, "the request head is not ASCII") from None
    line, _, rest = text.partition("\r\n")
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise Refusal(400, "the request line is not `METHOD /path HTTP/1.1`")
    method, target, version = parts
    if not _is_token(method):
        raise Refusal(400, "the request line's method is not a token")
    if version.encode() not in _VERSIONS:
        raise Refusal(505, f"{version[:20]!r} is not HTTP/1.1 or HTTP/1.0")
    if not target.startswith("/"):
        raise Refusal(400, "the request target is not an absolute path")
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for field_line in rest.split("\r\n") if rest else ():
        name, colon, value = field_line.partition(":")
        if not colon or not _is_token(name):
            # a line without a name, or one folded onto the last (obs-fold): both refused
            raise Refusal(400, "a header line is not `Name: value`")
        headers.setdefault(name.lower(), value.strip(" \t"))
    if version == "HTTP/1.1" and "host" not in headers:
        raise Refusal(400, "an HTTP/1.1 request names its Host")
    if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
        raise Refusal(400, "this server takes no request body")
    return Request(method, path, version, dict(parse_qsl(query)), headers)


def _is_token(text: str) -> bool:
    return bool(text) and all(c in _TCHAR for c in text.encode("ascii", "replace"))


def resume_point(request: Request) -> int | None:
    """The fact seq a client resumes after: its Last-Event-ID, or `?after=`; anything that is
    not a plain, plausible seq is ignored (the client gets live events from now on)."""
    last_id = request.headers.get("last-event-id") or request.query.get("after")
    return int(last_id) if last_id is not None and last_id.isdigit() and len(last_id) < 19 \
        else None


def response_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(status: int, data: bytes, media_type: str,
             headers: tuple[tuple[str, str], ...] = (), *, close: bool = True) -> bytes:
    """A whole response with a length (for a connection about to close, unless not)."""
    ending = [("connection", "close")] if close else []
    return response_head(status, [("content-type", media_type),
                                  ("content-length", str(len(data))), *ending, *headers]) + data


def json_response(status: int, body: object, headers: tuple[tuple[str, str], ...] = (),
                  media_type: str = "application/json", *, close: bool = True) -> bytes:
    return response(status, orjson.dumps(body), media_type, headers, close=close)


def problem(refusal: Refusal) -> bytes:
    """The refusal as RFC 9457 problem+json, the API's own shape."""
    body = {"type": "about:blank", "title": HTTPStatus(refusal.status).phrase,
            "status": refusal.status, "detail": refusal.detail}
    return json_response(refusal.status, body, refusal.headers, "application/problem+json")
