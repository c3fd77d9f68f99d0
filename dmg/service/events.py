"""In-process publish events: the write paths announce each accepted release; subscriptions listen.

:class:`EventHub` fans each :class:`PublishedEvent` out to one queue per subscriber. A subscriber that falls
more than ``backlog`` events behind is ended with an error rather than silently skipping events, so a listener
knows to re-read the log. Events live in this process only; nothing is persisted or shared between processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError
from dmg.core.semver import Version

DEFAULT_BACKLOG: Final = 256


@dataclass(frozen=True)
class PublishedEvent:
    """A release the registry accepted: the DXN, version and record envelope CID."""

    dxn: DXN
    version: Version
    record: CID


class _Subscriber:
    def __init__(self, backlog: int) -> None:
        self.queue: asyncio.Queue[PublishedEvent | None] = asyncio.Queue()
        self.backlog = backlog
        self.overflowed = False

    def offer(self, event: PublishedEvent) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.backlog:
            self.overflowed = True
            self.queue.put_nowait(None)
        else:
            self.queue.put_nowait(event)


class EventHub:
    """Fans publish events out to every current subscriber."""

    def __init__(self, backlog: int = DEFAULT_BACKLOG) -> None:
        self.backlog = backlog
        self._subscribers: set[_Subscriber] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: PublishedEvent) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(event)

    async def subscribe(self) -> AsyncIterator[PublishedEvent]:
        """Events published from now on, until the caller stops iterating (or falls too far behind)."""
        subscriber = _Subscriber(self.backlog)
        self._subscribers.add(subscriber)
        try:
            while True:
                event = await subscriber.queue.get()
                if event is None:
                    raise DmgError(
                        f"subscription fell more than {self.backlog} events behind and was ended; "
                        "subscribe again and read the versions published meanwhile"
                    )
                yield event
        finally:
            self._subscribers.discard(subscriber)
