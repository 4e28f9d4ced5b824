"""Logs a machine can read: one JSON object a line (or plain text at a terminal).

A city's admin ships these lines to whatever collects them (journald, Loki, Elasticsearch), so
each line stands alone: `ts`, `level`, `logger`, `message`, and for a request its `request_id`,
`route`, `method`, `status` and `duration_ms`. Only named fields are written — never the raw
path, query string, headers or body — because a resident's position travels in `/v1/nearest`'s
query and a report's body names its device: what is not chosen here cannot leak.

A record logged while a request is being served carries that request's id (a context variable),
so an exception's line and the request's own line can be put side by side.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]
# The request fields a record may carry (`logger.info(..., extra={...})`): nothing else passes.
REQUEST_FIELDS = ("request_id", "route", "method", "status", "duration_ms")
# Fields a caller may add about the process itself (counts and ids, never people).
PROCESS_FIELDS = ("component", "count", "seq", "channel", "area_id", "alert_id")
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# A proxy's request id is kept when it looks like one (so its log and ours join); anything else
# is replaced, so a client cannot write into our log lines through it.
_FOREIGN_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")


class _Ids:
    """Request ids unique to this process: a random prefix and a counter.

    An id only joins a request's log lines, so it needs to be unique, not unguessable; reading
    the system's random source on every request cost more than a look-up's ranking. A forked
    worker draws its own prefix.
    """

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(4)
        self.counter = itertools.count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFF:08x}"


_ids = _Ids()


def new_request_id(offered: bytes | None = None) -> str:
    """The id of a request: a proxy's `X-Request-ID` when well-formed, else a fresh one."""
    if offered is not None and _FOREIGN_ID.fullmatch(offered):
        return offered.decode()
    return _ids.next()


class JsonFormatter(logging.Formatter):
    """One JSON object a line with the chosen fields only."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            line["request_id"] = rid
        for name in REQUEST_FIELDS[1:] + PROCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """The same records for a person at a terminal: the request's fields after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = " ".join(f"{n}={v}" for n in REQUEST_FIELDS[1:] + PROCESS_FIELDS
                         if (v := getattr(record, n, None)) is not None)
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            extra = f"request_id={rid} {extra}".rstrip()
        return f"{base} [{extra}]" if extra else base


def formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def level_of(name: str) -> int:
    """`info` → logging.INFO: the setting's words for the stdlib's numbers."""
    return int(logging.getLevelNamesMapping()[name.upper()])


def configure(fmt: LogFormat, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send every logger's records (uvicorn's too) through one handler on the root logger.

    Called once by each process's entry point (`serve`, `worker`, the ASGI module); uvicorn is
    then started without a logging config of its own, so its lines come out in the same format.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "shelterwatch", False):
            root.removeHandler(old)
    handler.shelterwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs each request's URL at INFO: a keyholder's webhook is a private contact.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's access line holds the raw path and query (a resident's position on /v1/nearest)
    # and the client's address: our own request line (`metrics.RequestObserver`) replaces it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
