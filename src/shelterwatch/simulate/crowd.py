"""The crowd's requests, sent from several client processes so that the server is what is measured.

One Python process with an HTTP client library spends more CPU per request than the server
spends answering it: at Kyiv's size (100,000 look-ups in a minute) the simulation's own client
was the bottleneck. Here the night's model stays in one process (it alone knows the doors and
the clock), and each request a resident's phone makes is handed, as one line of JSON, to one of
several `python -m shelterwatch.simulate.crowd` processes. Each keeps its own keep-alive
connections to the server and speaks plain HTTP/1.1 over them (a request line, headers, a body
of known length: what the server's answers are), and hands back one line: the status, the
server's latency, and what the resident reads from the answer (the ranked ids of a look-up).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

LINE_LIMIT = 1 << 20
ABANDONED = "Abandoned"  # a reply's error: the night ended, or the crowd stopped, first


@dataclass(frozen=True, slots=True)
class Reply:
    status: int  # 0: no answer (the connection failed, or the phone gave up waiting)
    latency_s: float
    ids: list[int] | None  # a look-up's ranked shelter ids
    error: str = ""


class Crowd:
    """The parent's side: requests out to the client processes, replies back as futures."""

    def __init__(self, base: str, *, processes: int, connections: int) -> None:
        self.base = base
        self.processes = processes
        self.connections = connections
        self.children: list[asyncio.subprocess.Process] = []
        self.readers: list[asyncio.Task[None]] = []
        self.pending: dict[int, asyncio.Future[Reply]] = {}
        self.ids = itertools.count()
        self.turn = itertools.cycle(range(processes))

    async def start(self) -> Crowd:
        for _ in range(self.processes):
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shelterwatch.simulate.crowd", self.base,
                str(self.connections), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
            self.children.append(child)
            self.readers.append(asyncio.get_running_loop().create_task(self._read(child)))
        return self

    def send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, json: Any = None,
             read_ids: bool = False, timeout_s: float | None = None) -> asyncio.Future[Reply]:
        """One request from a resident's phone; its reply once the server answers or the phone
        gives up (`timeout_s`, real seconds, counted in the client process from when it takes
        the request, so this process's own delays never pass for the server's)."""
        job = next(self.ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.pending[job] = future
        target = path + ("?" + urlencode(params) if params else "")
        child = self.children[next(self.turn)]
        assert child.stdin is not None
        child.stdin.write(orjson.dumps([job, method, target, headers or {}, json, read_ids,
                                        timeout_s]) + b"\n")
        return future

    def abandon(self) -> None:
        """Every request still waiting is answered `ABANDONED`: one call at the night's end
        instead of a timer beside each request, whatever becomes of a client process."""
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_result(Reply(0, 0.0, None, ABANDONED))

    async def _read(self, child: asyncio.subprocess.Process) -> None:
        assert child.stdout is not None
        while line := await child.stdout.readline():
            job, status, latency, ids, error = orjson.loads(line)
            future = self.pending.pop(job, None)
            if future is not None and not future.done():
                future.set_result(Reply(status, latency, ids, error))

    async def stop(self) -> None:
        """The night is over: requests still queued are never sent."""
        for child in self.children:
            if child.returncode is None:
                child.terminate()
        for child in self.children:
            await child.wait()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.abandon()


# -- the child: plain HTTP/1.1 over keep-alive connections -----------------------------------

class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, method: str, target: str, headers: dict[str, str],
                       body: bytes) -> tuple[int, bytes]:
        """One request and its answer; reconnects once when a kept-alive connection was closed."""
        for attempt in (0, 1):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            head = [f"{method} {target} HTTP/1.1", f"host: {self.host}:{self.port}",
                    f"content-length: {len(body)}"]
            if body:
                head.append("content-type: application/json")
            head += [f"{k}: {v}" for k, v in headers.items()]
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            try:
                return await self._answer()
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    async def _answer(self) -> tuple[int, bytes]:
        assert self.reader is not None
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise ConnectionError("a chunked answer: not one the crowd asks for")
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _serve(base: str, connections: int) -> None:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    # Replies are written without blocking: a parent busy starting a hundred thousand residents
    # must not stall the requests of the residents already asking.
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout)
    out = asyncio.StreamWriter(transport, protocol, None, loop)
    jobs: asyncio.Queue[list[Any] | None] = asyncio.Queue()

    async def work() -> None:
        connection = Connection(host, port)
        while (job := await jobs.get()) is not None:
            number, method, target, headers, body, read_ids, timeout_s, taken = job
            started = time.perf_counter()
            left = None if timeout_s is None else timeout_s - (started - taken)
            try:
                if left is not None and left <= 0:
                    raise TimeoutError  # the phone gave up before a connection was free
                status, answer = await asyncio.wait_for(connection.exchange(
                    method, target, headers, b"" if body is None else orjson.dumps(body)), left)
            except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError) as exc:
                connection.close()  # a phone that gives up drops its connection
                out.write(orjson.dumps([number, 0, time.perf_counter() - taken, None,
                                        type(exc).__name__]) + b"\n")
                continue
            latency = time.perf_counter() - taken  # queued for a connection included
            ids = None
            if read_ids and status == 200:
                ids = [r["shelter"]["properties"]["id"] for r in orjson.loads(answer)["results"]]
            out.write(orjson.dumps([number, status, latency, ids, ""]) + b"\n")
        connection.close()

    workers = [loop.create_task(work()) for _ in range(connections)]
    while line := await stdin.readline():
        await jobs.put([*orjson.loads(line), time.perf_counter()])
    for _ in workers:
        await jobs.put(None)
    await asyncio.gather(*workers, return_exceptions=True)
    await out.drain()


def main() -> None:
    base, connections = sys.argv[1], int(sys.argv[2])
    try:
        asyncio.run(_serve(base, connections))
    except (KeyboardInterrupt, BrokenPipeError):
        os._exit(0)


if __name__ == "__main__":
    main()
