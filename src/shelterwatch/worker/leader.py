"""One leader per singleton job among all the workers of a deployment.

Most of the worker's work is shared safely (timers and deliveries are claimed rows). A few jobs
must have one doer: the signed tree heads (two workers would sign with two keys), the published
pack (two writers of one directory), an alert feed's poller (a provider's rate limit is per key),
the statistics' rollups. Each job is led by whoever holds its lock, and a lock dies with its
holder:

- PostgreSQL: a session-level advisory lock on a connection of its own. A worker killed, its
  machine powered off or cut from the network loses the connection and with it the lock; the
  server releases it and the next worker's try takes it (on a cut, once TCP keep-alives give
  up: `keepalives_idle`, below).
- SQLite (one machine): an exclusive `flock` on a file beside the database, released by the
  kernel when the process dies.

A leader re-checks its lock each time it is asked, so one that has lost its connection stops
leading at its next step rather than running on beside its successor.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from shelterwatch import db

logger = logging.getLogger(__name__)


class Singleton(enum.StrEnum):
    """The jobs that one worker of a deployment does."""

    SIGNED_HEADS = "signed-heads"  # the Merkle tree and its signed heads, and the rollups
    PACK = "pack"  # the published offline pack
    FEED = "feed"  # an alert provider's poller (one lock per provider: feed:alerts-in-ua)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job name (the same on every node)."""
    digest = hashlib.sha256(f"shelterwatch:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """Whether this process leads job `name` now; tries to become leader when asked."""

    def __init__(self, database_url: str, name: str) -> None:
        self.url = database_url
        self.name = name
        self._conn: Any = None  # psycopg connection holding the advisory lock
        self._file: IO[bytes] | None = None
        self.leading = False

    def held(self) -> bool:
        """True while this process holds the job's lock (taking it if free)."""
        try:
            was = self.leading
            self.leading = self._check() if self.leading else self._take()
        except Exception as exc:  # the database is away: nobody leads from here until it is back
            logger.warning("leadership of %s unknown (%s); not leading", self.name, exc)
            self.release()
        if self.leading != was:
            logger.info("%s leadership of %s", "took" if self.leading else "lost", self.name)
        return self.leading

    def release(self) -> None:
        """Give the job up (on stop); a successor takes it at its next try."""
        self.leading = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                # unlock before closing: a closed connection's backend drops its locks only
                # when it exits, a moment later, and a successor trying then would miss
                self._conn.execute("SELECT pg_advisory_unlock_all()")
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def _take(self) -> bool:
        if db.is_sqlite(self.url):
            return self._take_file()
        import psycopg

        if self._conn is None or self._conn.closed:
            # keep-alives: a holder cut off from the network loses the lock within ~30 s
            self._conn = psycopg.connect(db.libpq_conninfo(self.url), autocommit=True,
                                         connect_timeout=5, keepalives=1, keepalives_idle=10,
                                         keepalives_interval=5, keepalives_count=3)
        got = self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                 (lock_key(self.name),)).fetchone()
        return bool(got and got[0])

    def _check(self) -> bool:
        if db.is_sqlite(self.url):
            return True  # a flock lasts as long as its descriptor
        # A session-level lock lives exactly as long as the session that took it.
        try:
            self._conn.execute("SELECT 1")
        except Exception:
            self.release()
            return False
        return True

    def _take_file(self) -> bool:
        path = make_url(self.url).database
        if not path or path == ":memory:":
            return True  # a database in memory belongs to this one process
        lock_path = Path(f"{path}.{self.name.replace(':', '-')}.leader")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)
        self._file = handle
        return True
