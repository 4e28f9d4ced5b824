"""One lane per channel in the worker: sends in flight from a pool, settled as they finish.

A lane claims up to twice its `concurrency` due deliveries of its own channel (most urgent
first), hands them to its thread pool, and settles whatever finished every few tens of
milliseconds in one transaction, while it claims more as slots free up. So a webhook receiver
that hangs until its timeout holds one slot, not the lane; a throttled SMS gateway never holds
back door commands; and ten thousand check-ins cost a few hundred short transactions, not thirty
thousand. Several workers run the same lanes side by side: claims skip rows another holds.
"""

from __future__ import annotations

import logging
import queue as queues
import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from shelterwatch.notify.base import Channel
from shelterwatch.notify.registry import ChannelSpec
from shelterwatch.outbox import service
from shelterwatch.outbox.limits import TokenBucket

logger = logging.getLogger(__name__)

SETTLE_EVERY_S = 0.05


class Lane:
    """Delivers one channel's queue (or, with `channel=None`, every channel not in `others`)."""

    def __init__(self, name: str, channel: Channel | None, spec: ChannelSpec, *,
                 database_url: str, clock: Callable[[], datetime], lease_s: float,
                 max_attempts: int, backoff_base_s: float,
                 others: Collection[str] = ()) -> None:
        self.name, self.channel, self.spec = name, channel, spec
        self.url, self.clock = database_url, clock
        self.lease_s, self.max_attempts, self.backoff_base_s = (lease_s, max_attempts,
                                                                backoff_base_s)
        self.others = tuple(others)
        self.bucket = (TokenBucket(spec.rate_per_s, spec.burst)
                       if spec.rate_per_s is not None else None)
        self.pool = ThreadPoolExecutor(max_workers=max(1, spec.concurrency),
                                       thread_name_prefix=f"send-{name}")
        self.done: queues.SimpleQueue[tuple[str, service.Claimed, service.Outcome]] = (
            queues.SimpleQueue())
        self.in_flight = 0
        self.wake = threading.Event()
        self.sent_total = 0

    def _send(self, claimed: service.Claimed) -> service.Outcome:
        if self.bucket is not None:
            self.bucket.take()
        return service.send_one(self.channel, claimed.channel, claimed.message)

    def _claim(self) -> int:
        room = 2 * max(1, self.spec.concurrency) - self.in_flight
        if room < max(1, self.spec.concurrency // 2) and self.in_flight:
            return 0
        lane = None if self.channel is None else (self.name,)
        token, batch = service.claim_batch(self.url, now=self.clock(), lease_s=self.lease_s,
                                           limit=room, channels=lane,
                                           except_channels=self.others)
        for claimed in batch:
            future = self.pool.submit(self._send, claimed)
            future.add_done_callback(self._finished(token, claimed))
        self.in_flight += len(batch)
        return len(batch)

    def _finished(self, token: str, claimed: service.Claimed
                  ) -> Callable[[Future[service.Outcome]], None]:
        def put(future: Future[service.Outcome]) -> None:
            self.done.put((token, claimed, future.result()))
            self.wake.set()
        return put

    def _settle(self) -> int:
        by_token: dict[str, list[tuple[service.Claimed, service.Outcome]]] = {}
        while True:
            try:
                token, claimed, outcome = self.done.get_nowait()
            except queues.Empty:
                break
            by_token.setdefault(token, []).append((claimed, outcome))
        settled = 0
        pending = list(by_token.items())
        for n, (token, outcomes) in enumerate(pending):
            try:
                service.settle(self.url, token, outcomes, now=self.clock(),
                               max_attempts=self.max_attempts,
                               backoff_base_s=self.backoff_base_s)
            except Exception:  # the database is away: keep every unsettled outcome, retry
                for later_token, later in pending[n:]:
                    for claimed, outcome in later:
                        self.done.put((later_token, claimed, outcome))
                self.in_flight -= settled
                self.sent_total += settled
                raise
            settled += len(outcomes)
        self.in_flight -= settled
        self.sent_total += settled
        return settled

    def step(self) -> bool:
        """Claim what fits, settle what finished; True if anything moved."""
        claimed = self._claim()
        settled = self._settle()
        return bool(claimed or settled)

    def run(self, stop: threading.Event, idle_s: float) -> None:
        """Until `stop`: keep the pool full; sleep `idle_s` (or until woken) when idle."""
        while not stop.is_set():
            try:
                moved = self.step()
            except Exception:
                logger.exception("outbox lane %s failed; retrying", self.name)
                moved = False
            if self.in_flight:
                self.wake.wait(SETTLE_EVERY_S)
            elif not moved:
                self.wake.wait(idle_s)
            self.wake.clear()
        self.close()

    def close(self) -> None:
        """Let the sends in flight finish and record them."""
        self.pool.shutdown(wait=True)
        try:
            self._settle()
        except Exception:
            logger.exception("outbox lane %s could not settle on stop", self.name)
