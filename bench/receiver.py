"""A minimal keep-alive HTTP receiver (raw asyncio, its own process): answers every POST 200;
on SIGTERM writes each request's wall-clock arrival and delivery key to the file in argv[2].

    python bench/receiver.py PORT OUT.json
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


async def main(port: int, out: str) -> None:
    arrivals: list[tuple[float, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, key = 0, ""
                for line in head.split(b"\r\n"):
                    lower = line.lower()
                    if lower.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                    elif lower.startswith(b"x-shelterwatch-delivery:"):
                        key = line.split(b":", 1)[1].strip().decode()
                if length:
                    await reader.readexactly(length)
                arrivals.append((time.time(), key))
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    async with server:
        await done.wait()
    with open(out, "w") as fh:
        json.dump(arrivals, fh)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
