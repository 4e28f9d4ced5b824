"""Per-channel send limits as token buckets, so a surge never trips a provider's flood control.

Providers publish their limits: Telegram about 30 messages a second per bot and about one a second
per chat (short bursts tolerated), an SMS gateway its contracted throughput. A bucket holds up to
`burst` tokens and refills at `rate_per_s`; a send takes one token from every bucket it passes
(the channel's global one and the recipient's). When a bucket is empty the answer is how long to
wait, and nothing is taken, so a message held back costs no one else their turn. A provider's own
"retry after N seconds" pauses the bucket it names. Time is a number passed in (seconds), never
read here, so the buckets are a pure rule the tests drive with any clock. `split_by_limits` judges
a claimed round against them (and the deployment-wide allowances, asked for at once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shelterwatch.notify.base import Message


@dataclass(frozen=True, slots=True)
class Limit:
    """A published limit: `rate_per_s` sustained, up to `burst` at once."""

    rate_per_s: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("a limit needs a positive rate and a burst of at least one")


@dataclass(slots=True)
class _Bucket:
    limit: Limit
    tokens: float
    at: float
    paused_until: float = 0.0

    def refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.limit.burst,
                              self.tokens + (now - self.at) * self.limit.rate_per_s)
            self.at = now


@dataclass(slots=True)
class Throttle:
    """Token buckets by key; `reserve` takes a token from each named bucket or says how long to
    wait. Buckets that refilled completely are forgotten (`forget_full`), so memory follows the
    recipients of the last few seconds, not every recipient ever served."""

    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, key: str, limit: Limit, now: float) -> _Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(limit=limit, tokens=limit.burst, at=now)
        bucket.limit = limit
        bucket.refill(now)
        return bucket

    def wait_s(self, key: str, limit: Limit, now: float) -> float:
        """Seconds until this bucket can give a token (0 when it can now)."""
        bucket = self._bucket(key, limit, now)
        if bucket.paused_until > now:
            return bucket.paused_until - now
        if bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / limit.rate_per_s

    def reserve(self, wanted: list[tuple[str, Limit]], now: float) -> float:
        """Take one token from every bucket in `wanted`, or none and return the longest wait."""
        wait = max((self.wait_s(key, limit, now) for key, limit in wanted), default=0.0)
        if wait > 0:
            return wait
        for key, _ in wanted:
            self.buckets[key].tokens -= 1
        return 0.0

    def paused_s(self, keys: list[str], now: float) -> float:
        """Seconds until none of these buckets is paused by a provider's "retry after"."""
        return max((b.paused_until - now for k in keys if (b := self.buckets.get(k))
                    is not None), default=0.0)

    def pause(self, key: str, limit: Limit, *, until: float, now: float) -> None:
        """The provider said "retry after": nothing more through this bucket until then."""
        bucket = self._bucket(key, limit, now)
        bucket.paused_until = max(bucket.paused_until, until)
        bucket.tokens = min(bucket.tokens, 0.0)

    def forget_full(self, now: float) -> None:
        """Drop buckets that are full again (a new one would start full too)."""
        for key, bucket in list(self.buckets.items()):
            bucket.refill(now)
            if bucket.paused_until <= now and bucket.tokens >= bucket.limit.burst:
                del self.buckets[key]


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """A channel's published limits: all its sends together, and each recipient's."""

    overall: Limit
    per_recipient: Limit | None = None


# What the deployment-wide allowance grants a round of sends: each send names the buckets it needs
# (its channel's, its recipient's) and gets back how long to wait, 0 when it may go now; judged
# in order, all of a send's buckets or none: (asks, now in epoch seconds) -> waits.
SharedAllowance = Callable[[Sequence[Sequence[tuple[str, Limit]]], float], list[float]]
# A provider's "retry after", told to one worker, held by all: (bucket key, its limit, until in
# epoch seconds).
SharedPause = Callable[[str, Limit, float], None]


@dataclass(slots=True)
class OutboxThrottle:
    """The buckets of one sending process, by channel and by (channel, recipient address).

    With `shared` (the worker passes one kept in the database), a channel's overall limit and
    each recipient's (Telegram's ~1/s per chat) also hold across every worker of the deployment,
    so two workers that both hold messages for one chat send them at the chat's rate, not
    twice it. A provider's "retry after" pauses the recipient's bucket (the channel's, for a
    channel without per-recipient limits) here and, with `shared_pause`, for every worker.
    """

    limits: dict[str, ChannelLimits]
    throttle: Throttle = field(default_factory=Throttle)
    shared: SharedAllowance | None = None
    shared_pause: SharedPause | None = None

    def wanted(self, channel: str, address: str) -> list[tuple[str, Limit]]:
        """The buckets one send through `channel` to `address` takes a unit of, by key."""
        limits = self.limits.get(channel)
        if limits is None:
            return []
        wanted = [(channel, limits.overall)]
        if limits.per_recipient is not None:
            wanted.append((f"{channel}|{address}", limits.per_recipient))
        return wanted

    def reserve(self, channel: str, address: str, now: float) -> float:
        """0 and a token taken from the channel's and the recipient's buckets, or the wait.

        With `shared`, the deployment-wide allowances count the sends, and this process's
        buckets only keep the pauses it was told of: counting twice would spend a local token
        on every send the shared allowance then holds back.
        """
        wanted = self.wanted(channel, address)
        if self.shared is not None:
            return max(0.0, self.throttle.paused_s([key for key, _ in wanted], now))
        return self.throttle.reserve(wanted, now)

    def retry_after(self, channel: str, address: str, *, seconds: float, now: float) -> None:
        """The provider throttled this recipient: hold everything to them for `seconds`."""
        wanted = self.wanted(channel, address)
        if wanted:
            key, limit = wanted[-1]
            self.throttle.pause(key, limit, until=now + seconds, now=now)
            if self.shared_pause is not None:
                self.shared_pause(key, limit, now + seconds)

    def tidy(self, now: float) -> None:
        self.throttle.forget_full(now)


# A claimed delivery: its id, its claim token, its channel and the message.
Claimed = tuple[int, str, str, Message]


def split_by_limits(claimed: list[Claimed], throttle: OutboxThrottle, now: datetime
                    ) -> tuple[list[Claimed], list[tuple[int, str, float]]]:
    """(what the limits let through now, what must wait and how long), tokens taken."""
    ready: list[Claimed] = []
    held: list[tuple[int, str, float]] = []
    for item in claimed:
        wait = throttle.reserve(item[2], item[3].address, now.timestamp())
        if wait > 0:
            held.append((item[0], item[1], wait))
        else:
            ready.append(item)
    if throttle.shared is not None and ready:
        ready = _within_shared(ready, throttle, held, now.timestamp())
    throttle.tidy(now.timestamp())
    return ready, held


def _within_shared(ready: list[Claimed], throttle: OutboxThrottle,
                   held: list[tuple[int, str, float]], now_s: float) -> list[Claimed]:
    """Of what this process's buckets let through, what the deployment-wide allowances (the
    channel's, the recipient's) grant, asked for the whole round at once; the rest joins `held`,
    spaced at the channel's rate and at each recipient's, so they do not all return together."""
    assert throttle.shared is not None
    limited = [(item, wanted) for item in ready
               if (wanted := throttle.wanted(item[2], item[3].address))]
    if not limited:
        return ready
    waits = throttle.shared([wanted for _, wanted in limited], now_s)
    refused: set[int] = set()
    behind: dict[str, int] = {}  # refusals so far per bucket this round
    for (item, wanted), wait in zip(limited, waits, strict=True):
        if wait <= 0:
            continue
        spaced = wait
        for key, limit in wanted:
            behind[key] = behind.get(key, 0) + 1
            spaced = max(spaced, behind[key] / limit.rate_per_s)
        held.append((item[0], item[1], spaced))
        refused.add(item[0])
    return [c for c in ready if c[0] not in refused]
