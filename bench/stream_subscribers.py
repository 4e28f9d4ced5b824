"""The subscribers of bench/stream.py: one process of N raw asyncio SSE connections.

Run by bench/stream.py, one process per loopback source address so ports never run out, and
driven over stdin by one command a line: `open` (connect all N, answer when every one has its
first `retry:`), `arrivals` (when each marked shelter id first reached how many subscribers),
`drop` (reset every connection at once, as phones that lose their network do).

    .venv/bin/python bench/stream_subscribers.py HOST PORT PATH N SOURCE
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

MARK = re.compile(rb'"shelter_id":(\d+)')


class Listener(asyncio.Protocol):
    """One subscriber: notes when each shelter id first reaches it."""

    def __init__(self, client: Client) -> None:
        self.client, self.tail, self.seen = client, b"", set[bytes]()
        self.transport: asyncio.Transport | None = None
        self.opened = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.client.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.opened and b"retry:" in data:
            self.opened = True
            self.client.opened += 1
            if self.client.opened == self.client.n:
                self.client.all_open.set()
        text = self.tail + data
        for mark in MARK.findall(text):
            if mark not in self.seen:
                self.seen.add(mark)
                got = self.client.arrivals.setdefault(mark, [0, 0.0])
                got[0] += 1
                got[1] = max(got[1], now)
        self.tail = text[-40:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.lost += 1


@dataclass
class Client:
    host: str
    port: int
    path: str
    n: int
    source: str
    request: bytes = b""
    opened: int = 0
    lost: int = 0
    arrivals: dict[bytes, list[Any]] = field(default_factory=dict)
    all_open: asyncio.Event = field(default_factory=asyncio.Event)
    listeners: list[Listener] = field(default_factory=list)

    async def open_all(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.request = (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
                        f"Accept: text/event-stream\r\n\r\n").encode()
        start, failed = time.monotonic(), 0
        gate = asyncio.Semaphore(200)

        async def one() -> None:
            nonlocal failed
            async with gate:
                sock = socket.socket()
                sock.setblocking(False)
                # Each process its own source address: ports never run out across rounds.
                sock.bind((self.source, 0))
                try:
                    await loop.sock_connect(sock, (self.host, self.port))
                    _, listener = await loop.create_connection(lambda: Listener(self), sock=sock)
                    self.listeners.append(listener)
                except OSError:
                    failed += 1
                    sock.close()

        await asyncio.gather(*(one() for _ in range(self.n)))
        if not failed:
            try:
                await asyncio.wait_for(self.all_open.wait(), 120)
            except TimeoutError:
                pass
        return {"opened": self.opened, "failed": failed, "s": time.monotonic() - start}

    def drop_all(self) -> dict[str, Any]:
        for listener in self.listeners:
            if listener.transport is not None:
                sock = listener.transport.get_extra_info("socket")
                # RST, as a phone that loses its network does not say goodbye either
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                listener.transport.abort()
        return {"dropped": len(self.listeners)}


async def client_main(host: str, port: int, path: str, n: int, source: str) -> None:
    client = Client(host, port, path, n, source)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while line := (await reader.readline()).decode().strip():
        if line == "open":
            say(await client.open_all())
        elif line == "arrivals":
            say({k.decode(): v for k, v in client.arrivals.items()})
        elif line == "drop":
            say(client.drop_all())
            await asyncio.sleep(0.5)
            return


if __name__ == "__main__":
    host, port, path, n, source = sys.argv[1:6]
    asyncio.run(client_main(host, int(port), path, int(n), source))
