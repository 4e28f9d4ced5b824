"""The offline pack: every shelter with its public fields and status, as one JSON document.

During the first minute of an alert most look-ups run on phones from this pack, so the server's hot
path is its ETag check. The bytes are rebuilt only after a relevant fact (a status change, a
registry change) arrives, and the ETag is the digest of the bytes, so it changes exactly when the
content does.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import service as alerts
from shelterwatch.areas import service as areas
from shelterwatch.areas.models import Area
from shelterwatch.audits import readiness_store
from shelterwatch.log.models import Fact
from shelterwatch.rules import readiness, warning
from shelterwatch.shelters import service as shelters
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import ALERT_KINDS, REGISTRY_KINDS, FactKind

FORMAT = 1
# What changes the pack: a status, the registry (an audit's ghost finding and its restoration
# too), a readiness category, the alerts in force.
RELEVANT = frozenset({FactKind.STATUS_CHANGED, *REGISTRY_KINDS, *ALERT_KINDS,
                      FactKind.SHELTER_GHOSTED, FactKind.SHELTER_RESTORED,
                      FactKind.READINESS_CHANGED})


@dataclass(frozen=True, slots=True)
class Pack:
    body: bytes
    gzipped: bytes
    etag: str


def shelter_entry(shelter: Any, status: dict[str, Any],
                  ready: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One shelter (a row or object with the registry's columns) as the pack carries it: public
    fields only, never the owner or keyholders; its audited readiness with the reasons."""
    entry = {
        "id": shelter.id, "name": shelter.name, "address": shelter.address,
        "lat": shelter.lat, "lon": shelter.lon, "kind": shelter.kind,
        "capacity": shelter.capacity, "step_free": shelter.step_free,
        "obligation": shelter.obligation, "facilities": orjson.loads(shelter.facilities or "[]"),
        "area_id": shelter.area_id, "status": status["status"],
        "confidence": status["confidence"], "explanation": status["explanation"],
        "readiness": readiness.in_order(ready),
        "source": shelter.source,
    }
    card = shelters.card_fields(shelter.details)
    if card:
        entry["card"] = card
    return entry


def alert_entries(session: Session, *, now: datetime,
                  config: warning.WarningConfig) -> list[dict[str, Any]]:
    """The alerts in force with their start and warning time: offline, the phone must still say
    "air-raid alert since 23:49", never "no alert", during an alert."""
    out = []
    for alert in alerts.list_active(session, now=now):
        chain = tuple(areas.ancestors_of(session, alert.area_id))
        out.append({**alerts.public_fields(alert),
                    "warning_s": warning.seconds_for(alerts.as_rule_input(alert), chain, config)})
    return out


def area_parents(session: Session) -> dict[str, str | None]:
    """Each area that holds shelters, with its ancestors: the phone walks this to know whether an
    alert on an oblast or a city covers a shelter in one of its districts."""
    rows = session.execute(select(Area.id, Area.parent_id)).all()
    tree: dict[str, str | None] = {row[0]: row[1] for row in rows}
    parents: dict[str, str | None] = {}
    for area_id in session.execute(select(Shelter.area_id).distinct()).scalars():
        current: str | None = area_id
        while current is not None and current not in parents:
            parents[current] = tree.get(current)
            current = parents[current]
    return parents


def build(session: Session, status_of: Callable[[int], dict[str, Any]], *,
          now: datetime | None = None, config: warning.WarningConfig | None = None) -> Pack:
    """Serialise the pack from the registry, the statuses, the audits' readiness and the
    alerts in force. Ghosts (an audit found no shelter there) are not in it."""
    shelters = session.execute(select(Shelter).order_by(Shelter.id)).scalars().all()
    ready = readiness_store.readiness_by_shelter(session)
    ghosts = readiness_store.ghost_ids(session)
    content: dict[str, Any] = {"format": FORMAT, "shelters": [
        shelter_entry(s, status_of(s.id), ready.get(s.id)) for s in shelters
        if s.id not in ghosts]}
    if now is not None and config is not None:
        content.update(extras(session, now=now, config=config))
    return sealed(orjson.dumps(content))


def extras(session: Session, *, now: datetime,
           config: warning.WarningConfig) -> dict[str, Any]:
    """What the pack carries beside the shelters, in the order it is written: when it was made,
    the alerts in force and the area tree they are walked on."""
    return {"generated_at": now.isoformat(),
            "alerts": alert_entries(session, now=now, config=config),
            "area_parents": area_parents(session)}


def etag_of(body: bytes) -> str:
    """The content's ETag: it changes exactly when the bytes do."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def sealed(body: bytes) -> Pack:
    """The pack of these bytes: compressed once, tagged by its content."""
    return Pack(body=body, gzipped=gzip.compress(body, 6, mtime=0), etag=etag_of(body))


class PackCache:
    """Holds the current pack; marks it stale when a relevant fact arrives."""

    def __init__(self, build_pack: Callable[[], Pack]) -> None:
        self._build = build_pack
        self._pack: Pack | None = None
        self._stale = True
        self._lock = threading.Lock()
        self.builds = 0

    def mark_stale(self) -> None:
        self._stale = True

    def apply(self, facts: Sequence[Fact]) -> None:
        if any(f.kind in RELEVANT for f in facts):
            self._stale = True

    def current(self) -> Pack:
        """The newest pack. One request rebuilds a stale pack; while it does, the others are
        answered with the previous pack (consistent with its own ETag) instead of queueing
        behind the rebuild, so the ETag checks of an alert's first minute never wait."""
        pack = self._pack
        if pack is not None and not self._stale:
            return pack
        if pack is not None and not self._lock.acquire(blocking=False):
            return pack
        if pack is None:
            self._lock.acquire()  # the first build: everyone waits for it
        try:
            if self._pack is None or self._stale:
                self._stale = False
                self._pack = self._build()
                self.builds += 1
            return self._pack
        finally:
            self._lock.release()
