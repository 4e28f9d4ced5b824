"""CAP 1.2 messages, real and Ukrainian, start and end alerts; CAP 1.1 is refused by name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from shelterwatch import config
from shelterwatch.alerts import service
from shelterwatch.alerts.sources import cap
from shelterwatch.errors import InvalidInput
from shelterwatch.vocabulary import AlertType, Threat

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cap"
NOW = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)
HOLOSIIV = "UA80000000000126643"
REAL = sorted(p.name for p in FIXTURES.glob("*.xml") if not p.name.startswith(("ua-", "nws-")))


def read(name: str) -> list[cap.CapMessage]:
    return cap.parse_document((FIXTURES / name).read_bytes())


def apply(session: Session, name: str, mapping: str = "") -> list[cap.CapOutcome]:
    geocodes = config.load(cap_geocodes=mapping).cap_geocodes
    return [cap.apply(session, m, geocode_map=geocodes, actor="test", now=NOW)
            for m in read(name)]


@pytest.mark.parametrize("name", REAL)
def test_every_real_cap12_sample_passes_the_schema(name: str) -> None:
    assert read(name)[0].identifier


def test_cap11_message_is_refused_with_a_clear_reason() -> None:
    with pytest.raises(InvalidInput, match=r"CAP 1\.1 is not supported: send CAP 1\.2"):
        read("nws-5c2cf27b1f56885d61654dc47fa411d5.xml")


def test_schema_violation_names_the_element() -> None:
    broken = (FIXTURES / "ua-kyiv-air-raid.xml").read_bytes().replace(
        b"<msgType>Alert</msgType>", b"<msgType>Panic</msgType>")
    with pytest.raises(InvalidInput, match="msgType"):
        cap.parse_document(broken)


def test_ukrainian_alert_for_kyiv_puts_the_city_under_ballistic_alert(session: Session) -> None:
    [outcome] = apply(session, "ua-kyiv-air-raid.xml")
    assert outcome.action == "started"
    w = service.active_for_area(session, HOLOSIIV, NOW)
    assert (w.under_alert, w.area_id, w.threat, w.type) == (True, "31", Threat.BALLISTIC,
                                                            AlertType.AIR_RAID)
    assert w.started_at == datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)
    [ended] = apply(session, "ua-kyiv-all-clear.xml")
    assert ended.action == "ended" and ended.alert_ids == outcome.alert_ids
    all_clear = datetime(2023, 6, 1, 1, 3, 5, tzinfo=UTC)
    assert service.active_for_area(session, HOLOSIIV, NOW).under_alert
    assert not service.active_for_area(session, HOLOSIIV, all_clear).under_alert


def test_importing_the_same_message_twice_keeps_one_alert(session: Session) -> None:
    first = apply(session, "ua-kyiv-feed.atom")
    again = apply(session, "ua-kyiv-air-raid.xml")
    assert first[0].alert_ids == again[0].alert_ids
    assert len(service.list_active(session, now=NOW)) == 1


def test_polygon_alone_finds_the_city_by_intersection(session: Session) -> None:
    text = (FIXTURES / "ua-kyiv-air-raid.xml").read_text()
    text = text.replace("<valueName>alerts.in.ua</valueName>", "<valueName>none</valueName>")
    [message] = cap.parse_document(text.encode())
    outcome = cap.apply(session, message, geocode_map={}, actor="test", now=NOW)
    assert [service.get_or_raise(session, i).area_id for i in outcome.alert_ids] == ["31"]


def test_real_shelter_message_lands_on_the_area_its_geocode_is_mapped_to(
        session: Session) -> None:
    [outcome] = apply(session, "v1dot2_appendix_adot2.xml", mapping="SAME:006109=14")
    assert outcome.action == "started"
    assert service.get_or_raise(session, outcome.alert_ids[0]).area_id == "14"


def test_real_message_without_shelter_response_starts_nothing(session: Session) -> None:
    [outcome] = apply(session, "ipaws-5e7e0fc5023f1930efcf3deb.xml")
    assert outcome.action == "ignored" and "Shelter" in outcome.reason


def test_real_cancel_message_ends_the_alert_it_references(session: Session) -> None:
    referenced = "bbrundage@dps.state.nv.us,AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd"
    t = service.start(session, area_id="14", type=AlertType.AIR_RAID, started_at=NOW,
                      source=cap.SOURCE, source_ref=cap.ref_for(referenced, 0, "14"),
                      actor="test", now=NOW)
    [outcome] = apply(session, "ipaws-5e6dd9de023f1930ef6548d9.xml")
    assert outcome.action == "ended" and outcome.alert_ids == [t.alert.id]
    assert t.alert.ended_at is not None


def test_cancel_for_a_message_never_imported_says_so(session: Session) -> None:
    [outcome] = apply(session, "ipaws-5e6dd9de023f1930ef6548d9.xml")
    assert outcome.action == "ignored" and "no alert started by" in outcome.reason


def test_xml_bomb_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbb">]><a>&b;</a>'
    with pytest.raises(InvalidInput, match="refused XML"):
        cap.parse_document(bomb)
