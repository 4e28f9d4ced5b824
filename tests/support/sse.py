"""An SSE client of `/v1/stream` as a page runs it: it reads in the background and, when the
stream ends, reconnects with the last id it saw (`Last-Event-ID`), as EventSource does."""

from __future__ import annotations

import json
import threading
import time

import httpx


class LiveEvents:
    """Every event read, with when it arrived; `drops` counts streams that ended under it."""

    def __init__(self, base: str, *, reconnect: bool = False) -> None:
        self.base = base
        self.reconnect = reconnect
        self.events: list[tuple[float, dict]] = []
        self.ids: list[int] = []
        self.drops = 0
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.connected.wait(15), "the stream never connected"

    def _read(self) -> None:
        while not self.stop.is_set():
            try:
                self._follow()
            except httpx.HTTPError:  # the node (or the proxy) stopped under it
                pass
            if not self.reconnect:
                return
            self.drops += 1
            self.connected.clear()
            self.stop.wait(0.2)

    def _follow(self) -> None:
        headers = {"Last-Event-ID": str(self.ids[-1])} if self.ids else {}
        current: dict = {}
        with httpx.stream("GET", f"{self.base}/v1/stream", headers=headers,
                          timeout=30) as response:
            for line in response.iter_lines():
                if line == ": connected":
                    self.connected.set()
                elif line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    current[key] = value.strip()
                elif not line and "data" in current:
                    if "id" in current:
                        self.ids.append(int(current["id"]))
                    self.events.append((time.monotonic(), {"event": current["event"],
                                                           **json.loads(current["data"])}))
                    current = {}
                if self.stop.is_set():
                    return

    def first(self, kind: str, timeout_s: float = 10.0, **match: object) -> tuple[float, dict] \
            | None:
        """The first event of `kind` whose fields include `match`, waiting up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [e for e in self.events if e[1]["kind"] == kind
                     and all(e[1].get(k) == v for k, v in match.items())]
            if found:
                return found[0]
            time.sleep(0.02)
        return None
