"""Per-client allowance of writes: :class:`WriteLimiter` is a token bucket per client address.

Body-size limits are in :mod:`dmg.http.limits`; limits on GraphQL operations (depth and cost) are in
:mod:`dmg.http.graphql_cost`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from dmg.core.errors import RateLimitedError

MAX_TRACKED_CLIENTS: Final = 10_000


class WriteLimiter:
    """A token bucket per client: ``burst`` writes at once, then ``rate`` per second; rate 0 allows everything."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, client: str) -> None:
        if self.rate == 0:
            return
        now = self.clock()
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < 1:
            wait = (1 - tokens) / self.rate
            raise RateLimitedError(
                f"too many writes from {client}: at most {self.rate:g} per second after a burst of {self.burst}; "
                f"retry in {wait:.1f} s",
                retry_after=wait,
            )
        if len(self._buckets) >= MAX_TRACKED_CLIENTS and client not in self._buckets:
            self._forget_idle(now)
        self._buckets[client] = (tokens - 1, now)

    def _forget_idle(self, now: float) -> None:
        """Drop clients whose buckets have refilled: forgetting them changes nothing they are allowed."""
        full_after = self.burst / self.rate
        self._buckets = {client: state for client, state in self._buckets.items() if now - state[1] < full_after}
