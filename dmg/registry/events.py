"""Registry events from the durable log, for any number of subscribers, whichever process wrote them.

Every subscriber reads the store itself, from its own cursor (:meth:`EventFeed.subscribe`), so none can fall behind
and lose events, and none depends on being connected when an entry was written. The feed only says *when* to read
again: the registry tells it after each of its own commits (:meth:`EventFeed.committed`), and while anyone is
subscribed a watcher reads the log's size every ``poll_interval`` seconds, so entries another process appended to
the same store (``dmg publish`` on a data directory while ``dmg serve`` runs on it) reach subscribers within about
that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from dmg.api.events import RegistryEvent
from dmg.core.errors import DmgError

DEFAULT_POLL_INTERVAL: Final = 0.25
PAGE: Final = 256
"""Events read from the store per read while a subscriber catches up."""

logger = logging.getLogger("dmg.registry")

Reader = Callable[[int, int], Awaitable[list[RegistryEvent]]]
"""Reads up to ``limit`` events after ``position`` from the log."""


class EventFeed:
    """Wakes subscribers when the log grows; see the module docstring."""

    def __init__(self, size: Callable[[], Awaitable[int]], read: Reader, poll_interval: float = DEFAULT_POLL_INTERVAL):
        self._size = size
        self._read = read
        self.poll_interval = poll_interval
        self._known = 0
        self._grew = asyncio.Event()
        self._subscribers = 0
        self._watcher: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return self._subscribers

    def committed(self, size: int) -> None:
        """The log now has ``size`` entries (the registry's own commit, or what the watcher read)."""
        if size > self._known:
            self._known = size
            grew, self._grew = self._grew, asyncio.Event()
            grew.set()

    async def subscribe(self, after: int | None = None) -> AsyncIterator[RegistryEvent]:
        """Every event after position ``after`` (None: from now on), in order, until the caller stops iterating."""
        if after is not None and (isinstance(after, bool) or after < 0):
            raise DmgError(f"after: a position in the log is 0 or more, not {after!r}")
        self._subscribers += 1
        self._ensure_watcher()
        try:
            position = await self._size() if after is None else after
            while True:
                grew = self._grew
                events = await self._read(position, PAGE)
                for event in events:
                    yield event
                    position = event.position
                if not events:
                    await grew.wait()
        finally:
            self._subscribers -= 1
            if self._subscribers == 0 and self._watcher is not None:
                self._watcher.cancel()
                self._watcher = None

    def _ensure_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                self.committed(await self._size())
            except DmgError as exc:
                logger.warning("cannot read the log's size for subscribers: %s", exc)

    async def close(self) -> None:
        """Stop watching; subscribers still iterating are ended by their own cancellation."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
