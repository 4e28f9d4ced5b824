"""Real receivers on loopback: an HTTP server that records requests, and an SMTP server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.http import QuietHandler, serving
from tests.support.server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # (path, body) -> (status, json answer); the default answers 200 {"ok": true}
    answer: Callable[[Received], tuple[int, Any]] = lambda r: (200, {"ok": True})


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    """A threaded HTTP server on 127.0.0.1 that records every POST it gets."""
    port = free_port()
    receiver = HttpReceiver(url=f"http://127.0.0.1:{port}")

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length", "0"))
            got = Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                           self.rfile.read(length))
            receiver.requests.append(got)
            self.answer_json(*receiver.answer(got))

    with serving(port, Handler):
        yield receiver


@dataclass
class Mailbox:
    url: str
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        msg = message_from_bytes(envelope.content, policy=default)
        self.messages.append({"to": envelope.rcpt_tos, "subject": str(msg["Subject"]),
                              "body": msg.get_body(("plain",)).get_content(),
                              "message_id": str(msg["Message-ID"])})
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real aiosmtpd SMTP server on loopback."""
    port = free_port()
    mailbox = Mailbox(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
