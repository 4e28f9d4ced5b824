"""A real shelterwatch server in a subprocess, on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from shelterwatch import db
from shelterwatch.auth import service as auth
from shelterwatch.clock import utcnow
from tests.support.databases import Templates
from tests.support.kyiv import import_kyiv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChildProcess:
    """A shelterwatch process in its own process group, so a kill takes all its children."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self, args: list[str]) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", *args], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, exactly like a power cut for the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class LiveServer(ChildProcess):
    """`uvicorn shelterwatch.asgi:app` with the test's environment; can be killed and restarted."""

    ready_path = "/v1/areas"

    def __init__(self, env: Mapping[str, str], log_path: Path, workers: int = 1) -> None:
        super().__init__(env, log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers

    def command(self) -> list[str]:
        return ["uvicorn", "shelterwatch.asgi:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning"]

    def start(self, timeout_s: float = 30.0) -> LiveServer:
        self.spawn(self.command())
        return self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float = 30.0) -> LiveServer:
        """Until it answers (several servers started at once start side by side)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")


class ServeNode(LiveServer):
    """An API node as a city runs it: `shelterwatch serve --port N`."""

    def command(self) -> list[str]:
        return ["shelterwatch.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)]


class StreamNode(LiveServer):
    """The live stream's own process: `shelterwatch stream --port N`."""

    ready_path = "/v1/health/live"

    def command(self) -> list[str]:
        return ["shelterwatch.cli.main", "stream", "--host", "127.0.0.1", "--port", str(self.port)]


@contextmanager
def kyiv_server(templates: Templates, where: Path, **env: str
                ) -> Iterator[tuple[LiveServer, str]]:
    """A real server over its own copy of the Kyiv registry, following the log every 0.1 s;
    stopped, and its database dropped, at the end. `env` adds or overrides settings."""
    url = templates.copy("kyiv", import_kyiv)
    server = LiveServer({"DATABASE_URL": url, "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.1", **env},
                        where / "server.log")
    try:
        server.start()
        yield server, url
    finally:
        server.stop()
        templates.drop(url)


def start_alert(server: LiveServer, database_url: str, area_id: str = "31",
                threat: str = "ballistic") -> tuple[int, dict[str, str]]:
    """An air-raid alert started by a new operator through the server's API: its id, and the
    operator's headers to end it with (`POST /v1/alerts/{id}/end`)."""
    with db.transaction(database_url) as s:
        _, token = auth.create(s, role="operator", name="Черговий", now=utcnow())
    headers = {"Authorization": f"Bearer {token}"}
    started = httpx.post(f"{server.url}/v1/alerts", headers=headers,
                         json={"area_id": area_id, "type": "air_raid", "threat": threat})
    assert started.status_code == 201, started.text
    return int(started.json()["id"]), headers
