"""Registry events: every entry a registry accepts, as a value with its position in the registry's log.

An event is the accepted log entry itself (a typed :mod:`dmg.core.records` entry: a claim, grant, revoke, release,
yank or unyank), its envelope block and CID, and its **position**: 1 for the first entry the registry accepted, 2 for
the next, with no gaps. The position is the cursor of every subscriber: whoever has seen the events up to ``p`` asks
for those after ``p`` and misses nothing, sees nothing twice, across restarts of either side. Events are derived from
the log alone, so they are as durable as the log.

:meth:`RegistryEvent.to_json` is the wire form (GraphQL ``events``); it carries the envelope, so a receiver can
verify the entry's signatures itself rather than trust the sender.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.records import (
    DXNEntry,
    NamespaceClaim,
    NamespaceEntry,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
    parse_entry,
)


class EventKind(StrEnum):
    CLAIM = "claim"
    GRANT = "grant"
    REVOKE = "revoke"
    RELEASE = "release"
    YANK = "yank"
    UNYANK = "unyank"


_KINDS: Final[dict[str, EventKind]] = {
    NamespaceClaim.TYPE: EventKind.CLAIM,
    NamespaceGrant.TYPE: EventKind.GRANT,
    NamespaceRevoke.TYPE: EventKind.REVOKE,
    Release.TYPE: EventKind.RELEASE,
    Yank.TYPE: EventKind.YANK,
    Unyank.TYPE: EventKind.UNYANK,
}


@dataclass(frozen=True)
class RegistryEvent:
    """One accepted entry at ``position`` in the registry's log."""

    position: int
    cid: CID
    envelope: bytes
    entry: NamespaceEntry | DXNEntry

    @classmethod
    def from_block(cls, position: int, cid: CID, envelope: bytes) -> RegistryEvent:
        """The event of a stored entry (whose block the registry verified when it accepted it)."""
        return cls(position, cid, envelope, parse_entry(Envelope.decode(envelope).payload))

    @property
    def kind(self) -> EventKind:
        return _KINDS[self.entry.TYPE]

    @property
    def namespace(self) -> str:
        return self.entry.namespace

    @property
    def log(self) -> str:
        return self.entry.log_name

    @property
    def time(self) -> int:
        return self.entry.time

    @property
    def dxn(self) -> DXN | None:
        return self.entry.dxn if isinstance(self.entry, DXNEntry) else None

    def to_json(self) -> dict[str, Any]:
        entry = self.entry
        return {
            "position": self.position,
            "kind": str(self.kind),
            "cid": str(self.cid),
            "log": self.log,
            "namespace": self.namespace,
            "time": self.time,
            "dxn": None if self.dxn is None else str(self.dxn),
            "version": str(entry.version) if isinstance(entry, DXNEntry) else None,
            "record": str(entry.record) if isinstance(entry, Release) else None,
            "reason": entry.reason if isinstance(entry, Yank) else None,
            "envelope": base64.b64encode(self.envelope).decode("ascii"),
        }
