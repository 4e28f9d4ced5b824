"""Reports that keep coming are committed together, not in two halves taking turns.

Under a steady load each batch's senders come back while the next batch is written; the writer
gives a batch a moment to fill up to the senders it saw around the last one, so eight phones
reporting one after another share one commit per round rather than two.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import statistics
import threading

import pytest

from shelterwatch.reports import writer as writers
from shelterwatch.reports.limits import ReportLimits
from shelterwatch.reports.writer import ReportWriter
from tests.reports.helpers import kyiv_shelter
from tests.reports.test_writer_memory import _report

PHONES, ROUNDS = 8, 12


def test_phones_reporting_one_after_another_share_each_commit(
        kyiv_settings, kyiv_client, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wider moment than in production, so that a busy test machine's scheduling does not
    # decide the outcome; the rule is the same.
    monkeypatch.setattr(writers, "GATHER_S", 0.2)
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    limits = ReportLimits(kyiv_settings.model_copy(update={
        "reports_per_device_per_hour": 1000, "reports_per_address_per_minute": 1000}))
    sizes: list[float] = []
    writer = ReportWriter(url, limits=limits, tracking_prefix="KV", on_batch=sizes.append)
    statuses: list[object] = []

    def phone(n: int) -> None:
        for _ in range(ROUNDS):  # each waits for its receipt before it reports again
            statuses.append(_report(writer, {"shelter_id": door.id, "kind": "full",
                                             "device_id": f"phone-{n:04d}"})["status"])

    threads = [threading.Thread(target=phone, args=(n,)) for n in range(PHONES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == ["full"] * PHONES * ROUNDS  # every report acknowledged, each committed
    assert sum(sizes) == PHONES * ROUNDS
    # Taking turns in halves, the batches would be about four; gathered, nearly all eight.
    assert statistics.median(sizes) == PHONES
    assert len(sizes) < 2 * ROUNDS
