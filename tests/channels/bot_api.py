"""A local HTTP server speaking the Telegram Bot API's request and response shapes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.http import QuietHandler, serving
from tests.support.server import free_port

FIXTURES = Path(__file__).parent.parent / "fixtures" / "telegram"
TOKEN = "123456:TEST-token_for-the-local-bot-api"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class BotApi:
    url: str
    calls: list[Call] = field(default_factory=list)
    # method → answers to give before the normal one, e.g. {"sendMessage": ["error_429"]}
    scripted: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=lambda: {"getUpdates": "getUpdates_empty"})

    def sent(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if method is None or c.method == method]

    def texts(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.sent("sendMessage")]


@contextmanager
def bot_api() -> Iterator[BotApi]:
    port = free_port()
    api = BotApi(url=f"http://127.0.0.1:{port}")
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            prefix, _, method = self.path.lstrip("/").partition("/")
            params = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if prefix != f"bot{TOKEN}":
                self.answer_json(401, {"ok": False, "error_code": 401,
                                   "description": "Unauthorized"})
                return
            with lock:
                api.calls.append(Call(method, params, time.monotonic()))
                queue = api.scripted.get(method) or []
                name = queue.pop(0) if queue else api.defaults.get(method, method)
            body = fixture(name)
            if body.get("ok") and isinstance(body.get("result"), dict) and "text" in params:
                body["result"]["text"] = params["text"]
            self.answer_json(int(body.get("error_code", 200)), body)

    with serving(port, Handler):
        yield api
