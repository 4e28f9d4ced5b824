"""A provider's send limits hold across workers: two workers together send what one may, to the
provider as a whole and to each recipient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from shelterwatch import db
from shelterwatch.budgets import rule
from shelterwatch.budgets.models import RateCell
from shelterwatch.notify.base import Message
from shelterwatch.outbox.service import Claimed, within_limits
from shelterwatch.outbox.throttle import ChannelLimits, Limit, OutboxThrottle
from shelterwatch.worker.sends import shared_allowance, shared_pause

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
SMS = {"sms": ChannelLimits(Limit(5.0, burst=5.0))}
# Telegram's published limits: ~30 a second per bot, ~1 a second per chat
TELEGRAM = {"telegram": ChannelLimits(Limit(30.0, burst=30.0), Limit(1.0, burst=1.0))}


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


def _to_chats(chats: list[str]) -> list[Claimed]:
    return [(i, f"claim-{i}", "telegram", Message(address=chat, subject="", text="t"))
            for i, chat in enumerate(chats, start=1)]


def _offered(url: str, throttles: list[OutboxThrottle], work: list[Claimed],
             at: datetime) -> list[Claimed]:
    """Each worker offers every other message of `work` at `at`; what may go, all together."""
    return [c for n, t in enumerate(throttles)
            for c in within_limits(url, work[n::2], t, lambda: at)]


def test_two_workers_send_one_chat_its_own_rate_not_twice_it(db_url: str) -> None:
    workers = [OutboxThrottle(TELEGRAM, shared=shared_allowance(db_url)) for _ in range(2)]
    one_chat = ["4242"] * 4
    assert len(_offered(db_url, workers, _to_chats(one_chat), T0)) == 1
    assert len(_offered(db_url, workers, _to_chats(one_chat), T0 + timedelta(seconds=0.5))) == 0
    assert len(_offered(db_url, workers, _to_chats(one_chat), T0 + timedelta(seconds=1))) == 1
    # what the shared budget prevents: each worker's own bucket lets one through
    alone = [OutboxThrottle(TELEGRAM) for _ in range(2)]
    assert len(_offered(db_url, alone, _to_chats(one_chat), T0)) == 2


def test_many_chats_go_together_and_a_chat_held_spends_nothing_of_the_bot(db_url: str) -> None:
    bot = {"telegram": ChannelLimits(Limit(30.0, burst=3.0), Limit(1.0, burst=1.0))}
    workers = [OutboxThrottle(bot, shared=shared_allowance(db_url)) for _ in range(2)]
    # two for chat a (one must wait for the chat), then b and c: the bot's burst of 3 is
    # a, b and c — the held second message to a took none of it
    sent = _offered(db_url, workers, _to_chats(["a", "a", "b", "c"]), T0)
    assert sorted(c[3].address for c in sent) == ["a", "b", "c"]


def test_a_round_costs_the_same_few_statements_for_any_number_of_recipients(
        db_url: str) -> None:
    worker = OutboxThrottle(TELEGRAM, shared=shared_allowance(db_url))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.engine_for(db_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for n, size in enumerate((3, 30)):
            before = len(statements)
            chats = [f"{n}-{i}" for i in range(size)]
            sent = within_limits(db_url, _to_chats(chats), worker,
                                 lambda n=n: T0 + timedelta(seconds=10 * n))
            assert len(sent) == size
            per_round = len(statements) - before
            assert per_round <= 6, statements[before:]
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_no_contact_is_kept_in_the_budget_table(db_url: str) -> None:
    worker = OutboxThrottle(TELEGRAM, shared=shared_allowance(db_url))
    assert len(within_limits(db_url, _to_chats(["+380501234567"]), worker, lambda: T0)) == 1
    with db.reading(db_url) as session:
        keys = [c.key for c in session.query(RateCell).all()]
    assert any(k.startswith("telegram|") for k in keys), keys
    assert not any("380501234567" in k for k in keys), keys


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


@given(st.lists(st.tuples(st.integers(0, 20), st.floats(0, 3)), min_size=1, max_size=12),
       st.floats(0.5, 50), st.integers(1, 30))
def test_a_round_of_single_asks_grants_what_taking_as_many_at_once_would(
        asks: list[tuple[int, float]], rate: float, burst: int) -> None:
    """`take_each` of n one-bucket sends is `rate_take(n)`: sharing a recipient's bucket kept
    the channel's allowance what it was."""
    t = T0.timestamp()
    many: float | None = None
    tats: dict[rule.Cell, float] = {}
    allowance = rule.Allowance("s", "sms", rate, burst)
    for wanted, later in asks:
        t += later
        many, granted = rule.rate_take(many, t, wanted, rate, burst)
        waits, _ = rule.take_each(tats, [[allowance]] * wanted, t)
        assert sum(1 for w in waits if w == 0) == granted
        assert all(w > 0 for w in waits[granted:])


def test_a_chats_retry_after_told_to_one_worker_holds_the_other(db_url: str) -> None:
    told, other = (OutboxThrottle(TELEGRAM, shared=shared_allowance(db_url),
                                  shared_pause=shared_pause(db_url)) for _ in range(2))
    told.retry_after("telegram", "4242", seconds=5.0, now=T0.timestamp())
    # another chat is not held
    assert len(within_limits(db_url, _to_chats(["77"]), other,
                             lambda: T0 + timedelta(seconds=1))) == 1
    for later, expected in ((1.0, 0), (4.9, 0), (5.1, 1)):
        assert len(within_limits(db_url, _to_chats(["4242"]), other,
                                 lambda later=later: T0 + timedelta(seconds=later))) == expected
