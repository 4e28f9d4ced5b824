"""One worker leads each singleton job; when it dies, another takes the job over."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.alerts.sources.polling import Snapshot
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.log import signing
from shelterwatch.log.tree_models import TreeHead
from shelterwatch.vocabulary import AlertType
from shelterwatch.worker import feeds
from shelterwatch.worker.leader import Leadership, Singleton, lock_key
from tests.support.server import ChildProcess
from tests.support.worker import running, worker_settings


def test_one_process_leads_a_job_until_it_lets_go(db_url: str) -> None:
    first, second = Leadership(db_url, "pack"), Leadership(db_url, "pack")
    other_job = Leadership(db_url, "signed-heads")
    try:
        assert first.held()
        assert not second.held()
        assert first.held(), "asking again keeps the lead"
        assert other_job.held(), "each job has its own leader"
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        for lead in (first, second, other_job):
            lead.release()


def test_every_node_names_a_job_by_the_same_key() -> None:
    assert lock_key("pack") == lock_key(Singleton.PACK)
    assert lock_key("pack") != lock_key("signed-heads")
    assert -2**63 <= lock_key("feed:alerts-in-ua") < 2**63


def _wait(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_only_the_leading_worker_publishes_the_pack(settings: Settings, tmp_path: Path) -> None:
    shared = tmp_path / "pack"
    one = worker_settings(settings, pack_dir=str(shared))
    with running(one) as first:
        assert first.pack is not None and first.pack.publishes == 1
        with running(one) as second:
            time.sleep(1.0)
            assert second.pack is not None and second.pack.publishes == 0, \
                "a worker that does not lead the pack never writes it"
            first.stop()  # the leader goes; its lock with it
            assert _wait(lambda: second.leads[Singleton.PACK].leading, 5)
            with db.transaction(settings.database_url) as s:
                now = utcnow()
                alerts.start(s, area_id="31", type=AlertType.AIR_RAID, started_at=now,
                             source="test", actor="test", now=now)
            assert _wait(lambda: b'"air_raid"' in (shared / "pack.json").read_bytes(), 10), \
                "the new leader did not publish the alert"
            assert second.pack.publishes >= 1


@pytest.mark.slow
def test_a_second_worker_signs_heads_only_once_the_first_is_killed(
        settings: Settings, tmp_path: Path, make_token: Callable[..., str]) -> None:
    """Two `shelterwatch worker` processes with their own signing keys: every head is signed by
    one of them until it is SIGKILLed, then by the other, without a restart."""
    keys = [tmp_path / f"key-{n}.pem" for n in range(2)]
    base = {"DATABASE_URL": settings.database_url, "SHELTERWATCH_WORKER_TICK_S": "0.1",
            "SHELTERWATCH_LOG_HEAD_EVERY_FACTS": "1", "SHELTERWATCH_LOG_HEAD_EVERY_S": "0",
            "SHELTERWATCH_NOTIFY_CHANNELS": "webhook"}
    workers = [ChildProcess({**base, "SHELTERWATCH_LOG_KEY_PATH": str(k)},
                            tmp_path / f"worker-{n}.log") for n, k in enumerate(keys)]

    def signers() -> list[str]:
        with db.reading(settings.database_url) as s:
            return list(s.execute(select(TreeHead.key_id).order_by(TreeHead.tree_size))
                        .scalars())

    try:
        for w in workers:
            w.spawn(["shelterwatch.cli.main", "worker"])
        assert _wait(lambda: all(k.exists() for k in keys), 30), "the workers did not start"
        key_ids = [signing.public(signing.load_or_create(k)).key_id for k in keys]
        for n in range(3):
            make_token("operator", name=f"desk {n}")
            assert _wait(lambda n=n: len(signers()) > n, 15), "no head was signed"
        leader = key_ids.index(signers()[0])
        assert set(signers()) == {key_ids[leader]}, "two workers signed heads at once"

        workers[leader].kill()
        signed_before = len(signers())
        killed_at = time.monotonic()
        make_token("operator", name="after the kill")
        assert _wait(lambda: len(signers()) > signed_before, 20), "nobody took over"
        print(f"\nsigned heads taken over {time.monotonic() - killed_at:.1f} s after the kill")
        assert signers()[signed_before:] == [key_ids[1 - leader]] * (len(signers())
                                                                      - signed_before)
    finally:
        for w in workers:
            w.stop()


class _Stop(Exception):
    pass


class _QuietFeed:
    """A provider answering "nothing changed": enough to see whether a poll was made."""

    source = "alerts-in-ua"

    def __init__(self) -> None:
        self.fetches = 0

    def fetch(self, known_areas: set[str], cursor: str | None) -> Snapshot:
        self.fetches += 1
        return Snapshot(alerts=None, cursor=cursor)


def test_a_feed_polled_from_two_nodes_is_fetched_by_its_leader_alone(settings: Settings) -> None:
    holder = Leadership(settings.database_url, f"{Singleton.FEED}:alerts-in-ua")
    assert holder.held()  # another node's poller leads this provider's feed
    feed, naps = _QuietFeed(), []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            holder.release()  # … and dies
        if len(naps) == 6:
            raise _Stop

    with pytest.raises(_Stop):
        feeds.poll(feed, settings, once=False, sleep=sleep)
    assert feed.fetches == 3, "polled only after the leader was gone, once a turn"
