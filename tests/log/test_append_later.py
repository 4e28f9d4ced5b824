"""Facts asked for with `append_later` go in at the commit, inside the transaction: another
writer (a resident's report) is not kept waiting while the worker's transaction goes on working,
and the log keeps the order the transaction asked for."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log


def kinds_after(url: str, seq: int) -> list[str]:
    with db.reading(url) as session:
        return [f.kind for f in log.after(session, seq)]


def start_seq(url: str) -> int:
    with db.reading(url) as session:
        return log.last_seq(session)


def later(session: Session, kind: str) -> None:
    log.append_later(session, [log.NewFact(kind, "worker", {"n": kind})], now=utcnow())


def test_facts_appended_later_keep_the_order_asked_and_the_chain(both_url: str) -> None:
    start = start_seq(both_url)
    with db.transaction(both_url) as session:
        later(session, "escalation.step")
        later(session, "notification.queued")
        # an immediate append appends what was asked before it first
        seq = log.append(session, kind="incident.escalated", actor="worker", payload={},
                         now=utcnow())
        later(session, "notification.sent")
    assert seq == start + 3
    assert kinds_after(both_url, start) == [
        "escalation.step", "notification.queued", "incident.escalated", "notification.sent"]
    with db.reading(both_url) as session:
        assert log.verify(session).ok


def test_a_rolled_back_transaction_appends_nothing_it_asked_for_later(both_url: str) -> None:
    start = start_seq(both_url)
    with pytest.raises(RuntimeError), db.transaction(both_url) as session:
        later(session, "notification.sent")
        raise RuntimeError("the send's settle failed")
    with db.transaction(both_url) as session:  # the same pooled connection and session class
        log.append(session, kind="alert.started", actor="operator", payload={}, now=utcnow())
    assert kinds_after(both_url, start) == ["alert.started"]


def test_another_writer_appends_while_a_transaction_holds_facts_for_later(
        both_url: str) -> None:
    if db.is_sqlite(both_url):
        pytest.skip("SQLite's write lock is the whole database's from BEGIN IMMEDIATE")
    start = start_seq(both_url)
    worker = db.session_factory(both_url)()
    try:
        later(worker, "notification.sent")  # the worker's round, not yet committed
        worker.flush()
        appended: list[int] = []

        def report() -> None:
            with db.transaction(both_url) as session:
                appended.append(log.append(session, kind="observation.recorded",
                                           actor="resident", payload={}, now=utcnow()))

        other = threading.Thread(target=report)
        other.start()
        other.join(10)
        assert appended == [start + 1], "the report waited for the worker's open transaction"
        worker.commit()
    finally:
        worker.close()
    with db.reading(both_url) as session:
        facts = log.after(session, start)
        assert [(f.seq, f.kind) for f in facts] == [
            (start + 1, "observation.recorded"), (start + 2, "notification.sent")]
        assert log.verify(session).ok


def test_a_report_written_after_facts_asked_for_later_comes_after_them(
        kyiv_db_url: str) -> None:
    """The intake reads the head itself and writes its facts in one go: what the transaction
    asked to append later goes in first."""
    from shelterwatch.intake import service as intake
    from shelterwatch.shelters.models import Shelter
    from shelterwatch.vocabulary import ObservationKind, Role

    start = start_seq(kyiv_db_url)
    with db.transaction(kyiv_db_url) as session:
        shelter = session.execute(select(Shelter).limit(1)).scalar_one()
        later(session, "escalation.step")
        intake.submit(session, shelter_id=shelter.id, kind=ObservationKind.LOCKED,
                      role=Role.RESIDENT, reporter="phone-1", actor="resident", now=utcnow(),
                      tracking_prefix="KV", lat=shelter.lat, lon=shelter.lon)
    kinds = kinds_after(kyiv_db_url, start)
    assert kinds[0] == "escalation.step" and "observation.recorded" in kinds[1:]
    with db.reading(kyiv_db_url) as session:
        assert log.verify(session).ok


def test_a_released_savepoint_does_not_append_them_early(both_url: str) -> None:
    start = start_seq(both_url)
    with db.transaction(both_url) as session:
        later(session, "notification.queued")
        with session.begin_nested():  # as outbox.enqueue queues each message
            pass
        assert log.last_seq(session) == start, "the savepoint's release took the log's lock"
    assert kinds_after(both_url, start) == ["notification.queued"]
