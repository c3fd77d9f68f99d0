"""A peer: another registry this one mirrors (or pulls through) some namespaces from.

A :class:`Peer` is configured by the operator (``dmg peer add NAME URL --namespace PATTERN... [--mode ...]``): its
name, URL, the namespace patterns routed to it, its mode, the log key pinned for it, and optionally a read token it
gave for private namespaces. Its :class:`PeerStatus` is what syncing it found. Patterns name a namespace exactly
(``org.dxos``) or a namespace and everything under it (``org.dxos.*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from dmg.core.dxn import is_authority
from dmg.core.errors import ConfigError

_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")
MAX_PATTERNS: Final = 256


class Mode(StrEnum):
    MIRROR = "mirror"
    """Every entry of the routed namespaces is synced continuously."""
    PULL_THROUGH = "pull-through"
    """Entries are synced when a read misses (a name or block this registry does not hold yet)."""


class Status(StrEnum):
    NEW = "new"
    OK = "ok"
    FAILING = "failing"
    """The last sync failed; it is retried with backoff."""
    QUARANTINED = "quarantined"
    """The peer showed two histories of one log; nothing is taken from it until the operator resets its trust."""


def check_pattern(pattern: str) -> str:
    """``pattern`` if it is a namespace or ``<namespace>.*``; ConfigError otherwise."""
    base = pattern[:-2] if pattern.endswith(".*") else pattern
    if not is_authority(base):
        raise ConfigError(f"namespace pattern {pattern!r}: use a namespace (org.dxos) or one with .* (org.dxos.*)")
    return pattern


def matches(pattern: str, namespace: str) -> bool:
    """Whether ``namespace`` falls under ``pattern``."""
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return namespace == base or namespace.startswith(f"{base}.")
    return namespace == pattern


def overlap(first: str, second: str) -> bool:
    """Whether some namespace falls under both patterns."""
    base_first, base_second = first.removesuffix(".*"), second.removesuffix(".*")
    return matches(first, base_second) or matches(second, base_first)


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    patterns: tuple[str, ...]
    mode: Mode = Mode.MIRROR
    registry_key: str = ""
    """The peer's log verifier key, pinned on first contact or given; empty until then."""
    token: str = ""
    """A read token the peer's operator gave this registry for private namespaces; empty for none."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"peer name {self.name!r}: use lowercase letters, digits, '-' and '_'")
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"peer {self.name}: {self.url!r} is not an http:// or https:// URL")
        if not self.patterns or len(self.patterns) > MAX_PATTERNS:
            raise ConfigError(f"peer {self.name}: route 1 to {MAX_PATTERNS} namespace patterns to it")
        for pattern in self.patterns:
            check_pattern(pattern)

    def routes(self, namespace: str) -> bool:
        return any(matches(pattern, namespace) for pattern in self.patterns)

    @property
    def origin(self) -> str:
        """The peer's log origin, from its pinned key (empty before first contact)."""
        return self.registry_key.split("+", 1)[0] if self.registry_key else ""


@dataclass(frozen=True)
class PeerStatus:
    """What syncing a peer has found, as ``dmg peer ls``, GraphQL ``peers`` and ``/metrics`` show it."""

    peer: Peer
    status: Status
    homes: tuple[str, ...] = ()
    last_error: str = ""
    failures: int = 0
    last_sync: int = 0
    synced_size: int = 0
    checkpoint_size: int = 0
    entries_taken: int = 0
    entries_refused: int = 0
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.peer.name,
            "url": self.peer.url,
            "namespaces": list(self.peer.patterns),
            "mode": str(self.peer.mode),
            "origin": self.peer.origin,
            "registryKey": self.peer.registry_key,
            "status": str(self.status),
            "homes": list(self.homes),
            "lastError": self.last_error,
            "failures": self.failures,
            "lastSync": self.last_sync,
            "syncedSize": self.synced_size,
            "checkpointSize": self.checkpoint_size,
            "entriesTaken": self.entries_taken,
            "entriesRefused": self.entries_refused,
            "evidence": [item.to_json() for item in self.evidence],
        }


@dataclass(frozen=True)
class Evidence:
    """Two signed checkpoints of one log that cannot both be true (or a checkpoint older than one seen before)."""

    kind: str
    first: str
    second: str
    detail: str
    time: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first, "second": self.second, "detail": self.detail, "time": self.time}
