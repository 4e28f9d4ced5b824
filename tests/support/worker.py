"""The worker in-process on the test's database, and the loop's tables as plain rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.escalation.models import StepTaken, Timer
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.observations.models import Observation, PlaceReport, ShelterStatus
from shelterwatch.outbox import queue
from shelterwatch.patrols.models import Task
from shelterwatch.worker.runner import Worker


def worker_settings(settings: Settings, **changes: Any) -> Settings:
    """The test's settings with a quick worker and only the loopback channels."""
    return settings.model_copy(update={"worker_tick_s": 0.05, "follow_interval_s": 0.05,
                                       "notify_channels": ("webhook", "email"), **changes})


@contextmanager
def running(settings: Settings, *,
            clock: Callable[[], datetime] = utcnow) -> Iterator[Worker]:
    """`shelterwatch worker` in this process (its threads), stopped on the way out."""
    worker = Worker(settings, clock=clock).start()
    try:
        yield worker
    finally:
        worker.stop()


def facts(url: str, kind: str) -> list[dict[str, Any]]:
    with db.reading(url) as s:
        return [orjson.loads(f.payload) for f in log.after(s, 0, limit=1_000_000)
                if f.kind == kind]


def worker_idle(url: str) -> bool:
    """No timer is being handled or overdue: the worker has done all it can do now."""
    now = utcnow()
    with db.reading(url) as s:
        return not any(t.state == queue.CLAIMED or (t.state == queue.PENDING and
                                                    t.due_at.replace(tzinfo=None) <=
                                                    now.replace(tzinfo=None))
                       for t in s.execute(select(Timer)).scalars())


def derived_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived table as rows; surrogate ids, claims and a finished timer's time left out."""

    def rows(model: Any, order: Any, skip: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
        cols = [c for c in model.__table__.columns if c.name not in skip]
        with db.reading(url) as s:
            return [tuple(r) for r in s.execute(select(*cols).order_by(*order)).all()]

    timers = [(subject, kind, state, due if state == queue.PENDING else None)
              for subject, kind, due, state in rows(
                  Timer, (Timer.subject, Timer.kind),
                  ("id", "claimed_at", "claim_token"))]
    return {
        "observations": rows(Observation, (Observation.id,)),
        "statuses": rows(ShelterStatus, (ShelterStatus.shelter_id,)),
        "incidents": rows(Incident, (Incident.id,)),
        "places": rows(PlaceReport, (PlaceReport.id,)),
        "patrol_tasks": rows(Task, (Task.id,)),
        "escalation_steps": rows(StepTaken, (StepTaken.incident_id, StepTaken.step), ("id",)),
        "escalation_timers": timers,
    }
