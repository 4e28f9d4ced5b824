"""Follows the fact log so a long-running process refreshes its in-memory state (DESIGN §6).

Each process applies facts with a seq greater than the last it applied. A commit in this process
that appended facts wakes it at once. Other processes' facts: on PostgreSQL LISTEN/NOTIFY wakes it;
on SQLite (or if LISTEN fails) it looks several times a second, and on SQLite the look is
`PRAGMA data_version` on a connection of its own (a counter in shared memory that moves when
another connection commits), so an idle log costs no query.

A wake-up names the seq its commit reached (a NOTIFY's payload, a commit of this process). The
report writer hands its process the facts of each batch it committed (`hand_over`: read your
writes without reading them back), so by the time the batch's wake-up comes the follower has
applied it already and reads nothing, where it read the head and the log again for every
batch, on the CPU the residents' requests need.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import make_url

from shelterwatch import db
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact

logger = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[Fact]], None]
BATCH = 2000  # facts read and handed over at once
HAND_OVER_GRACE_S = 0.02  # how long a notified follower lets its own writer hand over first


class LogFollower:
    """A background thread that hands every new fact to its subscribers, in seq order.

    `skip`: kinds none of this process's subscribers acts on. The database leaves them out, so
    they cost the process nothing: an API node never loads the ten thousand delivery facts of an
    alert's surge (each was a Python object built, looked at and dropped, on the CPU the
    residents' requests need). The follower still moves past them.
    """

    def __init__(self, database_url: str, *, interval_s: float = 0.25, start_seq: int = 0,
                 skip: Collection[str] = ()) -> None:
        self.database_url = database_url
        self.interval_s = interval_s
        self.applied_seq = start_seq
        self.skip = frozenset(skip)
        self._subscribers: list[Subscriber] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # catch-up requests numbered as they come, and the newest one a finished catch-up covered
        self._asks = itertools.count(1)
        self._asked = 0
        self._covered = 0
        self._unregister: Callable[[], None] | None = None
        # What woke the follower: commits up to the seq they named (read only if not applied
        # yet), or something that named none (read).
        self._local = False
        self._announced = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def catch_up(self, *, seen: int | None = None) -> int:
        """Apply every fact committed before this call; returns the last applied seq.

        Safe to call anytime. Many callers at once (every report's read-your-writes) share one
        read of the log: a catch-up whose read began after this call covers everything this
        caller committed, so it waits for that one instead of queueing a read of its own.
        `seen`: the caller knows of nothing committed past this seq, so once it is applied
        there is nothing to read.
        """
        ask = self._asked = next(self._asks)
        with self._lock:
            if self._covered >= ask or (seen is not None and self.applied_seq >= seen):
                return self.applied_seq
            covers = self._asked  # every ask up to here committed before the read below
            session = db.session_factory(self.database_url, write=False)()
            try:
                # With kinds to skip, the head bounds the read: what lies before it is
                # committed, so the follower may move to it past facts it never loaded.
                upto = log.head_seq(session) if self.skip else None
                while True:
                    facts = log.after(session, self.applied_seq, limit=BATCH, upto=upto,
                                      skip=self.skip)
                    if facts:
                        self._hand(facts)
                        self.applied_seq = facts[-1].seq
                    if len(facts) < BATCH:
                        if upto is not None:
                            self.applied_seq = max(self.applied_seq, upto)
                        break
            finally:
                session.rollback()
                session.close()
            self._covered = max(self._covered, covers)
            return self.applied_seq

    def hand_over(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Apply facts this process has just committed, as it wrote them (`log.chained` rows,
        in seq order), without reading them back: True once they are applied; False when they
        do not follow what was applied (another process's facts came between: the caller
        catches up by reading, which keeps the order)."""
        if not rows:
            return False
        first, last = rows[0]["seq"], rows[-1]["seq"]
        with self._lock:
            if self.applied_seq >= last:
                return True
            if self.applied_seq != first - 1 or last - first + 1 != len(rows):
                return False
            facts = [Fact(**row) for row in rows if row["kind"] not in self.skip]
            if facts:
                self._hand(facts)
            self.applied_seq = last
            return True

    def _hand(self, facts: Sequence[Fact]) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(facts)
            except Exception:  # one bad subscriber must not stop the others
                logger.exception("log subscriber failed at seq %s", facts[-1].seq)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._unregister = log.on_commit(self._committed_here)
        self._thread = threading.Thread(target=self._run, name="log-follower", daemon=True)
        self._thread.start()
        if not db.is_sqlite(self.database_url):
            threading.Thread(target=self._listen, name="log-listen", daemon=True).start()

    def stop(self) -> None:
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _committed_here(self, seq: int) -> None:
        self._announced = max(self._announced, seq)
        self._wake.set()

    def _notified(self, payload: str) -> None:
        try:
            self._announced = max(self._announced, int(payload))
        except ValueError:  # a notification that names no seq: read
            self._local = True
        self._wake.set()

    def _run(self) -> None:
        changed = _change_counter(self.database_url)
        woken, seen = True, None
        while not self._stop.is_set():
            try:
                if woken or changed is None or changed():
                    self.catch_up(seen=seen)
            except Exception:  # the database may be restarting; keep following
                logger.exception("following the fact log failed; retrying")
            woken = self._wake.wait(self.interval_s)
            self._wake.clear()
            local, self._local = self._local, False
            seen = self._announced if woken and not local else None
            if seen is not None and self.applied_seq < seen:
                # A notification can outrun the hand-over of this process's own batch (the
                # writer is between its commit and `hand_over`): a moment's grace spares a read.
                self._stop.wait(HAND_OVER_GRACE_S)

    def _listen(self) -> None:
        import psycopg  # only on PostgreSQL

        conninfo = db.libpq_conninfo(self.database_url)  # every host of a list: follows failover
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {log.NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=1.0, stop_after=1):
                            self._notified(notice.payload)
            except Exception as exc:
                logger.warning("LISTEN failed (%s); polling instead", exc)
                self._stop.wait(5)


def _change_counter(database_url: str) -> Callable[[], bool] | None:
    """On a SQLite file: whether another connection committed since the last call (cheap, no
    table read); None elsewhere (PostgreSQL is woken by NOTIFY, a memory database has no file).
    """
    if not db.is_sqlite(database_url):
        return None
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    last = [-1]

    def changed() -> bool:
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        moved, last[0] = version != last[0], version
        return moved

    return changed
