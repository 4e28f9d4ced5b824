"""Every shelter's status in memory, kept current from `status.changed` facts.

The public reads (`/v1/shelters`, the pack, `/v1/nearest`) must not query the database per
shelter; this board is loaded once at start-up and then follows the log, so a status changed by
any process shows in this one within a second. It is the process's one status projection: the
shelter index ranks by its `statuses` rather than following the same facts a second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.log.follower import LogFollower
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.observations.service import public_status, worded
from shelterwatch.vocabulary import FactKind, Status

STATUS_KIND = FactKind.STATUS_CHANGED
logger = logging.getLogger(__name__)


class StatusBoard:
    """shelter id → public status; `apply` is a LogFollower subscriber."""

    def __init__(self) -> None:
        self._by_shelter: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, Status] = {}  # the same, as the ranking reads it (kept in place)
        self._lock = threading.Lock()
        self.version = 0
        self._listeners: list[Callable[[], None]] = []

    def load(self, database_url: str) -> None:
        with db.reading(database_url) as session:
            rows = session.execute(select(ShelterStatus)).scalars().all()
            loaded = {r.shelter_id: public_status(r) for r in rows}
        with self._lock:
            self._by_shelter = loaded
            self.statuses.clear()
            self.statuses.update({sid: Status(v["status"]) for sid, v in loaded.items()})
            self.version += 1

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def apply(self, facts: Sequence[Fact]) -> None:
        changed = False
        for fact in facts:
            if fact.kind != STATUS_KIND:
                continue
            payload = orjson.loads(fact.payload)
            try:
                sid, status, shown = int(payload["shelter_id"]), Status(payload["status"]), \
                    worded(payload)
            except (KeyError, TypeError, ValueError):
                logger.warning("status fact %s has no usable status", fact.seq)
                continue
            with self._lock:
                self._by_shelter[sid] = shown
                self.statuses[sid] = status
                self.version += 1
            changed = True
        if changed:
            for listener in self._listeners:
                listener()

    def get(self, shelter_id: int) -> dict[str, Any]:
        found = self._by_shelter.get(shelter_id)
        return found if found is not None else public_status(None, shelter_id)

    def snapshot(self) -> dict[int, dict[str, Any]]:
        with self._lock:
            return dict(self._by_shelter)


def start(database_url: str, follower: LogFollower) -> StatusBoard:
    """The board loaded, then following the log."""
    board = StatusBoard()
    board.load(database_url)
    follower.subscribe(board.apply)
    return board
