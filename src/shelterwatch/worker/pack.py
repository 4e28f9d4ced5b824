"""The worker's pack publisher: follows the log, updates the touched entries, republishes.

A process of its own (a thread of the worker), it owns the read transactions it needs; the pack
domain (`pack.incremental`, `pack.service`, `pack.published`) reads in whatever session it is
handed and never opens one.

Facts arrive in batches from the log follower; the publisher applies them to its
`IncrementalPack` at once and renders and publishes at most every `min_interval_s`, so a burst of
reports during an alert costs one publish per interval, and a status change reaches the
published file within a fraction of a second.

The start's one big read (every shelter, status and readiness) may go to a replica
(`SHELTERWATCH_REPLICA_URL`), off the primary: it is one snapshot together with the last fact
applied there, and the facts after that one are then read from the primary, so a replica that
lags (or whose replay is paused) delays nothing and drops nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.pack import published
from shelterwatch.pack import service as packs
from shelterwatch.pack.incremental import GHOST_KINDS, REGISTRY_KINDS, IncrementalPack
from shelterwatch.rules import warning
from shelterwatch.vocabulary import FactKind

logger = logging.getLogger(__name__)
RELEVANT = (FactKind.STATUS_CHANGED, *REGISTRY_KINDS, FactKind.ALERT_STARTED,
            FactKind.ALERT_ENDED, FactKind.AREA_CREATED, FactKind.AREA_UPDATED,
            FactKind.READINESS_CHANGED, *GHOST_KINDS)
CATCH_UP_BATCH = 1000


class PackPublisher:
    def __init__(self, database_url: str, directory: Path, *,
                 config: warning.WarningConfig | None = None,
                 min_interval_s: float = 0.2,
                 may_publish: Callable[[], bool] = lambda: True,
                 load_url: str | None = None) -> None:
        self.url, self.directory = database_url, directory
        self.load_url = load_url or database_url  # where the start's snapshot is read
        # Several workers keep the pack current; only the one leading it writes the directory
        # (worker.leader), and a successor publishes at once from its own current copy.
        self.may_publish = may_publish
        self.config = config  # warning times for the alerts the pack carries
        self.min_interval_s = min_interval_s
        self.pack = IncrementalPack()
        self.dirty = threading.Event()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.published_at = 0.0  # time.time() of the last publish, for /metrics
        self.publishes = 0

    def start(self) -> PackPublisher:
        """Load once (the worker's start, never a request) and publish; then follow."""
        with db.snapshot(self.load_url) as session:
            self.pack.load(session)
        self._catch_up()
        if self.may_publish():
            self._publish()
        self.thread = threading.Thread(target=self._run, name="pack", daemon=True)
        self.thread.start()
        return self

    def _catch_up(self) -> None:
        """Apply what the primary's log holds after the loaded snapshot's last fact."""
        cursor = self.pack.seq
        with db.reading(self.url) as session:
            while facts := log.after(session, cursor, limit=CATCH_UP_BATCH):
                cursor = facts[-1].seq
                self.pack.apply(session, [f for f in facts if f.kind in RELEVANT])

    def on_facts(self, facts: Sequence[Fact]) -> None:
        """A log follower subscriber."""
        relevant = [f for f in facts if f.kind in RELEVANT]
        if not relevant:
            return
        if any(f.kind in REGISTRY_KINDS for f in relevant):
            with db.reading(self.url) as session:
                self.pack.apply(session, relevant)
        else:
            self.pack.apply(None, relevant)
        self.dirty.set()

    def _publish(self) -> None:
        extras = None
        if self.config is not None:
            with db.reading(self.url) as session:
                extras = packs.extras(session, now=utcnow(), config=self.config)
        if published.publish(self.directory, self.pack.render(extras)):
            self.publishes += 1
        self.published_at = time.time()

    def _run(self) -> None:
        leading = self.publishes > 0
        while not self.stop_event.is_set():
            if not self.may_publish():
                leading = False
                self.stop_event.wait(0.5)
                continue
            if leading and not self.dirty.wait(0.5):
                continue
            leading = True  # a new leader publishes what it holds without waiting for news
            self.dirty.clear()
            try:
                self._publish()
            except OSError:
                logger.exception("could not publish the pack to %s; retrying", self.directory)
                self.dirty.set()
            self.stop_event.wait(self.min_interval_s)

    def stop(self) -> None:
        self.stop_event.set()
        self.dirty.set()
        if self.thread:
            self.thread.join(10)
