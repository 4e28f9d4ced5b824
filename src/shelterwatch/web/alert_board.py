"""The alerts in force and the area tree, held in memory for the resident's hot path.

`/v1/nearest` must say whether the resident is under alert and how many seconds they have without a
database round trip, so each process keeps the active alerts (from `alert.started` / `alert.ended`
facts) and the area parents (from `area.*` facts) and asks the pure `rules.warning` rule.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import service as alerts
from shelterwatch.areas.models import Area
from shelterwatch.clock import as_utc
from shelterwatch.log.models import Fact
from shelterwatch.rules import warning
from shelterwatch.vocabulary import AlertType, FactKind, Threat

AREA_KINDS = frozenset({FactKind.AREA_CREATED, FactKind.AREA_UPDATED})


def _alert_from_payload(payload: dict[str, Any]) -> warning.ActiveAlert:
    ended = payload.get("ended_at")
    return warning.ActiveAlert(
        id=int(payload["id"]), area_id=str(payload["area_id"]), type=AlertType(payload["type"]),
        threat=Threat(payload.get("threat") or Threat.UNKNOWN),
        started_at=as_utc(datetime.fromisoformat(payload["started_at"])),
        ended_at=as_utc(datetime.fromisoformat(ended)) if ended else None,
        source=str(payload.get("source") or ""),
    )


class AlertBoard:
    """Active alerts by id, the area tree, and the warning-time configuration."""

    def __init__(self, config: warning.WarningConfig,
                 parents: dict[str, str | None] | None = None,
                 active: Sequence[warning.ActiveAlert] = ()) -> None:
        self.config = config
        self._parents: dict[str, str | None] = dict(parents or {})
        self._chains: dict[str, tuple[str, ...]] = {}
        self._active: dict[int, warning.ActiveAlert] = {a.id: a for a in active}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, session: Session, *, now: datetime,
             config: warning.WarningConfig) -> AlertBoard:
        parents = dict(session.execute(select(Area.id, Area.parent_id)).all())
        active = [alerts.as_rule_input(a) for a in alerts.list_active(session, now=now)]
        return cls(config, parents, active)

    def chain(self, area_id: str) -> tuple[str, ...]:
        """The area and its ancestors, nearest first (cached: the tree rarely changes)."""
        cached = self._chains.get(area_id)
        if cached is not None:
            return cached
        out: list[str] = []
        current: str | None = area_id
        while current is not None and current not in out:
            out.append(current)
            current = self._parents.get(current)
        self._chains[area_id] = chain = tuple(out)
        return chain

    def warning_at(self, area_id: str | None, now: datetime) -> warning.AlertWarning:
        """The most urgent alert covering this area at `now`, or a calm verdict."""
        if area_id is None or not self._active:
            return warning.AlertWarning.calm()
        return warning.warning_for(self._active.values(), self.chain(area_id), self.config, now)

    def has_active(self) -> bool:
        return bool(self._active)

    def active(self) -> list[warning.ActiveAlert]:
        return list(self._active.values())

    def apply(self, facts: Sequence[Fact]) -> None:
        """Take in new facts (a LogFollower subscriber)."""
        for fact in facts:
            if fact.kind == FactKind.ALERT_STARTED:
                alert = _alert_from_payload(orjson.loads(fact.payload))
                with self._lock:
                    self._active = {**self._active, alert.id: alert}
            elif fact.kind == FactKind.ALERT_ENDED:
                payload = orjson.loads(fact.payload)
                with self._lock:
                    self._active = {k: v for k, v in self._active.items()
                                    if k != int(payload["id"])}
            elif fact.kind in AREA_KINDS and "id" in (p := orjson.loads(fact.payload)):
                with self._lock:
                    self._parents[str(p["id"])] = p.get("parent_id")
                    self._chains = {}
