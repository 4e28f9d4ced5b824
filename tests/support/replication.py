"""Two real PostgreSQL clusters on this machine: a primary and its synchronous standby.

Made the way deploy/POSTGRES-REPLICATION.md tells a city's admin to: `initdb`, a replication
entry in pg_hba.conf, `pg_basebackup -R` for the standby, `synchronous_standby_names` naming it,
`pg_ctl promote` when the primary dies. The clusters run as the `postgres` system user when the
tests run as root (initdb refuses root), each on its own loopback port and socket directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.server import free_port


def _server_bin() -> Path:
    """Debian's server binaries: SHELTERWATCH_PG_BIN, else 15 (Debian 12), else the newest."""
    if os.environ.get("SHELTERWATCH_PG_BIN"):
        return Path(os.environ["SHELTERWATCH_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    preferred = Path("/usr/lib/postgresql/15/bin")
    return preferred if preferred.is_dir() or not found else found[-1]


BIN = _server_bin()
STANDBY_NAME = "standby1"
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def missing_tools() -> str | None:
    """Why the replication tests cannot run here, or None when they can."""
    absent = [t for t in TOOLS if not (BIN / t).is_file()]
    if absent:
        return f"PostgreSQL server binaries not found in {BIN} ({', '.join(absent)}); " \
               "install postgresql-15 or set SHELTERWATCH_PG_BIN"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no `postgres` system user to run the clusters as"
    return None


def _as_owner() -> list[str]:
    """The command prefix that runs a PostgreSQL tool as a user initdb accepts."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(*args: str) -> None:
    subprocess.run([*_as_owner(), *args], check=True, capture_output=True, timeout=120)


@dataclass
class Cluster:
    """One PostgreSQL server: its data directory, port and the server settings it runs with."""

    data: Path
    port: int
    options: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = " ".join(f"-c {k}={v}" for k, v in {
            "listen_addresses": "127.0.0.1", "port": str(self.port),
            "unix_socket_directories": f"'{self.data.parent}'", **self.options}.items())
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data.parent /
             f"{self.data.name}.log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and every process it started, at once: the machine died."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        doomed = [pid, *_children(pid)]
        for p in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in doomed):
            time.sleep(0.05)

    def promote(self) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "promote")

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                             autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql)
            return list(cur.fetchall()) if cur.description else []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after its closing paren
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has died; only its parent (pg_ctl's, long gone: init) has not reaped it yet
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@dataclass
class ReplicatedPostgres:
    """A primary whose every commit waits for the standby to have it on disk."""

    root: Path
    primary: Cluster
    standby: Cluster

    def multi_host_url(self, dbname: str) -> str:
        """What every node is given: both servers, and only the writable one accepted."""
        return (f"postgresql://postgres@127.0.0.1:{self.primary.port},"
                f"127.0.0.1:{self.standby.port}/{dbname}?target_session_attrs=read-write")

    def standby_url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.standby.port}/{dbname}"

    def wait_in_sync(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = self.primary.execute(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = "
                f"'{STANDBY_NAME}'")
            if rows and rows[0][0] == "sync":
                return
            time.sleep(0.1)
        raise RuntimeError("the standby never became synchronous")

    def close(self) -> None:
        for cluster in (self.standby, self.primary):
            cluster.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def replicated_postgres() -> Iterator[ReplicatedPostgres]:
    """Start a primary and a synchronous standby made from its base backup; removed after."""
    root = Path(tempfile.mkdtemp(prefix="shelterwatch-replication-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary = Cluster(root / "primary", free_port(), {
        "wal_level": "replica", "max_wal_senders": "5", "hot_standby": "on",
        "synchronous_commit": "on", "synchronous_standby_names": f"'{STANDBY_NAME}'",
        # a test machine: keep WAL small and checkpoints quick; fsync stays on
        "max_wal_size": "256MB", "shared_buffers": "32MB"})
    standby = Cluster(root / "standby", free_port(), {
        "hot_standby": "on", "shared_buffers": "32MB",
        "hot_standby_feedback": "on", "wal_receiver_status_interval": "1s"})
    pair = ReplicatedPostgres(root, primary, standby)
    try:
        _run(str(BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8", "--locale", "C")
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        _run(str(BIN / "pg_basebackup"), "-D", str(standby.data), "-R", "-X", "stream",
             "-c", "fast", "-d", f"host=127.0.0.1 port={primary.port} user=postgres "
             f"application_name={STANDBY_NAME}")
        standby.start()
        pair.wait_in_sync()
        yield pair
    finally:
        pair.close()
