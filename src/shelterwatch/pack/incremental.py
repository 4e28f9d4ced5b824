"""The offline pack kept entry by entry, so a status change re-serialises one shelter, not 65,000.

The worker holds every shelter's pack entry as its serialised bytes; a `status.changed` fact
replaces one entry from the fact's own payload (no database read), a registry fact re-reads just
the shelters it names. Rendering joins the bytes (milliseconds at national size); the result is
byte for byte what `pack.service.build` makes from scratch, so the ETag is the content's.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.audits import readiness_store
from shelterwatch.log.models import Fact
from shelterwatch.observations.models import ShelterStatus
from shelterwatch.observations.service import public_status, worded
from shelterwatch.pack.service import FORMAT, Pack, sealed, shelter_entry
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind

REGISTRY_KINDS = (FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED)
GHOST_KINDS = (FactKind.SHELTER_GHOSTED, FactKind.SHELTER_RESTORED)
COLUMNS = (Shelter.id, Shelter.name, Shelter.address, Shelter.lat, Shelter.lon, Shelter.kind,
           Shelter.capacity, Shelter.step_free, Shelter.obligation, Shelter.facilities,
           Shelter.area_id, Shelter.source, Shelter.details)


class IncrementalPack:
    """Every shelter's entry as bytes, kept current from facts; `render` makes the pack."""

    def __init__(self) -> None:
        self.rows: dict[int, Any] = {}
        self.statuses: dict[int, dict[str, Any]] = {}
        self.readiness: dict[int, Mapping[str, Any]] = {}  # the audits' readiness
        self.ghosts: set[int] = set()
        self.entries: dict[int, bytes] = {}
        self.order: list[int] = []
        self.lock = threading.Lock()
        self.touched = 0  # entries re-serialised since load, for tests and metrics
        # The last fact the entries reflect: what `load` read corresponds to the log up to it,
        # so a follower (or a catch-up) applies what came after and never a fact twice.
        self.seq = 0

    def load(self, session: Session) -> None:
        """Read the registry and statuses once (set-based, plain rows), and the log position
        they correspond to.

        Given a `db.snapshot` (a replica's included) every read here sees the same moment, so
        the position is exact: every fact the tables reflect is at or below it, every later one
        above it (facts and the state they change commit together).
        """
        seq = session.execute(select(func.coalesce(func.max(Fact.seq), 0))).scalar_one()
        rows = {r.id: r for r in session.execute(select(*COLUMNS))}
        statuses = {r.shelter_id: public_status(r)
                    for r in session.execute(select(ShelterStatus)).scalars()}
        ready: dict[int, Mapping[str, Any]] = dict(readiness_store.readiness_by_shelter(session))
        ghosts = set(readiness_store.ghost_ids(session))
        with self.lock:
            self.rows, self.statuses = rows, statuses
            self.readiness, self.ghosts = ready, ghosts
            self.entries = {sid: self._entry(sid) for sid in rows}
            self.order = sorted(sid for sid in rows if sid not in ghosts)
            self.seq = int(seq)

    def _entry(self, shelter_id: int) -> bytes:
        status = self.statuses.get(shelter_id) or public_status(None, shelter_id)
        return orjson.dumps(shelter_entry(self.rows[shelter_id], status,
                                          self.readiness.get(shelter_id)))

    def apply(self, session: Session | None, facts: Sequence[Fact]) -> int:
        """Bring the entries the facts touch up to date; returns how many were re-serialised.

        `session` reads the registry rows that registry facts name (None: no registry facts).
        Facts at or below `seq` are already reflected and are skipped.
        """
        facts = [f for f in facts if f.seq > self.seq]
        if not facts:
            return 0
        dirty: set[int] = set()
        registry: set[int] = set()
        for fact in facts:
            if fact.kind == FactKind.STATUS_CHANGED:
                payload = orjson.loads(fact.payload)
                sid = int(payload["shelter_id"])
                shown = worded(payload)
                with self.lock:
                    self.statuses[sid] = shown
                dirty.add(sid)
            elif fact.kind == FactKind.READINESS_CHANGED:
                payload = orjson.loads(fact.payload)
                sid = int(payload["shelter_id"])
                with self.lock:
                    self.readiness[sid] = payload["readiness"]
                dirty.add(sid)
            elif fact.kind in GHOST_KINDS:
                sid = int(orjson.loads(fact.payload)["shelter_id"])
                self._set_ghost(sid, fact.kind == FactKind.SHELTER_GHOSTED)
            elif fact.kind in REGISTRY_KINDS:
                registry.add(int(orjson.loads(fact.payload)["id"]))
        if registry and session is not None:
            for row in session.execute(select(*COLUMNS).where(Shelter.id.in_(sorted(registry)))):
                with self.lock:
                    if row.id not in self.rows and row.id not in self.ghosts:
                        bisect.insort(self.order, row.id)
                    self.rows[row.id] = row
                dirty.add(row.id)
        with self.lock:
            for sid in dirty:
                if sid in self.rows:
                    self.entries[sid] = self._entry(sid)
            self.touched += len(dirty)
            self.seq = max(self.seq, *(f.seq for f in facts))
        return len(dirty)

    def _set_ghost(self, shelter_id: int, ghost: bool) -> None:
        """Take a ghost's entry out of the pack's order (or put a restored one back)."""
        with self.lock:
            at = bisect.bisect_left(self.order, shelter_id)
            present = at < len(self.order) and self.order[at] == shelter_id
            if ghost:
                self.ghosts.add(shelter_id)
                if present:
                    del self.order[at]
            else:
                self.ghosts.discard(shelter_id)
                if not present and shelter_id in self.rows:
                    self.order.insert(at, shelter_id)

    def render(self, extras: Mapping[str, Any] | None = None) -> Pack:
        """The pack as `pack.service.build` would make it, from the kept entries and the
        `pack.service.extras` (alerts in force, when it was made) read at publish time."""
        with self.lock:
            joined = b",".join([self.entries[sid] for sid in self.order])
        tail = b"," + orjson.dumps(dict(extras))[1:-1] if extras else b""
        return sealed(b'{"format":%d,"shelters":[' % FORMAT + joined + b"]" + tail + b"}")
