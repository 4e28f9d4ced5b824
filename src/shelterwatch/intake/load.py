"""What a batch of observations needs to be decided: one query per table, as plain rows."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from shelterwatch.areas.models import Area
from shelterwatch.clock import as_utc
from shelterwatch.intake.core import Case, Place, Span
from shelterwatch.intake.sql import (
    EVIDENCE,
    KINDS,
    NOT_OVER,
    OPEN_CASES,
    QUARANTINED,
    ROLES,
    SHELTERS,
    STATUS_NOW,
    TAKEN,
)
from shelterwatch.observations import service as observations
from shelterwatch.rules import status as status_rules
from shelterwatch.rules import tracking
from shelterwatch.rules.status_record import is_set_aside


def shelters(conn: Connection, ids: Sequence[int]) -> dict[int, Place]:
    """The batch's shelters, as plain rows: only position and area are needed."""
    return {r.id: Place(r.id, r.lat, r.lon, r.area_id)
            for r in conn.execute(SHELTERS, {"ids": ids})}


def ancestors(conn: Connection, area_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each area with the areas above it, nearest first: one query per level of the tree."""
    parent: dict[str, str | None] = {}
    frontier = set(area_ids)
    while frontier:
        rows = conn.execute(select(Area.id, Area.parent_id).where(Area.id.in_(frontier)))
        found = {r.id: r.parent_id for r in rows}
        for area in frontier:
            parent[area] = found.get(area)
        frontier = {p for p in found.values() if p is not None and p not in parent}
    chains: dict[str, list[str]] = {}
    for area in area_ids:
        chain: list[str] = []
        current: str | None = area
        while current is not None and current not in chain:
            chain.append(current)
            current = parent.get(current)
        chains[area] = chain
    return chains


def not_over(conn: Connection, now: datetime) -> list[Span]:
    return [Span(r.id, r.area_id, as_utc(r.started_at),
                  as_utc(r.ended_at) if r.ended_at is not None else None)
            for r in conn.execute(NOT_OVER, {"at": as_utc(now)})]


def on_at(spans: Sequence[Span], now: datetime) -> list[Span]:
    """The alerts on at `now`, oldest first ."""
    at = as_utc(now)
    return sorted((a for a in spans if a.started_at <= at
                   and (a.ended_at is None or a.ended_at > at)),
                  key=lambda a: (a.started_at, a.id))


def open_cases(conn: Connection, ids: Sequence[int]) -> dict[int, Case]:
    """Open cases of the batch's shelters, as plain values (rarely any)."""
    if not ids:
        return {}
    cases: dict[int, Case] = {}
    for r in conn.execute(OPEN_CASES, {"ids": ids}):  # by id: the newest wins (at most one)
        values = r._asdict()
        for column in ("opened_at", "last_report_at"):
            values[column] = as_utc(values[column])
        cases[r.shelter_id] = Case(**values)
    return cases


def quarantined(conn: Connection) -> frozenset[str]:
    """The sources whose evidence is set aside (an operator quarantined them)."""
    return frozenset(conn.execute(QUARANTINED).scalars())


def evidence(conn: Connection, ids: Sequence[int], now: datetime,
             aside: frozenset[str] = frozenset()) -> dict[int, list[status_rules.Evidence]]:
    """Per shelter, only the evidence the status rule can use, now or later
    (`status_rules.carried`); evidence from the `aside` sources weighs nothing."""
    at = as_utc(now)
    policy = status_rules.DEFAULT_POLICY
    found: dict[int, list[status_rules.Evidence]] = {}
    params = {"ids": ids, "at": at,
              "ttl_since": at - timedelta(seconds=policy.authoritative_ttl_s),
              "horizon_since": at - timedelta(seconds=policy.horizon_s)}
    for r in conn.execute(EVIDENCE, params):
        when = r.at
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        found.setdefault(r.shelter_id, []).append(status_rules.Evidence(
            id=r.id, kind=KINDS[r.kind], role=ROLES[r.role], at=when,
            reporter=r.reporter, distance_m=r.distance_m, reason=r.reason,
            set_aside=is_set_aside(ROLES[r.role], r.source, aside)))
    return {k: status_rules.carried(v, now=at, policy=policy) for k, v in found.items()}


def statuses(conn: Connection, ids: Sequence[int]) -> dict[int, status_rules.Identity]:
    return {r.shelter_id: observations.stored_identity(r)
            for r in conn.execute(STATUS_NOW, {"ids": ids})}


def candidates(n: int, prefix: str) -> list[str]:
    """`n` distinct random tracking ids, not yet checked against the table."""
    chosen: set[str] = set()
    while len(chosen) < n:
        chosen.add(tracking.encode(prefix, secrets.randbelow(tracking.SPACE)))
    return sorted(chosen)


def tracking_ids(conn: Connection, n: int, prefix: str) -> list[str]:
    """`n` fresh, unused tracking ids, checked against the table in one query per round."""
    chosen: list[str] = []
    for _ in range(20):
        wanted = n - len(chosen)
        if wanted <= 0:
            return chosen
        candidates = {tracking.encode(prefix, secrets.randbelow(tracking.SPACE))
                      for _ in range(wanted)} - set(chosen)
        taken = set(conn.execute(TAKEN, {"ids": sorted(candidates)}).scalars())
        chosen.extend(sorted(candidates - taken))
    if len(chosen) < n:
        raise RuntimeError("could not find unused tracking ids in 20 tries")
    return chosen
