"""Coverage that follows the doors: rebuilt when the registry changes, patched when a status does.

The API process keeps one model per area it serves (`SHELTERWATCH_COVERAGE_AREAS`: every area
with a shelter in it or under it, by default). Building one (Kyiv: ~8,000 cells and every shelter
within the walking horizon of each) takes seconds, so every such area is built in one background
thread when the process starts, one after the other, and again when the registry changes — never
because a request asked: a client cannot make the server compute anything, and an area not built
yet is answered "computing" (202), not 5xx. After that, every `status.changed` fact flips the
shelter's usability and only the cells that shelter served (or, if it reopened, could serve) look
again, so the figures reflect a door confirmed locked within the follower's interval. The
summaries per threat are recomputed then too, so a request only reads a ready dictionary.

The figure the operator needs during an alert is *newly out of reach*: people who could reach a
shelter if every registered door took them in, and cannot now.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.areas.models import Area
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.config import Settings
from shelterwatch.coverage import figures, sites
from shelterwatch.coverage import model as models
from shelterwatch.errors import ShelterwatchError
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.rules.coverage import BoolArray, Reach, is_usable, recompute_after_change
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import FactKind, Status, Threat

logger = logging.getLogger(__name__)
REGISTRY_KINDS = frozenset({FactKind.SHELTER_CREATED, FactKind.SHELTER_UPDATED})
RECENT_CHANGES = 20


def walk_params(settings: Settings) -> models.WalkParams:
    """Walking speeds and detour from the settings the resident page uses too."""
    return models.WalkParams(speed_mps=settings.walking_speed_mps,
                             reduced_mobility_speed_mps=settings.reduced_mobility_speed_mps,
                             detour_factor=settings.detour_factor,
                             horizon_s=max(settings.coverage_horizon_s, 1.0))


@dataclass(slots=True)
class AreaCoverage:
    """One area's model, its live reach, and the summaries a request reads."""

    model: models.CoverageModel
    statuses: dict[int, str]
    ghosts: frozenset[int]
    usable: BoolArray
    reach: tuple[Reach, Reach]
    baseline: dict[Threat, figures.Evaluation]
    hints: sites.Hints
    budget: int
    summaries: dict[Threat, dict[str, Any]] = field(default_factory=dict)
    changes: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_CHANGES))
    as_of_seq: int = 0
    built_s: float = 0.0
    last_recompute_s: float | None = None

    def refresh(self) -> None:
        """Re-derive every threat's summary, and the sites to fix, from the current reach
        (tens of ms for a city)."""
        out = {}
        for threat in Threat:
            ev = figures.evaluate(self.model, self.usable, self.reach, threat)
            out[threat] = figures.summary(self.model, self.usable, ev,
                                          baseline=self.baseline[threat],
                                          as_of_seq=self.as_of_seq)
            out[threat].update(sites.ranked(self.model, self.statuses, self.usable, threat,
                                            self.hints, self.budget))
        self.summaries = out

    def apply_statuses(self, changed: Mapping[int, str], *, at: str, seq: int) -> list[int]:
        """Take in new statuses; recompute only the cells of shelters whose usability flipped."""
        started = time.perf_counter()
        position = self.model.shelters.position()
        self.statuses.update(changed)
        self.as_of_seq = seq
        usable = self.usable.copy()
        for sid, status in changed.items():
            i = position.get(sid)
            if i is not None:
                usable[i] = is_usable(Status(status), ghost=sid in self.ghosts)
        flipped = np.flatnonzero(usable != self.usable).tolist()
        if not flipped:
            return []
        before = {t: s["total"]["out_of_reach"] for t, s in self.summaries.items()}
        normal, cells = recompute_after_change(self.model.normal, usable,
                                               self.model.walk.speed_mps, self.reach[0], flipped)
        reduced, _ = recompute_after_change(self.model.reduced, usable & self.model.shelters
                                            .step_free, self.model.walk
                                            .reduced_mobility_speed_mps, self.reach[1], flipped)
        self.usable, self.reach = usable, (normal, reduced)
        self.refresh()
        self.last_recompute_s = time.perf_counter() - started
        for i in flipped:
            sid = int(self.model.shelters.ids[i])
            self.changes.appendleft({
                "at": at, "seq": seq, "shelter_id": sid, "status": self.statuses.get(sid),
                "usable": bool(usable[i]), "cells_recomputed": len(cells),
                "out_of_reach_change": {t.value: figures.people(
                    s["total"]["out_of_reach"] - before.get(t, 0))
                    for t, s in self.summaries.items()}})
        return flipped


@dataclass(frozen=True, slots=True)
class Computing:
    """An area that will have figures shortly: why not yet, and when to ask again."""

    area_id: str
    detail: str
    retry_after_s: int = 5


RETRY_FAILED_S = 60.0  # an unexpected build failure is tried again by the sweep, not a request


class LiveCoverage:
    """Area id → its live coverage; `apply` is a LogFollower subscriber; `start` builds every
    served area in a background sweep."""

    def __init__(self, settings: Settings,
                 statuses: Callable[[], Mapping[int, str]] | None = None) -> None:
        self.settings = settings
        self._areas: dict[str, AreaCoverage] = {}
        self._queued: set[str] = set()  # to be built (again) by the sweep
        self._failed: dict[str, ShelterwatchError] = {}  # why an area can have no figures
        self._crashed: dict[str, str] = {}  # an unexpected failure, tried again by the sweep
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._statuses = statuses

    def start(self) -> None:
        """Queue every served area and build them one by one in a background thread."""
        self.queue_all()
        self._thread = threading.Thread(target=self._sweep, name="coverage-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the area being built (the process is shutting down)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def peek(self, area_id: str) -> AreaCoverage | None:
        """The area's coverage if built (no side effects)."""
        return self._areas.get(area_id)

    def state(self, area_id: str) -> AreaCoverage | Computing | ShelterwatchError | None:
        """What a request may say about the area: its figures, "computing", why it has none, or
        None when this process does not serve it. Never starts any work."""
        with self._lock:
            found = self._areas.get(area_id)
            if found is not None:
                return found
            if area_id in self._failed:
                return self._failed[area_id]
            if area_id in self._crashed:
                return Computing(area_id, f"coverage for area {area_id} could not be computed "
                                          f"({self._crashed[area_id]}); it is tried again "
                                          f"within {RETRY_FAILED_S:.0f} s", int(RETRY_FAILED_S))
            if area_id in self._queued:
                return Computing(area_id, f"coverage for area {area_id} is being computed "
                                          "(built ahead of requests); ask again shortly")
        return None

    def served(self, session: Session) -> list[str]:
        """The areas this process keeps live, from the setting and the registry."""
        spec = self.settings.coverage_areas.strip()
        if spec != "*":
            return [a for a in (part.strip() for part in spec.split(",")) if a]
        return areas_with_shelters(session)

    def queue_all(self) -> None:
        """Queue every served area (at start, and when the registry changed)."""
        try:
            with db.reading(self.settings.database_url) as session:
                wanted = self.served(session)
        except Exception:  # noqa: BLE001 - the sweep tries again on the next registry change
            logger.exception("the areas to keep coverage for could not be read")
            return
        with self._lock:
            self._queued.update(wanted)
        self._wake.set()

    def _next(self) -> str | None:
        with self._lock:
            if not self._queued:
                return None
            # Unbuilt areas first (they answer "computing"), then rebuilds, in a stable order.
            return min(self._queued, key=lambda a: (a in self._areas, a))

    def _sweep(self) -> None:
        while not self._stop.is_set():
            area_id = self._next()
            if area_id is None:
                self._wake.wait(RETRY_FAILED_S)
                self._wake.clear()
                self._retry_failed()
                continue
            self._build_now(area_id)
            with self._lock:
                self._queued.discard(area_id)

    def _retry_failed(self) -> None:
        with self._lock:
            self._queued.update(self._crashed)

    def _build_now(self, area_id: str) -> None:
        started = time.perf_counter()
        try:
            s = self.settings
            with db.reading(s.database_url) as session:
                model = models.build(
                    session, area_id=area_id, config=alerts.warning_config(s),
                    walk=walk_params(s),
                    population_file=Path(s.coverage_population) if s.coverage_population
                    else None,
                    network_file=Path(s.coverage_network) if s.coverage_network else None,
                    max_cells=s.coverage_max_cells)
                seq = log.last_seq(session)
                statuses = models.current_statuses(session)
                ghosts = models.ghost_ids(session)
                hints = sites.read_hints(
                    session, now=utcnow(), window_days=s.coverage_locked_window_days,
                    planner=sites.planner_sites(Path(s.coverage_candidates))
                    if s.coverage_candidates else ())
            everyone = ~np.isin(model.shelters.ids, np.asarray(sorted(ghosts), dtype=np.int64))
            all_open = model.reach(everyone)
            baseline = {t: figures.evaluate(model, everyone, all_open, t) for t in Threat}
            with self._lock:
                # Statuses the follower applied while we built are newer than the table read.
                if self._statuses is not None:
                    statuses.update(self._statuses())
                usable = model.usable(statuses, ghosts)
                state = AreaCoverage(model, statuses, ghosts, usable, model.reach(usable),
                                     baseline, hints, s.coverage_sites_top, as_of_seq=seq)
                state.refresh()
                state.built_s = time.perf_counter() - started
                self._areas[area_id] = state
                self._failed.pop(area_id, None)
                self._crashed.pop(area_id, None)
        except ShelterwatchError as exc:  # the area cannot have live figures: say why
            with self._lock:
                self._failed[area_id] = exc
                self._crashed.pop(area_id, None)
        except Exception as exc:  # noqa: BLE001 - a failed build is reported, never fatal
            logger.exception("coverage for area %s could not be built", area_id)
            with self._lock:
                self._crashed[area_id] = (str(exc).splitlines()[0] if str(exc)
                                          else type(exc).__name__)

    def apply(self, facts: Sequence[Fact]) -> None:
        """Patch every built area with new statuses; rebuild areas whose registry changed."""
        changed: dict[int, str] = {}
        registry_changed = False
        at, seq = "", 0
        for fact in facts:
            if fact.kind == FactKind.STATUS_CHANGED:
                payload = orjson.loads(fact.payload)
                try:
                    changed[int(payload["shelter_id"])] = str(Status(payload["status"]))
                except (KeyError, ValueError):
                    continue
                # In UTC whoever made the fact: read back (naive on SQLite) or handed over by
                # the report writer as it wrote it.
                at, seq = as_utc(fact.at).isoformat() if fact.at else "", fact.seq
            elif fact.kind in REGISTRY_KINDS:
                registry_changed = True
        with self._lock:
            if changed:
                for state in self._areas.values():
                    try:
                        state.apply_statuses(changed, at=at, seq=seq)
                    except Exception:  # noqa: BLE001 - one bad fact must not stop the follower
                        logger.exception("coverage could not take in statuses at seq %s", seq)
        if registry_changed:
            with self._lock:
                self._failed.clear()  # a new registry may answer what the old one could not
            self.queue_all()  # the built ones again, and any area that now has shelters


def areas_with_shelters(session: Session) -> list[str]:
    """Every area a shelter is registered in, and their ancestors: one read of the area tree
    and one of the shelters' distinct areas, whatever the registry's size."""
    parent: dict[str, str | None] = {
        str(a): p for a, p in session.execute(select(Area.id, Area.parent_id)).all()}
    out: set[str] = set()
    for (area_id,) in session.execute(select(Shelter.area_id).distinct()).all():
        at: str | None = area_id
        while at is not None and at not in out:
            out.add(at)
            at = parent.get(at)
    return sorted(out)
