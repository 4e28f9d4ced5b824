"""Fans the log's public events out to every `/v1/stream` client of this process.

Sized for a city's crowd on one process (ten thousand clients and more): a fact crosses from the
follower's thread to the event loop once per batch, not once per client; it is encoded once and
appended to one shared ring; each client is a small `Subscriber` that holds a position in that
ring and a future to wake it, with no queue, task group or timer of its own. Connecting and
dropping are a set insertion and removal, and one loop timer sends the keep-alives.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from shelterwatch.errors import TooManyRequests
from shelterwatch.log.models import Fact
from shelterwatch.stream.events import Event, encode_all
from shelterwatch.stream.ring import EventRing

logger = logging.getLogger(__name__)

# A client that heard nothing for a whole tick gets a comment: never silent for 2 ticks (30 s),
# well inside the minute after which proxies close a quiet connection.
KEEPALIVE_S = 15.0
RING_EVENTS = 2048  # ~1.5 MB at most; a client further behind resumes from the log
KEEPALIVE = b": keep-alive\n\n"


class Subscriber:
    """One connected client: where it is in the ring and how to wake it."""

    __slots__ = ("address", "after_seq", "gone", "heard", "index", "keepalive_due", "waiter")

    def __init__(self, address: str) -> None:
        self.address = address
        self.index = -1  # the ring's running index of the next event to write; set by `attach`
        self.after_seq = 0  # skip events up to it (a client that saw more than this process has)
        self.waiter: asyncio.Future[None] | None = None
        self.gone = False
        self.heard = False  # wrote something since the last keep-alive tick
        self.keepalive_due = False

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class StreamHub:
    """The ring, the set of subscribers and the per-address count, all owned by one event loop.

    `publish` is the only method called from other threads (the log follower's, or a request's
    catch-up); it hands the encoded batch to the loop with one `call_soon_threadsafe`.
    """

    def __init__(self, capacity: int = RING_EVENTS) -> None:
        self._capacity = capacity
        self._ring = EventRing(capacity)
        self._subscribers: set[Subscriber] = set()
        self._per_address: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick: asyncio.TimerHandle | None = None

    # --- the follower's side

    def begin(self, position: int) -> None:
        """Start on the running loop with the log's position: facts after it are streamed."""
        self._loop = asyncio.get_running_loop()
        self._ring = EventRing(self._capacity, position=position)
        self._schedule_keepalive()

    def close_on_signals(self) -> None:
        """End every stream when the process is told to stop (SIGTERM, SIGINT), then let the
        server's own handler run: uvicorn waits for open responses before it exits, and a stream
        never ends by itself, so a restart would hang until killed. Ended, clients reconnect at
        once (to another node behind the proxy) and resume with their Last-Event-ID."""
        if threading.current_thread() is not threading.main_thread():
            return  # signals are the main thread's (an app in a test client has none)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self.close)
                previous(signum, frame)

            signal.signal(sig, handler)

    def close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        for subscriber in self._subscribers:
            subscriber.gone = True
            subscriber.wake()

    def publish(self, facts: Sequence[Fact]) -> None:
        """Hand a batch of followed facts (seq order) to the loop; safe from any thread."""
        loop = self._loop
        if loop is None or not facts:
            return
        events = encode_all(facts)
        try:
            loop.call_soon_threadsafe(self._deliver, events, facts[-1].seq)
        except RuntimeError:  # the loop has closed: the process is stopping
            pass

    def _deliver(self, events: list[Event], position: int) -> None:
        self._ring.extend(events, position)
        if events:
            for subscriber in self._subscribers:
                subscriber.wake()

    # --- the clients' side (on the loop)

    @property
    def position(self) -> int:
        """The last fact seq this hub was handed."""
        return self._ring.position

    def covers(self, seq: int) -> bool:
        """Whether every event after `seq` is still in the ring (no database read needed)."""
        return seq >= self._ring.floor

    def connect(self, address: str = "", limit: int = 0) -> Subscriber:
        """A place for one client; more than `limit` open streams from one address are refused
        (each holds memory and a socket for as long as it lasts)."""
        return self.connect_subscriber(Subscriber(address), limit)

    def connect_subscriber(self, subscriber: Subscriber, limit: int = 0) -> Subscriber:
        """Count the subscriber against its address's `limit` (as `connect`)."""
        address = subscriber.address
        held = self._per_address.get(address, 0)
        if limit and held >= limit:
            raise TooManyRequests(f"this address already holds {held} open streams (limit "
                                  f"{limit}); close one first", retry_after_s=30)
        self._per_address[address] = held + 1
        if self._loop is None:  # an app served without its lifespan (a bare test client)
            self._loop = asyncio.get_running_loop()
        return subscriber

    def attach(self, subscriber: Subscriber, after: int) -> bool:
        """Start the subscriber at the first event after seq `after`; False when the ring no
        longer holds them all (the client is told to reconnect and resumes from the log)."""
        index = self._ring.index_after(after)
        if index is None:
            return False
        subscriber.index = index
        subscriber.after_seq = after if after > self._ring.position else 0
        self._subscribers.add(subscriber)
        return True

    def drop(self, subscriber: Subscriber) -> None:
        """The client went away: end its stream at its next wake-up, which is now."""
        subscriber.gone = True
        subscriber.wake()

    def disconnect(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        left = self._per_address.get(subscriber.address, 1) - 1
        if left > 0:
            self._per_address[subscriber.address] = left
        else:
            self._per_address.pop(subscriber.address, None)

    def pull(self, subscriber: Subscriber) -> list[bytes] | None:
        """What the subscriber has not yet written (events, or a keep-alive when one is due;
        empty when nothing is), without waiting; None ends the stream: the client left, or
        fell so far behind that the ring no longer holds its next event."""
        if subscriber.gone:
            return None
        ring = self._ring
        chunks = ring.since(subscriber.index, subscriber.after_seq)
        if chunks is None:
            return None
        if subscriber.after_seq and ring.position >= subscriber.after_seq:
            subscriber.after_seq = 0
        subscriber.index = ring.end
        if chunks:
            subscriber.heard = True
            return chunks
        if subscriber.keepalive_due:
            subscriber.keepalive_due = False
            return [KEEPALIVE]
        return chunks

    def behind(self, subscriber: Subscriber) -> bool:
        """Whether the ring has moved past the subscriber's next event."""
        return not self._ring.holds(subscriber.index)

    async def next_chunks(self, subscriber: Subscriber) -> list[bytes] | None:
        """As `pull`, waiting until there is something to write."""
        while (chunks := self.pull(subscriber)) is not None:
            if chunks:
                return chunks
            assert self._loop is not None
            subscriber.waiter = self._loop.create_future()
            try:
                await subscriber.waiter
            finally:
                subscriber.waiter = None
        return None

    def client_count(self) -> int:
        return len(self._subscribers)

    def _schedule_keepalive(self) -> None:
        assert self._loop is not None
        self._tick = self._loop.call_later(KEEPALIVE_S, self._keepalive)

    def _keepalive(self) -> None:
        for subscriber in self._subscribers:
            if not subscriber.heard:
                subscriber.keepalive_due = True
                subscriber.wake()
            subscriber.heard = False
        self._schedule_keepalive()
