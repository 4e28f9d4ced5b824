"""Per-device and per-address limits on anonymous writes, with a clear 429.

A generic cell-rate algorithm per key: O(1) memory per sender, bursts up to the limit allowed,
then one more every window/limit seconds. The per-address default (600 a minute) lets a whole
carrier-grade NAT through during an alert; the per-device limit is the one that stops a single
phone. The limits are per process: N workers behind a balancer allow N times as much, which errs
on the side of letting reports in.
"""

from __future__ import annotations

import math
import threading
import time

from shelterwatch.config import Settings
from shelterwatch.errors import TooManyRequests


class RateLimit:
    """`limit` hits per `window_s` seconds per key."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self.interval = window_s / self.limit
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one hit; None if allowed, else the seconds until the next one would be."""
        now = time.monotonic() if now is None else now
        tolerance = self.window_s - self.interval
        with self._lock:
            if now >= self._next_prune:
                self._tat = {k: t for k, t in self._tat.items() if t > now}
                self._next_prune = now + self.window_s
            tat = max(self._tat.get(key, now), now)
            if tat - now > tolerance:
                return tat - now - tolerance
            self._tat[key] = tat + self.interval
            return None


class ReportLimits:
    """The two limits every anonymous write passes."""

    def __init__(self, settings: Settings) -> None:
        self.per_device = RateLimit(settings.reports_per_device_per_hour, 3600.0)
        self.per_address = RateLimit(settings.reports_per_address_per_minute, 60.0)

    def check(self, *, device_id: str | None, address: str | None) -> None:
        if address:
            wait = self.per_address.hit(address)
            if wait is not None:
                raise TooManyRequests(
                    f"too many reports from this network address (limit "
                    f"{self.per_address.limit} a minute); retry in {math.ceil(wait)} s",
                    retry_after_s=math.ceil(wait))
        if device_id:
            wait = self.per_device.hit(device_id)
            if wait is not None:
                raise TooManyRequests(
                    f"too many reports from this device (limit {self.per_device.limit} an "
                    f"hour); retry in {math.ceil(wait)} s", retry_after_s=math.ceil(wait))
