"""Following a registry's events for as long as one likes: reconnecting, resuming after the last position seen.

:func:`follow` wraps :meth:`RegistryClient.subscribe <dmg.client.base.RegistryClient.subscribe>`: when the
connection breaks (the registry restarts, the network drops) it waits with exponential backoff and jitter, then
subscribes again after the last position it yielded, so the caller sees every event exactly once, in order, for
as long as it iterates. Errors that are not about reaching the registry (a forged entry, a registry reordering
events) are raised, not retried: a lying registry is not a flaky one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Final

from dmg.api.events import RegistryEvent
from dmg.client.base import RegistryClient
from dmg.client.errors import RegistryUnavailableError

FIRST_DELAY: Final = 0.1
MAX_DELAY: Final = 10.0

logger = logging.getLogger("dmg.client")


def backoff(attempt: int, first: float = FIRST_DELAY, ceiling: float = MAX_DELAY) -> float:
    """The wait before retry ``attempt`` (0, 1, ...): exponential up to ``ceiling``, with full jitter."""
    return random.uniform(0, min(ceiling, first * 2**attempt))


async def follow(
    client: RegistryClient,
    after: int | None = None,
    *,
    on_reconnect: Callable[[RegistryUnavailableError], None] | None = None,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> AsyncIterator[RegistryEvent]:
    """Every event after ``after`` (None: from now on), across reconnections; see the module docstring."""
    last = after
    attempt = 0
    while last is None:
        # "From now on" is fixed once, as a position, so that a reconnection resumes from it rather than from later.
        try:
            last = await client.log_size()
        except RegistryUnavailableError as exc:
            if on_reconnect is not None:
                on_reconnect(exc)
            await asyncio.sleep(backoff(attempt, first_delay, max_delay))
            attempt += 1
    while True:
        try:
            async for event in client.subscribe(last):
                attempt = 0
                last = event.position
                yield event
        except RegistryUnavailableError as exc:
            if on_reconnect is not None:
                on_reconnect(exc)
            logger.info("registry subscription broke (%s); resuming after position %s", exc, last)
        await asyncio.sleep(backoff(attempt, first_delay, max_delay))
        attempt += 1
