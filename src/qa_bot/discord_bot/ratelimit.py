"""Per-user token buckets: a burst of questions at once, then a steady rate."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBuckets:
    """`burst` tokens per key, refilled at `per_minute`; memory bounded by `max_keys`."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000):
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, when counted)

    def take(self, key: int) -> float:
        """Spend one token: 0.0 if there was one, else the seconds until there will be."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._prune(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget users whose bucket has refilled: they are indistinguishable from new ones."""
        if len(self._buckets) <= self.max_keys:
            return
        full = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
