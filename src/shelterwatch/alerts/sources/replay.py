"""Replay recorded alert histories (Vadimkin/ukrainian-air-raid-sirens-dataset CSVs).

Each row becomes a start and an end at their recorded UTC times, applied in time order through
the same service as the live feeds, so the API, the stream and every shelter see the night as it
happened. `speed` N plays N times faster than real time between events; 0 plays at once.
Places are matched by their official Latin spelling; a raion or hromada we cannot place is put
on its parent (warn wider, never miss), and counted.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import names, regions, service
from shelterwatch.areas.models import Area
from shelterwatch.clock import as_utc, utcnow
from shelterwatch.errors import InvalidInput
from shelterwatch.vocabulary import AlertType, Threat

SOURCE = "replay"
BATCH = 500
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, order=True)
class Event:
    at: datetime
    is_start: bool  # False sorts first: at one instant, ends before starts
    area_id: str
    ref: str


@dataclass
class ReplayReport:
    rows: int = 0
    started: int = 0
    ended: int = 0
    widened: int = 0  # raion/hromada rows placed on a parent area
    skipped: list[str] = field(default_factory=list)


def _time(value: str) -> datetime:
    return as_utc(datetime.fromisoformat(value.strip()))


def area_of(row: dict[str, str], report: ReplayReport) -> str | None:
    """Our area id for a CSV row of any of the dataset's layouts."""
    oblast_name = row.get("oblast") or row.get("region") or ""
    oblast = regions.oblast_by_latin_name().get(names.key(oblast_name))
    if oblast is None:
        # The dataset has a raion in its oblast column once ("Lubenskyi raion").
        matches = [rid for (_, k), rid in regions.by_latin_name().items()
                   if k == names.key(oblast_name)]
        return matches[0] if matches else None
    by_name = regions.by_latin_name()
    place = oblast
    for column in ("raion", "hromada"):
        value = (row.get(column) or "").strip()
        if not value:
            continue
        found = by_name.get((oblast, names.key(value)))
        if found is None:
            report.widened += 1
            return place
        place = found
    return place


def read_events(path: Path, report: ReplayReport, *, since: datetime | None = None,
                until: datetime | None = None) -> list[Event]:
    """Every start and end in the file (optionally only alerts overlapping a window), sorted."""
    events: list[Event] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"started_at", "finished_at"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path}: expected started_at and finished_at columns, got "
                               f"{reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                start, end = _time(row["started_at"]), _time(row["finished_at"])
            except ValueError as exc:
                report.skipped.append(f"line {line}: {exc}")
                continue
            if (since and end <= since) or (until and start >= until):
                continue
            area = area_of(row, report)
            if area is None:
                report.skipped.append(f"line {line}: unknown place {row}")
                continue
            report.rows += 1
            ref = f"{area}:{start.isoformat()}"
            events.append(Event(start, True, area, ref))
            events.append(Event(max(start, end), False, area, ref))
    events.sort()
    return events


def _batches(events: list[Event], speed: float,
             sleep: Callable[[float], None]) -> Iterator[list[Event]]:
    """Events grouped per transaction, waiting between them when playing at a speed."""
    if speed <= 0:
        for i in range(0, len(events), BATCH):
            yield events[i:i + BATCH]
        return
    group: list[Event] = []
    for event in events:
        if group and event.at != group[0].at:
            yield group
            sleep((event.at - group[0].at).total_seconds() / speed)
            group = []
        group.append(event)
    if group:
        yield group


def batches(events: list[Event], speed: float,
            sleep: Callable[[float], None] = time.sleep) -> Iterator[list[Event]]:
    """The events as the caller applies them, one transaction per batch."""
    return _batches(events, speed, sleep)


def known_areas(session: Session) -> set[str]:
    """The areas events can land on, once raions and hromadas are placed."""
    regions.load(session, now=utcnow())  # raions and hromadas to place rows on
    return set(session.execute(select(Area.id)).scalars())


def apply_batch(session: Session, batch: Iterable[Event], report: ReplayReport, *,
                known: set[str]) -> None:
    """Apply one batch of events through the alert service, in the caller's transaction."""
    for event in batch:
        if event.area_id not in known:
            report.skipped.append(f"{event.ref}: area not in the registry")
            continue
        now = utcnow()
        if event.is_start:
            t = service.start(session, area_id=event.area_id, type=AlertType.AIR_RAID,
                              threat=Threat.UNKNOWN, started_at=event.at, source=SOURCE,
                              source_ref=event.ref, actor="replay", now=now)
            report.started += int(t.changed)
        else:
            ended = service.end_by_ref(session, source=SOURCE, source_ref=event.ref,
                                       ended_at=event.at, actor="replay", now=now)
            report.ended += int(bool(ended and ended.changed))


def read_bounded(path: Path, report: ReplayReport, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[Event]:
    """A history CSV's events between the bounds (a bound typed without a zone is UTC)."""
    since = as_utc(since) if since is not None else None
    until = as_utc(until) if until is not None else None
    return read_events(path, report, since=since, until=until)
