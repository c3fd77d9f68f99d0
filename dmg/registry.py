"""The registry: verifies what is submitted, then stores it atomically; answers name and version questions.

Every write goes through a :class:`_Batch`: it loads the states of the logs it touches, applies each signed entry
with :mod:`dmg.core.namelog` (signatures verified first, authorisation judged against the namespace as it stands at
that entry), checks records and bundles, and collects one :class:`~dmg.store.base.Commit`. Only a batch that
validated completely is committed, so bad input never changes the store.

Operations: namespace entries (claim, grant, revoke), DXN entries (yank, unyank), ``publish`` (a release entry with
its record and bundle blocks), ``import_car`` (any sequence of entries with their blocks, e.g. an export from
another registry), ``export``, ``resolve``, and ``fsck`` (re-hash, re-verify, replay, compare).

This module is transport-free: the CLI calls it on a local data directory, the HTTP service calls it for remote
clients.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from dmg.core import codec
from dmg.core.bundle import BundleIndex, assemble_bundle, bundle_block_cids, check_content
from dmg.core.car import read_car, write_car
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import (
    BundleError,
    CIDError,
    DmgError,
    LogError,
    NotFoundError,
    RecordError,
    UnauthorizedError,
)
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceEntry, Release, parse_entry
from dmg.core.semver import Range, Version
from dmg.store.base import Commit, ReleaseRow, Store, StoredEntry, VersionInfo
from dmg.store.sqlite import SQLiteStore

MAX_CLOCK_SKEW_MS: Final = 5 * 60 * 1000
INLINE_CHECK_SIZE: Final = 256 * 1024
"""Bundles up to this size are checked on the event loop; larger ones in a worker thread, so serving goes on."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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
    dxn: DXN
    version: Version
    record: CID
    entry: CID


@dataclass(frozen=True)
class ImportResult:
    entries_added: int
    entries_known: int
    blocks_added: int


@dataclass
class FsckReport:
    blocks: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def select_version(infos: Iterable[VersionInfo], selector: Version | Range | str | None) -> VersionInfo | None:
    """Pick a version: exact versions match even when yanked; ranges and ``latest`` skip yanked ones."""
    candidates = list(infos)
    if isinstance(selector, Version):
        return next((info for info in candidates if Version.parse(info.version) == selector), None)
    usable = {Version.parse(info.version): info for info in candidates if not info.yanked}
    if selector is None or selector == "latest":
        stable = [version for version in usable if not version.is_prerelease]
        return usable[max(stable)] if stable else None
    if isinstance(selector, Range):
        best = selector.max_satisfying(usable)
        return None if best is None else usable[best]
    raise NotFoundError(f"unknown tag {selector!r}: only 'latest' is defined")


def listed_version(infos: list[VersionInfo]) -> VersionInfo | None:
    """The version a listing shows for a module: ``latest`` if there is one, else the highest (all yanked or
    prerelease)."""
    return select_version(infos, None) or (infos[-1] if infos else None)


class _Batch:
    """Validates a sequence of submissions against the store plus everything earlier in the same batch."""

    def __init__(self, store: Store, clock: Callable[[], int] | None) -> None:
        """``clock`` bounds entry times from above; ``None`` replays history from empty states (fsck)."""
        self.store = store
        self.clock = clock
        self.commit = Commit()
        self.blocks: dict[CID, bytes] = {}
        self.checked_bundles: set[CID] = set()
        self.namespaces: dict[str, NamespaceState] = {}
        self.dxn_logs: dict[str, DXNLogState] = {}

    async def namespace(self, name: str) -> NamespaceState:
        if name not in self.namespaces:
            loaded = NamespaceState(name) if self.clock is None else await self.store.load_namespace(name)
            self.namespaces[name] = loaded
        return self.namespaces[name]

    async def dxn_log(self, dxn: DXN) -> DXNLogState:
        key = str(dxn)
        if key not in self.dxn_logs:
            self.dxn_logs[key] = DXNLogState(dxn) if self.clock is None else await self.store.load_dxn_log(dxn)
        return self.dxn_logs[key]

    async def block(self, cid: CID, available: Mapping[CID, bytes]) -> bytes:
        data = available.get(cid)
        if data is None:
            data = self.blocks.get(cid)
        if data is None:
            data = await self.store.get_block(cid)
        if data is None:
            raise NotFoundError(f"block {cid} is neither in the submission nor in the registry")
        cid.verify(data)
        return data

    def _keep(self, cid: CID, data: bytes) -> None:
        if cid not in self.blocks:
            self.blocks[cid] = data
            self.commit.blocks.append((cid, data))

    def _check_time(self, entry_time: int) -> None:
        if self.clock is not None and entry_time > self.clock() + MAX_CLOCK_SKEW_MS:
            raise LogError(f"entry time {entry_time} is more than 5 minutes ahead of the registry's clock")

    async def apply_entry(self, cid: CID, data: bytes, available: Mapping[CID, bytes]) -> NamespaceEntry | DXNEntry:
        """Verify and apply one log entry; a release also pulls in and checks its record and bundle."""
        if cid.codec != DAG_CBOR:
            raise RecordError(f"log entry {cid} must be a dag-cbor block")
        cid.verify(data)
        envelope = Envelope.decode(data)
        signers = envelope.verify()
        entry = parse_entry(envelope.payload)
        self._check_time(entry.time)
        if isinstance(entry, NamespaceEntry):
            state = (await self.namespace(entry.namespace)).apply(cid, entry, signers)
            self.namespaces[entry.namespace] = self.commit.namespaces[entry.namespace] = state
            kind = "namespace"
        else:
            assert entry.dxn is not None
            namespace = await self.namespace(entry.dxn.authority)
            log = (await self.dxn_log(entry.dxn)).apply(cid, entry, signers, namespace)
            if isinstance(entry, Release):
                await self._check_release(cid, entry, signers, namespace, available)
            self.dxn_logs[str(entry.dxn)] = self.commit.dxn_logs[str(entry.dxn)] = log
            kind = "dxn"
        self._keep(cid, data)
        self.commit.entries.append((cid, entry.log_name, kind, entry.seq, entry.time))
        return entry

    async def _check_release(
        self, cid: CID, entry: Release, signers: frozenset, namespace: NamespaceState, available: Mapping[CID, bytes]
    ) -> None:
        assert entry.record is not None and entry.version is not None
        record_data = await self.block(entry.record, available)
        envelope = Envelope.decode(record_data)
        record_signers = envelope.verify()
        if not record_signers & namespace.holders("release"):
            raise UnauthorizedError(
                f"no signer of the record {entry.record} holds 'release' in {namespace.namespace!r}"
            )
        record = ModuleRecord.from_dict(envelope.payload)
        if record.dxn != entry.dxn or record.version != entry.version:
            raise RecordError(
                f"release of {entry.dxn}@{entry.version} links a record for {record.dxn}@{record.version}"
            )
        self._keep(entry.record, record_data)
        await self._check_bundle(record, available)
        self.commit.releases.append(
            ReleaseRow(str(entry.dxn), str(entry.version), entry.record, cid, entry.time, min(signers).did)
        )

    async def _check_bundle(self, record: ModuleRecord, available: Mapping[CID, bytes]) -> None:
        """Every block of the bundle must be at hand and verify, and the file must suit the record's runtime."""
        if record.bundle in self.checked_bundles:
            return
        index_data = await self.block(record.bundle, available)
        fetched = {cid: await self.block(cid, available) for cid in bundle_block_cids(index_data)}
        index = BundleIndex.from_dict(codec.decode(index_data))
        if index.runtime != record.runtime:
            raise BundleError(
                f"bundle {record.bundle} is for runtime {index.runtime!r}, the record says {record.runtime!r}"
            )
        if index.size <= INLINE_CHECK_SIZE:
            check_content(assemble_bundle(record.bundle, fetched.get), record.runtime)
        else:
            content = await asyncio.to_thread(assemble_bundle, record.bundle, fetched.get)
            await asyncio.to_thread(check_content, content, record.runtime)
        for cid, data in fetched.items():
            self._keep(cid, data)
        self.checked_bundles.add(record.bundle)


class Registry:
    """A registry over one :class:`~dmg.store.base.Store`; every write is verified, then committed atomically."""

    def __init__(self, store: Store, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.clock = clock
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, data_dir: str | os.PathLike[str]) -> Registry:
        return cls(await SQLiteStore.open(data_dir))

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Registry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- writes -----------------------------------------------------------------------------------------------

    async def _run(
        self, roots: Iterable[tuple[CID, bytes]], available: Mapping[CID, bytes]
    ) -> list[NamespaceEntry | DXNEntry]:
        async with self._write_lock:
            batch = _Batch(self.store, self.clock)
            entries = [await batch.apply_entry(cid, data, available) for cid, data in roots]
            await self.store.commit(batch.commit)
            return entries

    async def submit_entry(self, envelope_bytes: bytes) -> CID:
        """Append one namespace or DXN entry (claim, grant, revoke, yank, unyank) given as an envelope block."""
        cid = CID.of(envelope_bytes, DAG_CBOR)
        payload_type = Envelope.decode(envelope_bytes).payload.get("type")
        if payload_type == Release.TYPE:
            raise RecordError("a release needs its record and bundle: use publish")
        await self._run([(cid, envelope_bytes)], {})
        return cid

    async def publish(self, root: CID, blocks: Mapping[CID, bytes]) -> PublishResult:
        """Publish the release entry ``root`` with the record and bundle blocks in ``blocks``."""
        data = blocks.get(root)
        if data is None:
            raise NotFoundError(f"the root block {root} is missing from the submission")
        if Envelope.decode(data).payload.get("type") != Release.TYPE:
            raise RecordError("publish needs a release entry as its root")
        entry = (await self._run([(root, data)], blocks))[0]
        assert isinstance(entry, Release)
        assert entry.dxn is not None and entry.version is not None and entry.record is not None
        return PublishResult(entry.dxn, entry.version, entry.record, root)

    async def import_car(self, data: bytes) -> ImportResult:
        """Import a CAR whose roots are log entries in log order; entries already present are skipped."""
        car = read_car(data)
        known = await self.store.has_blocks(car.roots)
        fresh = [(cid, car.blocks[cid]) for cid in car.roots if cid not in known]
        for cid, _ in fresh:
            if cid not in car.blocks:
                raise NotFoundError(f"root {cid} has no block in the CAR")
        before = await self.store.stats()
        await self._run(fresh, car.blocks)
        after = await self.store.stats()
        return ImportResult(len(fresh), len(car.roots) - len(fresh), after.blocks - before.blocks)

    # --- reads ------------------------------------------------------------------------------------------------

    async def namespace(self, name: str) -> NamespaceState:
        return await self.store.load_namespace(name)

    async def dxn_log(self, dxn: DXN) -> DXNLogState:
        return await self.store.load_dxn_log(dxn.base)

    async def log_head(self, log: str) -> LogHead:
        """Head of a namespace log (``com.example``) or a DXN log (``com.example/function/x``)."""
        if "/" in log:
            return (await self.dxn_log(DXN.parse(log))).head
        return (await self.namespace(log)).head

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        return await self.store.versions(dxn.base)

    async def get_block(self, cid: CID) -> bytes:
        data = await self.store.get_block(cid)
        if data is None:
            raise NotFoundError(f"no block {cid}")
        return data

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]:
        envelope = Envelope.decode(await self.get_block(cid))
        return envelope, ModuleRecord.from_dict(envelope.payload)

    async def resolve(self, dxn: DXN, selector: Version | Range | str | None = None) -> Resolution:
        """Resolve ``dxn`` with ``selector`` (or the DXN's own ``@selector``; ``latest`` by default)."""
        if selector is None:
            selector = dxn.version_selector()
        infos = await self.store.versions(dxn.base)
        if not infos:
            raise NotFoundError(f"{dxn.base} has no released versions")
        info = select_version(infos, selector)
        if info is None:
            raise NotFoundError(f"no version of {dxn.base} matches {selector or 'latest'!s}")
        _, record = await self.record(info.record)
        return Resolution(dxn.base, record.version, info.record, record.bundle, info.yanked)

    async def export(self, dxns: Iterable[DXN]) -> bytes:
        """A CAR of the resolved versions: roots are the log entries (namespace log, DXN log up to each release)
        in acceptance order; blocks add each record and bundle."""
        entries: dict[CID, StoredEntry] = {}
        blocks: dict[CID, bytes] = {}
        for dxn in dxns:
            resolution = await self.resolve(dxn)
            info = await self.store.version(dxn.base, str(resolution.version))
            assert info is not None
            dxn_entries = await self.store.log_entries(str(dxn.base))
            released_at = next(entry.position for entry in dxn_entries if entry.cid == info.entry)
            for entry in await self.store.log_entries(dxn.authority) + dxn_entries:
                if entry.position <= released_at or entry.log == dxn.authority:
                    entries[entry.cid] = entry
            index_data = await self.get_block(resolution.bundle)
            for cid in (resolution.record, resolution.bundle, *codec.decode(index_data)["chunks"]):
                blocks[cid] = await self.get_block(cid)
        roots = [entry.cid for entry in sorted(entries.values(), key=lambda entry: entry.position)]
        for cid in roots:
            blocks[cid] = await self.get_block(cid)
        return write_car(roots, blocks.items())

    async def fsck(self) -> FsckReport:
        """Re-hash every block, re-verify every entry in acceptance order, and compare with the stored state."""
        report = FsckReport()
        async for cid, data in self.store.iter_blocks():
            report.blocks += 1
            try:
                cid.verify(data)
                if cid.codec == DAG_CBOR:
                    codec.decode(data)
            except (CIDError, DmgError) as exc:
                report.problems.append(f"block {cid}: {exc}")
        replay = _Batch(self.store, None)
        async for stored in self.store.iter_entries():
            report.entries += 1
            try:
                await replay.apply_entry(stored.cid, await self.get_block(stored.cid), {})
            except DmgError as exc:
                report.problems.append(f"entry {stored.cid} (#{stored.position}, {stored.log}): {exc}")
        for name, state in replay.namespaces.items():
            if await self.store.load_namespace(name) != state:
                report.problems.append(f"namespace {name}: stored state differs from the replayed log")
        for name, log in replay.dxn_logs.items():
            if await self.store.load_dxn_log(DXN.parse(name)) != log:
                report.problems.append(f"{name}: stored versions differ from the replayed log")
        return report
