"""A provider's rate limit kept by one worker process: a token bucket shared by its send threads.

The bucket is per process; several workers on one provider account each keep their own share
(set `rate_per_s` in the channel registry to the provider's limit divided by the workers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """At most `rate_per_s` takes a second on average, `burst` at once after a quiet spell."""

    def __init__(self, rate_per_s: float, burst: int = 1, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self.lock = threading.Lock()

    def wait_s(self) -> float:
        """Take a token if one is there (0.0), else say how long until the next one is."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0 - 1e-9:  # float rounding must not leave a waiter spinning
                self.tokens = max(0.0, self.tokens - 1.0)
                return 0.0
            return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        """Block until a send is allowed."""
        while (wait := self.wait_s()) > 0:
            self.sleep(wait)
