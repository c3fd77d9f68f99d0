"""The answers of a registry, as values: what the service sends and what every client returns.

Each result is a frozen dataclass; :meth:`to_json` gives the REST body the service answers with (the HTTP client
reads it back field by field, strictly, since it never trusts the server). :func:`choose_version` applies the shared
selection rules (:mod:`dmg.core.selection`) to an index listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.records import ModuleRecord
from dmg.core.selection import Selector, listed_version, select_version
from dmg.core.semver import Version


class EntryKind(StrEnum):
    """Which kind of log an entry extends."""

    NAMESPACE = "namespace"
    DXN = "dxn"


@dataclass(frozen=True)
class StoredEntry:
    """A log entry as a registry accepted it: its position in the registry's log (1, 2, ...), its envelope block's
    CID, the log it extends and where in that log."""

    position: int
    cid: CID
    log: str
    kind: EntryKind
    seq: int
    time: int

    @property
    def leaf_index(self) -> int:
        """The entry's leaf in the transparency log: acceptance position 1 is leaf 0."""
        return self.position - 1


@dataclass(frozen=True)
class Resolution:
    """The answer to "which version of this DXN": the version, its record and bundle, and whether it is yanked."""

    dxn: DXN
    version: Version
    record: CID
    bundle: CID
    yanked: bool


@dataclass(frozen=True)
class PublishResult:
    """A release the registry accepted: its name and version, its record and its release entry."""

    dxn: DXN
    version: Version
    record: CID
    entry: CID

    def to_json(self) -> dict[str, Any]:
        return {"dxn": str(self.dxn), "version": str(self.version), "cid": str(self.record), "entry": str(self.entry)}


@dataclass(frozen=True)
class ImportResult:
    """What an import added: entries new to the registry, entries it had already, blocks new to its store."""

    entries_added: int
    entries_known: int
    blocks_added: int

    def to_json(self) -> dict[str, Any]:
        return {
            "entriesAdded": self.entries_added,
            "entriesKnown": self.entries_known,
            "blocksAdded": self.blocks_added,
        }


@dataclass(frozen=True)
class StoreStats:
    """What a registry holds, counted."""

    blocks: int
    block_bytes: int
    entries: int
    namespaces: int
    modules: int
    versions: int


@dataclass
class FsckReport:
    """What a full check of a store found: how many blocks and entries it read, and each problem."""

    blocks: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VersionInfo:
    """One released version of a DXN, as a registry's index lists it."""

    dxn: DXN
    version: str
    record: CID
    entry: CID
    yanked: bool
    yank_reason: str
    published_at: int
    publisher: str

    @property
    def parsed_version(self) -> Version:
        return Version.parse(self.version)


def choose_version(infos: Iterable[VersionInfo], selector: Selector) -> VersionInfo | None:
    """The listed version ``selector`` picks (exact versions even when yanked; ranges and ``latest`` skip yanked)."""
    by_version = {info.parsed_version: info for info in infos}
    chosen = select_version(((version, info.yanked) for version, info in by_version.items()), selector)
    return None if chosen is None else by_version[chosen]


def listed_info(infos: Iterable[VersionInfo]) -> VersionInfo | None:
    """The version a listing shows for a module: ``latest`` if there is one, else the highest."""
    by_version = {info.parsed_version: info for info in infos}
    chosen = listed_version((version, info.yanked) for version, info in by_version.items())
    return None if chosen is None else by_version[chosen]


@dataclass(frozen=True)
class ModuleInfo:
    """One version of a module: its signed record (verified) and what the registry's index adds to it."""

    cid: CID
    record: ModuleRecord
    yanked: bool
    yank_reason: str
    published_at: int
    publisher: str


@dataclass(frozen=True)
class ListedModule:
    """One module of a listing at its listed version, with the cursor of its place in the listing."""

    cursor: str
    info: VersionInfo
    record: ModuleRecord


@dataclass(frozen=True)
class ModuleListing:
    """A page of modules, best first; ``end_cursor`` (the last one's) asks for the next page."""

    modules: tuple[ListedModule, ...]
    total: int
    has_next: bool
    end_cursor: str | None


@dataclass(frozen=True)
class SearchHit:
    """One module version found by a search, as the registry's index describes it."""

    dxn: DXN
    version: Version
    cid: CID
    description: str
    yanked: bool


@dataclass(frozen=True)
class SearchPage:
    """A page of search hits, best first; pass ``end_cursor`` as ``after`` to get the next page."""

    hits: tuple[SearchHit, ...]
    total: int
    has_next: bool
    end_cursor: str | None
