"""Every shelter's status in memory, kept current from `status.changed` facts.

The public reads (`/v1/shelters`, the pack) must not query the database per shelter; this board is
loaded once at start-up and then follows the log, so a status changed by any process shows in this
one within a second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.observations.service import public_status, worded
from shelterwatch.vocabulary import FactKind

STATUS_KIND = FactKind.STATUS_CHANGED


class StatusBoard:
    """shelter id → public status; `apply` is a LogFollower subscriber."""

    def __init__(self) -> None:
        self._by_shelter: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.version = 0
        self._listeners: list[Callable[[], None]] = []

    def load(self, database_url: str) -> None:
        with db.reading(database_url) as session:
            rows = session.execute(select(ShelterStatus)).scalars().all()
            loaded = {r.shelter_id: public_status(r) for r in rows}
        with self._lock:
            self._by_shelter = loaded
            self.version += 1

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def apply(self, facts: Sequence[Fact]) -> None:
        changed = False
        for fact in facts:
            if fact.kind != STATUS_KIND:
                continue
            payload = orjson.loads(fact.payload)
            shown = worded(payload)
            with self._lock:
                self._by_shelter[int(payload["shelter_id"])] = shown
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


def on_startup(app: FastAPI) -> None:
    """Load the board, follow the log, and offer `status_of` to the registry's views."""
    board = StatusBoard()
    board.load(app.state.settings.database_url)
    app.state.follower.subscribe(board.apply)
    app.state.status_board = board
    app.state.status_of = board.get
