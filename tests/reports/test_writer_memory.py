"""The report writer remembers what its last batch knew, and never past another writer's fact.

Between bursts the writer keeps each door's evidence and status in memory rather than reading them
again; a keyholder's check in between (another writer: here the single intake, as a check from
another process would be) must still count for the next burst, and a rebuild from the log must
still equal what the writer left.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.cli.main import app as cli
from shelterwatch.clock import utcnow
from shelterwatch.incidents import intake
from shelterwatch.observations import idempotency
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.schemas import ReportIn
from shelterwatch.reports.writer import Job, ReportWriter
from shelterwatch.vocabulary import ObservationKind, Role
from tests.reports.helpers import kyiv_shelter
from tests.reports.test_rebuild import _tables


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
    limits = ReportLimits(SimpleNamespace(reports_per_device_per_hour=1000,  # type: ignore[arg-type]
                                          reports_per_address_per_minute=1000))
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
