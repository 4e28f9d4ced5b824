"""One night with known times, written through the real services with explicit `now`.

Four shelters under one alert (T0 … T0 + 1 h) on Kyiv city; owner A holds s1 and s2, owner B
s3 and s4:
- s1: its keyholder checks in at T0 + 120 s;
- s2: its door controller reports unlocked at T0 + 10 s;
- s3: a resident reports it locked at T0 + 60 s; the keyholder opens it at T0 + 332 s, 272 s
  after the report;
- s4: reported locked at T0 + 100 s and never answered: the alert's end closes the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.auth.service import Actor
from shelterwatch.checks import service as checks
from shelterwatch.checks.schemas import CheckIn
from shelterwatch.clock import utcnow
from shelterwatch.escalation import alert_end
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest import registry_geojson
from shelterwatch.intake import service as intake
from shelterwatch.keyholders import service as keyholders
from shelterwatch.shelters import importer
from shelterwatch.shelters.models import Shelter
from shelterwatch.stats import service as stats
from shelterwatch.vocabulary import AlertType, ObservationKind, Role

FOUR = Path(__file__).parent.parent / "fixtures" / "stats" / "four_shelters.geojson"


@dataclass(frozen=True)
class Night:
    t0: datetime
    shelters: dict[str, int]  # s1..s4 → id
    owner_a: int
    owner_b: int
    alert_id: int
    areas: dict[str, str]


def _check(url: str, shelter_id: int, role: Role, at: datetime) -> None:
    with db.transaction(url) as s:
        checks.submit(s, check=CheckIn(shelter_id=shelter_id, kind="open"),
                      actor=Actor(role=role, token_id=None, name=f"{role.value}-{shelter_id}",
                                  shelter_ids=frozenset({shelter_id})),
                      now=at, tracking_prefix="KV")


def _locked(url: str, shelter_id: int, at: datetime) -> None:
    with db.transaction(url) as s:
        shelter = s.get(Shelter, shelter_id)
        assert shelter is not None
        done = intake.submit(s, shelter_id=shelter_id, kind=ObservationKind.LOCKED,
                             role=Role.RESIDENT, reporter=f"phone-{shelter_id}",
                             actor="resident", now=at, tracking_prefix="KV", lat=shelter.lat,
                             lon=shelter.lon)
        assert done.incident is not None, "a locked report during an alert opens a case"


def play(url: str, *, catch_up_every: int | None = 7) -> Night:
    """Write the night; the rollups catch up in small batches as the worker would."""
    t0 = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    before = t0 - timedelta(hours=1)

    def follow() -> None:
        if catch_up_every is not None:
            with db.transaction(url) as s:
                while stats.catch_up(s, limit=catch_up_every):
                    pass

    with db.transaction(url) as s:
        importer.import_records(s, registry_geojson.read(FOUR, mappings.DEFAULT),
                                source="four", now=before)
    with db.reading(url) as s:
        rows = s.execute(select(Shelter.source_id, Shelter.id, Shelter.area_id)
                         .where(Shelter.source == "four")).all()
    ids = {r.source_id: r.id for r in rows}
    areas = {r.source_id: r.area_id for r in rows}
    with db.transaction(url) as s:
        a = keyholders.create_owner(s, contact=keyholders.ContactIn(
            name="Школи", email="schools@example.invalid"),
                                    shelter_ids=[ids["s1"], ids["s2"]], now=before,
                                    actor="test").id
        b = keyholders.create_owner(s, contact=keyholders.ContactIn(
            name="Медицина", email="clinics@example.invalid"),
                                    shelter_ids=[ids["s3"], ids["s4"]], now=before,
                                    actor="test").id
    follow()
    with db.transaction(url) as s:
        alert_id = alerts.start(s, area_id="31", type=AlertType.AIR_RAID, started_at=t0,
                                source="test", actor="test", now=t0).alert.id
    follow()
    _check(url, ids["s2"], Role.DOOR, t0 + timedelta(seconds=10))
    _locked(url, ids["s3"], t0 + timedelta(seconds=60))
    follow()
    _locked(url, ids["s4"], t0 + timedelta(seconds=100))
    _check(url, ids["s1"], Role.KEYHOLDER, t0 + timedelta(seconds=120))
    follow()
    _check(url, ids["s3"], Role.KEYHOLDER, t0 + timedelta(seconds=332))
    end = t0 + timedelta(hours=1)
    with db.transaction(url) as s:
        alerts.end_by_id(s, alert_id=alert_id, ended_at=end, actor="test", now=end)
    with db.transaction(url) as s:
        alert_end.close_ended(s, now=end)
    follow()
    return Night(t0, ids, a, b, alert_id, areas)
