"""A process hears the log at once when it wrote the fact itself, and an idle log costs it no
query: the stream and the pages are live without the follower hammering the database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import event

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.log.models import Fact


def append_one(url: str, kind: str = "alert.started") -> int:
    with db.transaction(url) as session:
        return log.append(session, kind=kind, actor="operator", payload={"area_id": "31"},
                          now=utcnow())


def test_a_fact_committed_in_this_process_is_followed_without_waiting_for_a_poll(
        db_url: str) -> None:
    with db.reading(db_url) as session:
        start = log.last_seq(session)
    heard: list[int] = []
    got = threading.Event()

    def subscriber(facts: Sequence[Fact]) -> None:
        heard.extend(f.seq for f in facts)
        got.set()

    follower = LogFollower(db_url, interval_s=60.0, start_seq=start)  # its poll never comes
    follower.subscribe(subscriber)
    follower.start()
    try:
        time.sleep(0.2)  # the first look, at start
        seq = append_one(db_url)
        t0 = time.monotonic()
        assert got.wait(5), "the follower slept through a commit of its own process"
        assert time.monotonic() - t0 < 2.0
        assert heard == [seq]
    finally:
        follower.stop()


def test_a_rolled_back_append_wakes_no_one(db_url: str) -> None:
    woken: list[int] = []
    unregister = log.on_commit(lambda seq: woken.append(seq))
    try:
        session = db.session_factory(db_url)()
        log.append(session, kind="alert.started", actor="operator", payload={}, now=utcnow())
        session.rollback()
        session.commit()  # an empty commit after the rollback: still nothing appended
        session.close()
        assert woken == []
        seq = append_one(db_url)
        assert woken == [seq]  # told the seq the commit reached
    finally:
        unregister()


def test_an_idle_log_costs_the_follower_no_query(db_url: str) -> None:
    if not db.is_sqlite(db_url):
        pytest.skip("PostgreSQL's follower sleeps on LISTEN: it never polls")
    engine = db.engine_for(db_url, write=False)
    queries: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "log-follower":
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    follower = LogFollower(db_url, interval_s=0.02)
    try:
        follower.start()
        time.sleep(0.3)
        queries.clear()
        time.sleep(1.0)  # fifty looks at an idle log
        assert queries == []
        append_one(db_url)  # … and a write from elsewhere is still followed
        time.sleep(0.5)
        assert any("FROM facts" in q for q in queries)
    finally:
        follower.stop()
        event.remove(engine, "before_cursor_execute", count)


def test_callers_catching_up_together_each_see_the_commit_and_share_reads(db_url: str) -> None:
    """A group commit answers sixteen reports at once and each waits for its facts to be applied
    (read your writes): they share the log's reads instead of queueing one each."""
    with db.reading(db_url) as session:
        start = log.last_seq(session)
    follower = LogFollower(db_url, interval_s=60.0, start_seq=start)  # never started: no poll
    applied: list[int] = []
    follower.subscribe(lambda facts: applied.extend(f.seq for f in facts))
    with db.transaction(db_url) as session:  # one batch of sixteen reports' facts
        seqs = [log.append(session, kind="alert.started", actor="operator",
                           payload={"area_id": "31"}, now=utcnow()) for _ in range(16)]
    reads = 0

    def count(*_: object) -> None:
        nonlocal reads
        reads += 1

    seen: list[int] = []
    barrier = threading.Barrier(16)

    def answer() -> None:
        barrier.wait()
        seen.append(follower.catch_up())

    engine = db.engine_for(db_url, write=False)
    event.listen(engine, "before_cursor_execute", count)
    try:
        threads = [threading.Thread(target=answer) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 16 and all(applied_seq >= max(seqs) for applied_seq in seen)
    assert applied == seqs  # each fact applied once, in order
    assert reads < 16  # one look each would be sixteen at least



def test_skipped_kinds_reach_no_subscriber_and_the_follower_moves_past_them(
        db_url: str) -> None:
    with db.reading(db_url) as session:
        start = log.last_seq(session)
    heard: list[tuple[int, str]] = []
    follower = LogFollower(db_url, interval_s=60.0, start_seq=start,
                           skip={"notification.sent"})
    follower.subscribe(lambda facts: heard.extend((f.seq, f.kind) for f in facts))
    kept = append_one(db_url)
    sent = [append_one(db_url, kind="notification.sent") for _ in range(3)]
    assert follower.catch_up() == sent[-1], "the follower stopped short of the head"
    assert heard == [(kept, "alert.started")]
    last = append_one(db_url)
    assert follower.catch_up() == last
    assert heard == [(kept, "alert.started"), (last, "alert.started")]


def test_the_writers_batch_is_applied_as_written_and_its_notification_costs_no_read(
        kyiv_settings) -> None:
    """The report writer hands its process the facts it committed (read your writes); the
    batches' NOTIFYs that come back after them must not send the follower to read the log
    again. Facts of another process are still followed."""
    url = kyiv_settings.database_url
    if db.is_sqlite(url):
        pytest.skip("NOTIFY is PostgreSQL's")
    from shelterwatch.reports.limits import ReportLimits
    from shelterwatch.reports.schemas import ReportIn
    from shelterwatch.reports.writer import ReportWriter
    from tests.reports.helpers import kyiv_shelter

    door = kyiv_shelter(url, 7)
    follower = LogFollower(url, interval_s=60.0)
    heard: list[str] = []
    follower.subscribe(lambda facts: heard.extend(f.kind for f in facts))
    writer = ReportWriter(url, limits=ReportLimits(kyiv_settings), tracking_prefix="KV",
                          after_commit=lambda seq, facts: follower.hand_over(facts)
                          or follower.catch_up(seen=seq))
    reads: dict[str, list[str]] = {"log-follower": [], "report-writer": []}

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        reads_log = "FROM facts" in statement or (
            "FROM log_head" in statement and "FOR UPDATE" not in statement)  # not the writer's lock
        if reads_log and threading.current_thread().name in reads:
            reads[threading.current_thread().name].append(statement)

    engine = db.engine_for(url, write=False)
    event.listen(engine, "before_cursor_execute", count)
    follower.start()
    try:
        follower.catch_up()  # after the follower's first look, at start, however long it took
        for found in reads.values():
            found.clear()
        loop = asyncio.new_event_loop()
        for n in range(5):  # five batches, one after another
            report = ReportIn(shelter_id=door.id, kind="locked",  # type: ignore[arg-type]
                              device_id=f"phone-000{n}")
            loop.run_until_complete(writer.submit(report, key=None, address="127.0.0.1"))
            assert heard.count("observation.recorded") == n + 1  # applied before its answer
        time.sleep(1.0)  # their notifications have come back by now
        assert reads["report-writer"] == []  # the writer handed its facts over
        # Five notifications, and at most one look at the log (a loaded machine may keep the
        # writer from handing over within the follower's grace once).
        assert len(reads["log-follower"]) <= 1, reads["log-follower"]
        heard.clear()
        subprocess.run([sys.executable, "-c", "import sys; from tests.log.test_follower import "
                        "append_one; append_one(sys.argv[1])", url], check=True, timeout=60)
        deadline = time.monotonic() + 10
        while "alert.started" not in heard and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "alert.started" in heard  # another process's fact: the follower read it
        loop.close()
    finally:
        follower.stop()
        event.remove(engine, "before_cursor_execute", count)
        db.dispose(url)
