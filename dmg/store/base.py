"""The storage interface every backend implements.

A :class:`Store` keeps four things: blocks (DAG-CBOR and raw, keyed by CID), log entries in the order the
registry accepted them, the state those entries produce (who may sign in each namespace; which versions each
DXN has released and yanked), and the transparency log's Merkle tree over the entries (the hash of every complete
subtree, keyed by ``(level, index)`` as :mod:`dmg.core.tlog` defines them). Entry ``position`` ``p`` (1, 2, ...)
is leaf ``p - 1`` of the tree, and both are written by the same commit. The state is derived data, kept so that a
publish need not replay history; ``dmg fsck`` rebuilds it and the tree from the entries and compares.

A store never validates: :mod:`dmg.registry` verifies everything first and hands over one :class:`Commit`, which
the store applies atomically (all of it or none). Backends: :mod:`dmg.store.sqlite` (embedded default).

For the service's module listing, a store also indexes every released version for search
(:class:`SearchDocument`: the name, descriptions and function names full-text, the APIs exactly) as part of the
same commit, and answers :class:`ModuleQuery` with a :class:`ModulePage`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from dmg.api.paging import MAX_PAGE_SIZE
from dmg.api.results import EntryKind, StoredEntry, StoreStats, VersionInfo
from dmg.core import codec
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError
from dmg.core.namelog import DXNLogState, NamespaceState
from dmg.core.tlog import NodeId

MAX_QUERY_WORDS: Final = 16
_WORD: Final = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    """A new line of the name → version → record index."""

    dxn: str
    version: str
    record: CID
    entry: CID
    time: int
    publisher: str
    document: SearchDocument


@dataclass(frozen=True, slots=True)
class CommitEntry:
    """A log entry a commit appends: its envelope block's CID, the log it extends, and its place in that log."""

    cid: CID
    log: str
    kind: EntryKind
    seq: int
    time: int


@dataclass
class Commit:
    """Everything one accepted operation writes; applied in one transaction.

    ``namespaces`` and ``dxn_logs`` hold the new states of the logs the operation extended, keyed by log name.
    ``entries`` become leaves ``tree_size, tree_size + 1, ...`` of the transparency log; ``tree_nodes`` are the
    subtrees they complete. A store refuses the commit with :class:`~dmg.core.errors.WriteRaceError` when it no
    longer holds ``tree_size`` entries (another writer appended first).
    """

    blocks: list[tuple[CID, bytes]] = field(default_factory=list)
    entries: list[CommitEntry] = field(default_factory=list)
    namespaces: dict[str, NamespaceState] = field(default_factory=dict)
    dxn_logs: dict[str, DXNLogState] = field(default_factory=dict)
    releases: list[ReleaseRow] = field(default_factory=list)
    tree_size: int = 0
    tree_nodes: list[tuple[NodeId, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """What one released version is found by: full text (name, descriptions, function names) and its APIs.

    Built from the record envelope the registry has already verified, so reading it trusts the shape.
    """

    name: str
    description: str
    functions: str
    apis: tuple[str, ...]

    @classmethod
    def from_record_block(cls, data: bytes) -> SearchDocument:
        return cls.from_payload(codec.decode(data)["payload"])

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SearchDocument:
        """From a verified module record's payload."""
        functions = payload.get("functions", [])
        apis = payload.get("apis", {})
        referenced = [*apis.get("provides", []), *apis.get("requires", [])]
        return cls(
            name=payload["dxn"],
            description=payload.get("description", ""),
            functions=" ".join(f"{function['name']} {function.get('description', '')}" for function in functions),
            apis=tuple(sorted({text.split("@", 1)[0] for text in referenced})),
        )


@dataclass(frozen=True)
class ModuleQuery:
    """Which modules to list: an optional full-text ``text``, exact filters, and a page (``limit`` at ``offset``).

    ``text`` is split into words; a module matches when one of its versions contains every word, each as a word
    prefix (``echo`` finds ``echoes``); words are letters and digits only, so no search syntax can be injected.
    ``namespace`` and ``kind`` compare with the DXN's authority and first path segment; ``api`` (a base DXN) keeps
    modules one of whose versions provides or requires that API.
    """

    text: str | None = None
    namespace: str | None = None
    kind: str | None = None
    api: str | None = None
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise DmgError(f"page size {self.limit} is out of range: ask for 1 to {MAX_PAGE_SIZE} modules")
        if self.offset < 0:
            raise DmgError(f"page offset {self.offset} must not be negative")
        if len(self.words) > MAX_QUERY_WORDS:
            raise DmgError(f"search text has {len(self.words)} words; use at most {MAX_QUERY_WORDS}")

    @property
    def words(self) -> list[str]:
        return _WORD.findall(self.text.lower()) if self.text else []


@dataclass(frozen=True)
class ModulePage:
    """One page of module names (best match first for a text query, else by name) and how many match in all."""

    dxns: list[DXN]
    total: int


class Store(Protocol):
    """Async storage backend. Implementations must make :meth:`commit` atomic."""

    async def close(self) -> None: ...

    async def get_block(self, cid: CID) -> bytes | None: ...

    async def has_blocks(self, cids: Iterable[CID]) -> set[CID]: ...

    async def has_entries(self, cids: Iterable[CID]) -> set[CID]:
        """Which of ``cids`` are accepted log entries (a stored block is not necessarily an entry)."""
        ...

    def iter_blocks(self) -> AsyncIterator[tuple[CID, bytes]]: ...

    def iter_entries(self) -> AsyncIterator[StoredEntry]: ...

    async def entries_since(self, position: int, limit: int) -> list[tuple[StoredEntry, bytes]]:
        """Up to ``limit`` entries after ``position`` (0: from the first), in order, each with its envelope block."""
        ...

    async def log_entries(self, log: str) -> list[StoredEntry]: ...

    async def entry_blocks(self, first: int, count: int) -> list[bytes]:
        """The envelope blocks of leaves ``first`` to ``first + count - 1``; :class:`StoreError` if one is missing."""
        ...

    async def tree_size(self) -> int:
        """How many entries (leaves of the transparency log) are stored."""
        ...

    async def tree_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """The stored hashes of complete subtrees, in order; :class:`StoreError` if one is missing."""
        ...

    async def load_namespace(self, namespace: str) -> NamespaceState: ...

    async def load_namespaces(self, namespaces: Iterable[str]) -> dict[str, NamespaceState]:
        """The states of several namespaces by name (an unclaimed one is empty), in as few reads as possible."""
        ...

    async def load_dxn_log(self, dxn: DXN) -> DXNLogState: ...

    async def load_dxn_logs(self, dxns: Iterable[DXN]) -> dict[str, DXNLogState]:
        """The states of several DXN logs keyed by ``str(dxn)`` (one never written is empty), in as few reads as
        possible."""
        ...

    async def versions(self, dxn: DXN) -> list[VersionInfo]: ...

    async def version(self, dxn: DXN, version: str) -> VersionInfo | None: ...

    async def releases(self) -> list[VersionInfo]:
        """Every released version of every DXN, by DXN then version."""
        ...

    async def dxns(self, namespace: str | None = None) -> list[DXN]: ...

    async def namespaces(self) -> list[str]:
        """Every claimed namespace, by name."""
        ...

    async def search_modules(self, query: ModuleQuery) -> ModulePage: ...

    async def commit(self, commit: Commit) -> int:
        """Apply ``commit`` atomically; return how many of its blocks were not stored before."""
        ...

    async def stats(self) -> StoreStats: ...
