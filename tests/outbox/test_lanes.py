"""The worker's delivery lanes: most urgent first, many in flight, within the provider's rate."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.log import service as log
from shelterwatch.notify.base import Message
from shelterwatch.notify.registry import ChannelSpec
from shelterwatch.outbox import priority
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.lanes import Lane
from shelterwatch.outbox.limits import TokenBucket
from shelterwatch.outbox.models import Delivery
from shelterwatch.vocabulary import FactKind

T0 = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)


def check_in(n: int, channel: str = "webhook") -> outbox.Outgoing:
    return outbox.Outgoing(subject=f"alert:1:shelter:{n}", step="check_in",
                           recipient=f"keyholder:{n}:{channel}", channel=channel,
                           address=f"http://127.0.0.1:9/{n}", title="Alert", body="Open it")


def unlock(n: int) -> outbox.Outgoing:
    return outbox.Outgoing(subject="alert:1", step="unlock", recipient=f"door:{n}",
                           channel="door", address=str(n), title="unlock", body="unlock")


def test_a_door_unlock_queued_after_check_ins_is_claimed_before_them(settings, session):
    outbox.enqueue_many(session, [check_in(n) for n in range(5)], now=T0, actor="worker")
    outbox.enqueue(session, unlock(7), now=T0 + timedelta(seconds=1), actor="worker")
    outbox.enqueue(session, outbox.Outgoing(
        subject="incident:3", step="notify_keyholders", recipient="keyholder:9:webhook",
        channel="webhook", address="http://127.0.0.1:9/9", title="Locked", body="Open it"),
        now=T0 + timedelta(seconds=1), actor="worker")
    session.commit()
    later = T0 + timedelta(seconds=2)
    with db.transaction(settings.database_url) as s:
        first = [r.recipient for r in outbox.claim(s, now=later, lease_s=60, limit=2)]
    assert first == ["door:7", "keyholder:9:webhook"]


def test_queueing_many_skips_those_already_queued_and_logs_each_new_one(settings, session):
    assert outbox.enqueue_many(session, [check_in(n) for n in range(3)], now=T0,
                               actor="worker") == 3
    assert outbox.enqueue_many(session, [check_in(n) for n in range(5)], now=T0,
                               actor="worker") == 2
    session.commit()
    rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [r.recipient for r in rows] == [f"keyholder:{n}:webhook" for n in range(5)]
    assert {r.priority for r in rows} == {priority.ALERT}
    facts = [log.public_view(f) for f in log.after(session, 0)]
    queued = [f for f in facts if f["kind"] == FactKind.NOTIFICATION_QUEUED]
    assert [f["payload"]["delivery"] for f in queued] == [r.id for r in rows]
    assert "127.0.0.1:9" not in str(facts)  # the address stays private
    assert log.verify(session).ok


class SlowReceiver:
    """A channel whose sends take a while, counting how many are in flight at once."""

    name = "webhook"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.in_flight = self.most = 0
        self.sent: list[str] = []

    def send(self, message: Message) -> str | None:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(self.delay_s)
        with self.lock:
            self.in_flight -= 1
            self.sent.append(message.delivery_key)
        return None


def test_a_lane_keeps_several_sends_in_flight_and_settles_each_once(settings, session):
    outbox.enqueue_many(session, [check_in(n) for n in range(40)], now=T0, actor="worker")
    session.commit()
    receiver = SlowReceiver(delay_s=0.02)
    lane = Lane("webhook", receiver, ChannelSpec(path="", concurrency=4),
                database_url=settings.database_url, clock=lambda: T0, lease_s=60,
                max_attempts=3, backoff_base_s=1)
    deadline = time.monotonic() + 60
    while len(receiver.sent) < 40 or lane.in_flight:
        assert time.monotonic() < deadline, "the lane stalled"
        lane.step()
        time.sleep(0.005)
    lane.close()
    assert 1 < receiver.most <= 4
    assert len(receiver.sent) == len(set(receiver.sent))  # none twice
    session.expire_all()
    states = dict(session.execute(select(Delivery.state, func.count())
                                  .group_by(Delivery.state)).all())
    assert states == {"sent": 40}
    kinds = [f.kind for f in log.after(session, 0, limit=1000)]
    assert kinds.count(FactKind.NOTIFICATION_SENT) == 40
    assert log.verify(session).ok


def test_a_lane_sends_only_its_own_channel(settings, session):
    outbox.enqueue_many(session, [check_in(1), check_in(2, channel="sms")], now=T0,
                        actor="worker")
    session.commit()
    receiver = SlowReceiver(delay_s=0)
    lane = Lane("webhook", receiver, ChannelSpec(path="", concurrency=2),
                database_url=settings.database_url, clock=lambda: T0, lease_s=60,
                max_attempts=3, backoff_base_s=1)
    for _ in range(20):
        lane.step()
        time.sleep(0.01)
    lane.close()
    assert receiver.sent == ["alert:1:shelter:1:check_in:keyholder:1:webhook"]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(rate=st.floats(min_value=0.5, max_value=200), burst=st.integers(1, 50),
       takes=st.integers(1, 300))
def test_a_token_bucket_never_lets_more_through_than_burst_plus_rate_times_time(
        rate: float, burst: int, takes: int) -> None:
    fake = FakeTime()
    bucket = TokenBucket(rate, burst, clock=fake.clock, sleep=fake.sleep)
    for _ in range(takes):
        bucket.take()
    # After n takes from a full bucket, at least (n - burst) / rate seconds have passed.
    assert fake.now >= (takes - burst) / rate - 1e-6
    # ... and not much more: the bucket makes nobody wait without need.
    assert fake.now <= max(0.0, (takes - burst) / rate) + 1e-6 * takes + 1e-9
