"""Replaying the real night of 31 May – 1 June 2023 puts Kyiv's shelters under alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import service
from shelterwatch.alerts.sources import replay
from shelterwatch.clock import as_utc
from shelterwatch.config import Settings
from shelterwatch.shelters.models import Shelter
from shelterwatch.worker import feeds

NIGHT = Path(__file__).parent.parent / "fixtures" / "alerts" / "official_2023-05-31_2023-06-01.csv"
START = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)
END = datetime(2023, 6, 1, 1, 3, 5, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_kyiv_shelters_are_under_alert_from_2349_31_to_0103_05(
        kyiv_settings: Settings) -> None:
    report = feeds.play(kyiv_settings, NIGHT)
    assert report.skipped == [] and report.started == report.ended == report.rows
    with db.transaction(kyiv_settings.database_url) as session:
        city = [a for a in service.list_active(session, now=START) if a.area_id == "31"]
        assert [(as_utc(a.started_at), a.ended_at and as_utc(a.ended_at)) for a in city] == \
            [(START, END)]
        shelters = session.execute(select(Shelter).where(Shelter.area_id.is_not(None))
                                   .limit(25)).scalars().all()
        assert shelters
        for shelter in shelters:
            assert shelter.area_id is not None
            assert not service.active_for_area(session, shelter.area_id, START - SECOND) \
                .under_alert
            assert service.active_for_area(session, shelter.area_id, START).under_alert
            assert service.active_for_area(session, shelter.area_id, END - SECOND).area_id == "31"
            assert not service.active_for_area(session, shelter.area_id, END).under_alert


def test_hromada_rows_land_on_their_hromada(settings: Settings) -> None:
    report = feeds.play(settings, NIGHT)
    assert report.widened == 0
    with db.transaction(settings.database_url) as session:
        nikopol = service.active_for_area(
            session, "47", datetime(2023, 5, 31, 19, 0, tzinfo=UTC))  # Nikopolskyi raion
        assert not nikopol.under_alert  # the hromada, not its whole raion, was alerted
        hromada = [a for a in service.list_active(session, now=datetime(2023, 5, 31, 19, 0,
                                                                         tzinfo=UTC))
                   if a.area_id not in {"28", "31"}]
        assert hromada and all(int(a.area_id) > 150 for a in hromada)


def test_replay_at_speed_waits_between_events_in_proportion(settings: Settings) -> None:
    waits: list[float] = []
    report = feeds.play(settings, NIGHT, speed=3600.0, since=START, until=START + SECOND,
                           sleep=waits.append)
    events = replay.read_events(NIGHT, replay.ReplayReport(), since=START, until=START + SECOND)
    span_s = (events[-1].at - events[0].at).total_seconds()
    assert report.rows == 7 and abs(sum(waits) - span_s / 3600) < 1e-6


def test_replay_takes_since_and_until_as_typed_on_the_command_line(settings: Settings) -> None:
    # Typer parses `--since 2023-05-31T23:49:31` without a zone; the dataset's times are UTC.
    naive = START.replace(tzinfo=None)
    report = feeds.play(settings, NIGHT, since=naive, until=naive + SECOND)
    assert report.rows == 7 and report.started == 7
