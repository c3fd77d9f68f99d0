"""The storage interface every backend implements.

A :class:`Store` keeps three things: blocks (DAG-CBOR and raw, keyed by CID), log entries in the order the
registry accepted them, and the state those entries produce (who may sign in each namespace; which versions each
DXN has released and yanked). The state is derived data, kept so that a publish need not replay history;
``dmg fsck`` rebuilds it from the entries and compares.

A store never validates: :mod:`dmg.registry` verifies everything first and hands over one :class:`Commit`, which
the store applies atomically (all of it or none). Backends: :mod:`dmg.store.sqlite` (embedded default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.namelog import DXNLogState, NamespaceState


@dataclass(frozen=True)
class StoredEntry:
    """A log entry as accepted: its global position, the log it extends and the envelope block's CID."""

    position: int
    cid: CID
    log: str
    kind: str
    seq: int
    time: int


@dataclass(frozen=True)
class VersionInfo:
    """One released version of a DXN, as the store indexes it."""

    dxn: DXN
    version: str
    record: CID
    entry: CID
    yanked: bool
    yank_reason: str
    published_at: int
    publisher: str


@dataclass(frozen=True)
class ReleaseRow:
    """A new line of the name → version → record index."""

    dxn: str
    version: str
    record: CID
    entry: CID
    time: int
    publisher: str


@dataclass
class Commit:
    """Everything one accepted operation writes; applied in one transaction.

    ``namespaces`` and ``dxn_logs`` hold the new states of the logs the operation extended, keyed by log name.
    """

    blocks: list[tuple[CID, bytes]] = field(default_factory=list)
    entries: list[tuple[CID, str, str, int, int]] = field(default_factory=list)
    namespaces: dict[str, NamespaceState] = field(default_factory=dict)
    dxn_logs: dict[str, DXNLogState] = field(default_factory=dict)
    releases: list[ReleaseRow] = field(default_factory=list)

    def add_entry(self, cid: CID, data: bytes, log: str, kind: str, seq: int, time: int) -> None:
        self.blocks.append((cid, data))
        self.entries.append((cid, log, kind, seq, time))


@dataclass(frozen=True)
class StoreStats:
    blocks: int
    block_bytes: int
    entries: int
    namespaces: int
    modules: int
    versions: int


class Store(Protocol):
    """Async storage backend. Implementations must make :meth:`commit` atomic."""

    async def close(self) -> None: ...

    async def get_block(self, cid: CID) -> bytes | None: ...

    async def has_blocks(self, cids: Iterable[CID]) -> set[CID]: ...

    def iter_blocks(self) -> AsyncIterator[tuple[CID, bytes]]: ...

    def iter_entries(self) -> AsyncIterator[StoredEntry]: ...

    async def log_entries(self, log: str) -> list[StoredEntry]: ...

    async def load_namespace(self, namespace: str) -> NamespaceState: ...

    async def load_dxn_log(self, dxn: DXN) -> DXNLogState: ...

    async def versions(self, dxn: DXN) -> list[VersionInfo]: ...

    async def version(self, dxn: DXN, version: str) -> VersionInfo | None: ...

    async def dxns(self, namespace: str | None = None) -> list[DXN]: ...

    async def commit(self, commit: Commit) -> None: ...

    async def stats(self) -> StoreStats: ...
