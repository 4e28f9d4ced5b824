"""Alert transitions: each one a fact, repeats and late messages harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import service
from shelterwatch.log.models import Fact
from shelterwatch.vocabulary import AlertType, Threat

T0 = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)
T1 = datetime(2023, 6, 1, 1, 3, 5, tzinfo=UTC)
HOLOSIIV = "UA80000000000126643"


def facts(session: Session, kind: str) -> list[Fact]:
    return list(session.execute(select(Fact).where(Fact.kind == kind)).scalars())


def start(session: Session, ref: str = "8757", at: datetime = T0) -> service.Transition:
    return service.start(session, area_id="31", type=AlertType.AIR_RAID,
                         threat=Threat.BALLISTIC, started_at=at, source="alerts-in-ua",
                         source_ref=ref, actor="feed:alerts-in-ua", now=at)


def test_repeated_start_and_end_append_one_fact_each(session: Session) -> None:
    first = start(session)
    again = start(session)
    assert first.changed and not again.changed and again.alert.id == first.alert.id
    service.end(session, alert=first.alert, ended_at=T1, actor="x", now=T1)
    assert not service.end(session, alert=first.alert, ended_at=T1 + timedelta(minutes=5),
                           actor="x", now=T1).changed
    assert len(facts(session, "alert.started")) == 1 and len(facts(session, "alert.ended")) == 1
    payload = facts(session, "alert.ended")[0].payload
    assert '"ended_at":"2023-06-01T01:03:05+00:00"' in payload and '"threat":"ballistic"' in payload


def test_a_late_echo_of_an_ended_alert_does_not_reopen_it(session: Session) -> None:
    first = start(session, ref="a")
    service.end(session, alert=first.alert, ended_at=T1, actor="x", now=T1)
    echo = start(session, ref="b", at=T0 + timedelta(minutes=1))
    assert echo.alert.id == first.alert.id and not echo.changed


def test_an_end_for_an_alert_never_seen_is_ignored(session: Session) -> None:
    assert service.end_by_ref(session, source="alerts-in-ua", source_ref="404", ended_at=T1,
                              actor="x", now=T1) is None
    assert facts(session, "alert.ended") == []


def test_city_alert_puts_its_districts_under_alert_until_it_ends(session: Session) -> None:
    t = start(session)
    during = service.active_for_area(session, HOLOSIIV, T0 + timedelta(minutes=5))
    assert during.under_alert and during.area_id == "31" and during.warning_s == 120
    service.end(session, alert=t.alert, ended_at=T1, actor="x", now=T1)
    assert not service.active_for_area(session, HOLOSIIV, T1).under_alert
    assert not service.active_for_area(session, "14", T0 + timedelta(minutes=5)).under_alert
