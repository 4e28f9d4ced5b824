"""The report writer remembers what its last batch knew, and never past another writer's fact.

Between bursts the writer keeps each door's evidence and status in memory rather than reading them
again; a keyholder's check in between (another writer: here the single intake, as a check from
another process would be) must still count for the next burst, and a rebuild from the log must
still equal what the writer left.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.intake import load, sql, write
from shelterwatch.intake import service as intake
from shelterwatch.observations import idempotency
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.reports.writer import Job, ReportWriter
from shelterwatch.vocabulary import ObservationKind, Role
from tests.incidents.test_rebuild import _tables
from tests.reports.helpers import Place, bearer, kyiv_shelter, token


def _report(writer: ReportWriter, body: dict[str, object]) -> dict[str, object]:
    done = threading.Event()
    answers: list[object] = []
    report = ReportIn(**body)  # type: ignore[arg-type]
    writer.put(Job(report, None, idempotency.request_hash(report.model_dump()), "127.0.0.1",
                   lambda outcome: (answers.append(outcome), done.set())))
    assert done.wait(30)
    assert getattr(answers[0], "status_code", None) == 201, answers[0]
    return answers[0].body  # type: ignore[attr-defined, no-any-return]


def test_a_keyholders_check_between_two_bursts_counts_for_the_next_report(
        kyiv_settings, kyiv_client) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    limits = ReportLimits(kyiv_settings.model_copy(update={
        "reports_per_device_per_hour": 1000, "reports_per_address_per_minute": 1000}))
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV")

    def locked(device: str) -> dict[str, object]:
        return _report(writer, {"shelter_id": door.id, "kind": "locked", "device_id": device,
                                "lat": door.lat, "lon": door.lon})

    assert locked("phone-0001")["status"] == "locked_reported"
    with db.transaction(url) as session:  # another writer, between the writer's batches
        intake.submit(session, shelter_id=door.id, kind=ObservationKind.OPEN,
                      role=Role.KEYHOLDER, reporter="keyholder-1", actor="keyholder-1",
                      now=utcnow(), tracking_prefix="KV")
    after = locked("phone-0002")
    assert after["status"] == "open_verified", after
    assert "keyholder" in after["status_explanation"]["en"]  # type: ignore[index]
    # the same phone again: counted once, as the rule says, from memory or not
    again = locked("phone-0002")
    assert again["status"] == "open_verified"
    assert again["status_explanation"] == after["status_explanation"]

    live = _tables(url)
    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    assert _tables(url) == live
    db.dispose(url)


def test_an_alert_started_or_ended_by_another_writer_decides_the_writers_next_report(
        kyiv_settings, kyiv_client) -> None:
    url = kyiv_settings.database_url
    door, second, third = (kyiv_shelter(url, n) for n in (1, 2, 3))
    operator = token(url, "operator")
    limits = ReportLimits(kyiv_settings.model_copy(update={
        "reports_per_device_per_hour": 1000, "reports_per_address_per_minute": 1000}))
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV")

    def locked(place: Place, device: str) -> dict[str, object]:
        return _report(writer, {"shelter_id": place.id, "kind": "locked", "device_id": device,
                                "lat": place.lat, "lon": place.lon})

    quiet = locked(door, "phone-0001")
    assert quiet["routed_to"] == "owner" and quiet["incident"] is None
    alert = kyiv_client.post("/v1/alerts", json={"area_id": "31"}, headers=bearer(operator))
    assert alert.status_code == 201, alert.text
    first = locked(door, "phone-0002")
    assert first["incident"]["state"] == "open"  # type: ignore[index]
    # the writer's own batches follow one another: it remembers the alert and the case it opened
    assert locked(second, "phone-0003")["incident"]["state"] == "open"  # type: ignore[index]
    joined = locked(door, "phone-0004")
    assert joined["incident"] == {**first["incident"], "me_too": 1}  # type: ignore[dict-item]
    ended = kyiv_client.post(f"/v1/alerts/{alert.json()['id']}/end", headers=bearer(operator))
    assert ended.status_code == 200, ended.text
    after = locked(third, "phone-0005")
    assert after["routed_to"] == "owner" and after["incident"] is None, after

    live = _tables(url)
    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    assert _tables(url) == live
    db.dispose(url)


def test_a_door_whose_case_the_writer_opened_joins_it_from_memory(
        kyiv_settings, kyiv_client) -> None:
    """On a night every reported door has an open case; the writer remembers each case it
    left, as it does statuses, and a batch that finds the log where it left it reads none."""
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 5)
    operator = token(url, "operator")
    assert kyiv_client.post("/v1/alerts", json={"area_id": "31"},
                            headers=bearer(operator)).status_code == 201
    limits = ReportLimits(kyiv_settings.model_copy(update={
        "reports_per_device_per_hour": 1000, "reports_per_address_per_minute": 1000}))
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV")
    body = {"shelter_id": door.id, "kind": "locked", "lat": door.lat, "lon": door.lon}
    first = _report(writer, {**body, "device_id": "phone-0001"})["incident"]
    read: list[str] = []

    def seen(_c: object, _cur: object, statement: str, *_: object) -> None:
        if "FROM incidents" in statement and "WHERE incidents.shelter_id" in statement:
            read.append(statement)

    engine = db.engine_for(url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        second = _report(writer, {**body, "device_id": "phone-0002"})["incident"]
        third = _report(writer, {**body, "device_id": "phone-0003"})["incident"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert second == {**first, "me_too": 1} and third == {**first, "me_too": 2}  # type: ignore[dict-item]
    assert read == []
    live = _tables(url)
    outcome = CliRunner().invoke(cli, ["rebuild"])
    assert outcome.exit_code == 0, outcome.output
    assert _tables(url) == live
    db.dispose(url)


def test_a_tracking_id_already_taken_is_never_given_twice(
        kyiv_settings, kyiv_client, monkeypatch) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 4)
    limits = ReportLimits(kyiv_settings.model_copy(update={
        "reports_per_device_per_hour": 1000, "reports_per_address_per_minute": 1000}))
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV")
    body = {"shelter_id": door.id, "kind": "open", "device_id": "phone-0001"}
    first = _report(writer, body)["tracking_id"]
    # the next batch draws the same id first, as a random draw one day will
    monkeypatch.setattr(load, "candidates", lambda n, prefix: [str(first)])
    second = _report(writer, {**body, "device_id": "phone-0002"})["tracking_id"]
    assert second != first
    assert kyiv_client.get(f"/v1/reports/{second}").status_code == 200
    db.dispose(url)


def test_a_duplicate_row_in_the_batchs_driver_write_is_an_integrity_error(
        session) -> None:
    """The writer retries reports alone on an IntegrityError; the batch's write past
    SQLAlchemy (a pipeline on PostgreSQL, the driver's executemany on SQLite) must say so."""
    row = {"id": "KV-0000-5A", "shelter_id": 1, "kind": "locked", "role": "resident",
           "reporter": "", "distance_m": None, "reason": "", "at": utcnow(), "alert_id": None,
           "incident_id": None, "routed_to": None, "seq": 1}
    with pytest.raises(IntegrityError):
        write.write_all(session.connection(), [(sql.INSERT_OBSERVATIONS, [row, row])])
