"""Send limits as token buckets: never more than a provider allows, and no one starved."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shelterwatch.outbox.throttle import ChannelLimits, Limit, OutboxThrottle, Throttle


@settings(deadline=None)  # the check is quadratic in the sends; the machine is shared
@given(st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1,
                max_size=200),
       st.floats(min_value=0.5, max_value=50), st.integers(1, 10))
def test_no_window_ever_carries_more_than_the_burst_plus_the_rate(
        offsets: list[float], rate: float, burst: int) -> None:
    throttle, limit = Throttle(), Limit(rate, burst)
    sent = [t for t in sorted(offsets) if throttle.reserve([("k", limit)], t) == 0]
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            window = sent[j] - start
            assert j - i + 1 <= burst + rate * window + 1e-6


def test_a_message_held_back_is_told_how_long_to_wait_and_nothing_is_taken() -> None:
    throttle = OutboxThrottle({"telegram": ChannelLimits(Limit(30, 30), Limit(1, 1))})
    assert throttle.reserve("telegram", "chat-1", 0.0) == 0
    assert throttle.reserve("telegram", "chat-1", 0.0) == 1.0  # this chat: one a second
    assert throttle.reserve("telegram", "chat-2", 0.0) == 0  # another chat is not held up
    assert throttle.reserve("telegram", "chat-1", 1.0) == 0
    assert throttle.reserve("email", "anyone", 0.0) == 0  # no published limit, no wait


def test_retry_after_holds_the_recipient_until_then() -> None:
    throttle = OutboxThrottle({"telegram": ChannelLimits(Limit(30, 30), Limit(1, 3))})
    throttle.retry_after("telegram", "chat-1", seconds=5, now=0.0)
    assert throttle.reserve("telegram", "chat-1", 4.0) == 1.0
    assert throttle.reserve("telegram", "chat-1", 5.0) == 0
    assert throttle.reserve("telegram", "chat-2", 0.0) == 0


def test_buckets_of_quiet_recipients_are_forgotten() -> None:
    throttle = OutboxThrottle({"telegram": ChannelLimits(Limit(30, 30), Limit(1, 3))})
    for n in range(100):
        throttle.reserve("telegram", f"chat-{n}", 0.0)
    throttle.tidy(10.0)
    assert throttle.throttle.buckets == {}
