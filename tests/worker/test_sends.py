"""A provider's send limit holds across workers: two workers together send what one may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.budgets import rule
from shelterwatch.notify.base import Message
from shelterwatch.outbox.service import Claimed, within_limits
from shelterwatch.outbox.throttle import ChannelLimits, Limit, OutboxThrottle
from shelterwatch.worker.sends import shared_allowance

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
SMS = {"sms": ChannelLimits(Limit(5.0, burst=5.0))}


def _claimed(n: int, channel: str = "sms") -> list[Claimed]:
    return [(i, f"claim-{i}", channel, Message(address=f"+3805000{i:05d}", subject="", text="t"))
            for i in range(1, n + 1)]


def _send_round(url: str, throttles: list[OutboxThrottle], at: datetime) -> int:
    """Each worker offers its half of 40 waiting SMS at `at`; how many may go, all together."""
    work = _claimed(40)
    return sum(len(within_limits(url, work[n::2], t, lambda: at))
               for n, t in enumerate(throttles))


def test_two_workers_share_one_sms_gateways_rate(db_url: str) -> None:
    workers = [OutboxThrottle(SMS, shared=shared_allowance(db_url)) for _ in range(2)]
    assert _send_round(db_url, workers, T0) == 5, "the burst is the gateway's, not each worker's"
    assert _send_round(db_url, workers, T0 + timedelta(seconds=1)) == 5
    assert _send_round(db_url, workers, T0 + timedelta(seconds=1.1)) == 0


def test_each_worker_alone_would_send_the_whole_rate(db_url: str) -> None:
    """What the shared allowance prevents: per-process buckets double the provider's rate."""
    workers = [OutboxThrottle(SMS) for _ in range(2)]
    assert _send_round(db_url, workers, T0) == 10


def test_channels_without_a_limit_are_never_held(db_url: str) -> None:
    worker = OutboxThrottle(SMS, shared=shared_allowance(db_url))
    assert len(within_limits(db_url, _claimed(30, "webhook"), worker, lambda: T0)) == 30


@given(st.lists(st.tuples(st.integers(0, 20), st.floats(0, 3)), min_size=1, max_size=12),
       st.floats(0.5, 50), st.integers(1, 30))
def test_taking_many_at_once_grants_what_one_at_a_time_would(
        asks: list[tuple[int, float]], rate: float, burst: int) -> None:
    """`rate_take(n)` is `n` single takes: the same allowance, however a worker batches."""
    t = T0.timestamp()
    many: float | None = None
    ones: float | None = None
    for wanted, later in asks:
        t += later
        many, granted = rule.rate_take(many, t, wanted, rate, burst)
        singles = 0
        while singles < wanted:
            ones, got = rule.rate_take(ones, t, 1, rate, burst)
            if not got:
                break
            singles += 1
        assert granted == singles
        assert granted <= wanted
