"""The hub fans one process's facts out to its crowd: every client hears each event once and in
order, a client too slow for the ring is ended (to resume from the log) rather than silently
skipped, a quiet stream hears keep-alives, and a crowd that drops frees everything it held."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import orjson
import pytest

from shelterwatch.errors import TooManyRequests
from shelterwatch.log.models import Fact
from shelterwatch.stream.hub import KEEPALIVE, StreamHub, Subscriber

T0 = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)


def fact(seq: int, kind: str = "alert.started") -> Fact:
    return Fact(seq=seq, at=T0, kind=kind, actor="operator", private_digest="",
                payload=orjson.dumps({"id": seq, "area_id": "31"}).decode(),
                prev_hash="0" * 64, hash="0" * 64)


async def read(hub: StreamHub, subscriber: Subscriber, n: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < n:
        chunks = await asyncio.wait_for(hub.next_chunks(subscriber), 5)
        assert chunks is not None
        got.extend(chunks)
    return got


def test_a_burst_from_the_follower_thread_reaches_every_client_once_in_order() -> None:
    async def scenario() -> list[list[bytes]]:
        hub = StreamHub()
        hub.begin(10)
        clients = [hub.connect(f"10.0.0.{i % 7}") for i in range(200)]
        for c in clients:
            assert hub.attach(c, hub.position)
        # Facts come in batches from another thread; one of them is not for the public stream.
        batches = [[fact(11), fact(12, "report.received"), fact(13)], [fact(14)]]
        follower = threading.Thread(target=lambda: [hub.publish(b) for b in batches])
        follower.start()
        got = await asyncio.gather(*(read(hub, c, 3) for c in clients))
        follower.join()
        return got

    for got in asyncio.run(scenario()):
        assert [chunk.split(b"\n")[0] for chunk in got] == [b"id: 11", b"id: 13", b"id: 14"]


def test_a_client_too_slow_for_the_ring_is_ended_to_resume_from_the_log() -> None:
    async def scenario() -> list[bytes] | None:
        hub = StreamHub(capacity=4)
        hub.begin(0)
        slow = hub.connect()
        hub.attach(slow, 0)
        hub.publish([fact(seq) for seq in range(1, 12)])  # more than it holds, unread
        await asyncio.sleep(0)
        assert not hub.covers(0)
        return await hub.next_chunks(slow)

    assert asyncio.run(scenario()) is None


def test_a_recent_last_event_id_resumes_from_the_ring() -> None:
    async def scenario() -> list[bytes]:
        hub = StreamHub()
        hub.begin(0)
        hub.publish([fact(seq) for seq in range(1, 6)])
        await asyncio.sleep(0)
        back = hub.connect()
        assert hub.covers(3) and hub.attach(back, 3)
        return await read(hub, back, 2)

    assert [c.split(b"\n")[0] for c in asyncio.run(scenario())] == [b"id: 4", b"id: 5"]


def test_a_quiet_stream_hears_a_keepalive_and_a_busy_one_does_not() -> None:
    async def scenario() -> tuple[list[bytes] | None, bool]:
        hub = StreamHub()
        hub.begin(0)
        busy = hub.connect()
        hub.attach(busy, 0)
        hub.publish([fact(1)])
        await asyncio.sleep(0)
        quiet = hub.connect()
        hub.attach(quiet, hub.position)  # connected after the event: nothing to hear
        await read(hub, busy, 1)
        hub._keepalive()  # the loop's timer, once
        heard = await asyncio.wait_for(hub.next_chunks(quiet), 1)
        return heard, busy.keepalive_due

    heard, busy_due = asyncio.run(scenario())
    assert heard == [KEEPALIVE]
    assert not busy_due


def test_a_crowd_that_drops_frees_its_slots_and_its_addresses_limit() -> None:
    async def scenario() -> StreamHub:
        hub = StreamHub()
        hub.begin(0)
        crowd = [hub.connect("10.1.1.1", limit=5000) for _ in range(5000)]
        for c in crowd:
            hub.attach(c, 0)
        with pytest.raises(TooManyRequests):
            hub.connect("10.1.1.1", limit=5000)
        waiting = [asyncio.ensure_future(hub.next_chunks(c)) for c in crowd]
        await asyncio.sleep(0)
        for c in crowd:
            hub.drop(c)
        assert await asyncio.gather(*waiting) == [None] * 5000  # every stream ends
        for c in crowd:
            hub.disconnect(c)
        return hub

    hub = asyncio.run(scenario())
    assert hub.client_count() == 0
    asyncio.run(_connect_again(hub))


async def _connect_again(hub: StreamHub) -> None:
    hub.connect("10.1.1.1", limit=1)


def test_the_stream_carries_none_of_the_kinds_its_follower_skips() -> None:
    """The stream process's follower never loads the outbox's facts (an alert's surge is ten
    thousand of them): that is only right while no event is made of one."""
    from shelterwatch.stream.events import EVENT_OF_KIND
    from shelterwatch.vocabulary import NOTIFICATION_KINDS

    assert not set(EVENT_OF_KIND) & NOTIFICATION_KINDS
