"""The registry: verifies what is submitted, then stores it atomically; answers name and version questions.

:class:`Registry` runs over any :class:`~dmg.store.base.Store` (:func:`dmg.store.open_store` picks one from a URL)
with a :class:`~dmg.registry.policies.WritePolicy` (what this registry admits beyond the log rules) and a
:class:`~dmg.registry.policies.ReadPolicy` (who may read what). Every write goes through a
:class:`~dmg.registry.batch.Batch` and lands as one commit, appended to the transparency log
(:class:`~dmg.registry.tlog.TransparencyLog`) in the same transaction; after it, subscribers learn of the new
entries (:mod:`dmg.registry.events`), whatever the entry point (publish, entry, import; HTTP, GraphQL or the CLI on
a data directory).

Operations: namespace entries (claim, grant, revoke), DXN entries (yank, unyank), ``publish`` (a release entry with
its record and bundle blocks), ``import_car`` (any sequence of entries with their blocks, e.g. an export from
another registry), ``export``, ``resolve`` and the other reads, events, and ``fsck``. Everything outside the
registry reads through these methods, never through its store.

This package is transport-free: the CLI calls it on a local data directory, the HTTP service calls it for remote
clients.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from dmg.api.events import RegistryEvent
from dmg.api.paging import DEFAULT_PAGE_SIZE, decode_cursor, encode_cursor
from dmg.api.results import (
    FsckReport,
    ImportResult,
    ListedModule,
    ModuleListing,
    PublishResult,
    Resolution,
    StoredEntry,
    StoreStats,
    VersionInfo,
    choose_version,
    listed_info,
)
from dmg.core.bundle import bundle_block_cids
from dmg.core.car import read_car, write_car
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import Clock, now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError, NotFoundError, RecordError, WriteRaceError
from dmg.core.keys import SigningKey
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState, exported_prefix
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceClaim, NamespaceEntry, Release, parse_entry
from dmg.core.selection import Selector
from dmg.core.semver import Version
from dmg.registry.batch import Batch
from dmg.registry.events import EventFeed
from dmg.registry.extensions import Mirrors, Upstream, extend
from dmg.registry.fsck import fsck
from dmg.registry.operator import load_operator_key
from dmg.registry.policies import ANONYMOUS, PublicReads, Reader, ReadPolicy, ReservedNamespaces, WritePolicy
from dmg.registry.tlog import TransparencyLog
from dmg.store import open_store
from dmg.store.base import Commit, ModuleQuery, Store

MODULES_LISTING: Final = "modules"
"""The listing name in the cursors of module searches."""
MAX_EVENTS_PER_READ: Final = 1000
WRITE_ATTEMPTS: Final = 3
"""How often a write is validated and committed again when another process appended to the store first."""


class Registry:
    """A registry over one :class:`~dmg.store.base.Store`; every write is verified, then committed atomically."""

    def __init__(
        self,
        store: Store,
        log: TransparencyLog,
        operator: SigningKey,
        *,
        write_policy: WritePolicy | None = None,
        read_policy: ReadPolicy | None = None,
        clock: Clock = now_ms,
    ) -> None:
        """``write_policy`` defaults to admitting everything the log rules allow (no reserved names);
        ``read_policy`` to :class:`~dmg.registry.policies.PublicReads`."""
        self.store = store
        self.log = log
        self.clock = clock
        self.write_policy = write_policy or ReservedNamespaces(operator.public_key)
        self.read_policy = read_policy or PublicReads()
        self.events = EventFeed(store.tree_size, self.entries_since)
        self.upstream: Upstream | None = None
        self.mirrors: Mirrors | None = None
        self._operator = operator
        self._write_lock = asyncio.Lock()
        self._closers: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    async def open(
        cls,
        data_dir: str | os.PathLike[str],
        *,
        store: str | None = None,
        origin: str | None = None,
        reserved: Iterable[str] = (),
        clock: Clock = now_ms,
    ) -> Registry:
        """Open (or create) the registry in ``data_dir`` (its operator key), on the store ``store`` names (default:
        the embedded store in ``data_dir``); ``origin`` names its log (default from the operator key),
        ``reserved`` lists namespaces only the operator may admit."""
        opened = await open_store(store or data_dir)
        try:
            operator = load_operator_key(Path(data_dir))
            log = await TransparencyLog.open(opened, operator, origin, clock)
            policy = ReservedNamespaces(operator.public_key, frozenset(reserved))
            registry = cls(opened, log, operator, write_policy=policy, clock=clock)
        except BaseException:
            await opened.close()
            raise
        try:
            await extend(registry, Path(data_dir))
        except BaseException:
            await registry.close()
            raise
        return registry

    @property
    def operator(self) -> SigningKey:
        """The operator key: it signs checkpoints, countersigns reserved claims and, as a witness, cosigns."""
        return self._operator

    def countersign(self, envelope_bytes: bytes) -> bytes:
        """The claim envelope with the operator's signature added: how the operator admits the claim of a reserved
        namespace. The claimants' signatures are checked first."""
        envelope = Envelope.decode(envelope_bytes)
        envelope.verify()
        if not isinstance(parse_entry(envelope.payload), NamespaceClaim):
            raise RecordError("the operator countersigns namespace claims only")
        return envelope.countersigned(self._operator).block()[1]

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` when the registry closes (an extension's resources), last registered first."""
        self._closers.append(closer)

    async def close(self) -> None:
        await self.events.close()
        try:
            for closer in reversed(self._closers):
                await closer()
        finally:
            self._closers.clear()
            await self.store.close()

    async def __aenter__(self) -> Registry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def may_read(self, namespace: str, reader: Reader = ANONYMOUS) -> bool:
        """Whether ``reader`` may read ``namespace`` (its names, records, blocks and entries)."""
        return self.read_policy.may_read(namespace, reader)

    # --- writes -----------------------------------------------------------------------------------------------

    async def _run(
        self,
        roots: Iterable[tuple[CID, bytes]],
        submitted: Mapping[CID, bytes],
        *,
        hashed: bool = False,
        write_policy: WritePolicy | None = None,
    ) -> tuple[list[NamespaceEntry | DXNEntry], int]:
        """Apply the entries ``roots`` with the blocks ``submitted`` as one batch (``hashed``: all of them were checked
        against their CIDs already) under ``write_policy`` (default: the registry's); return the entries and how
        many blocks were new to the store."""
        roots = list(roots)
        async with self._write_lock:
            policy = self.write_policy if write_policy is None else write_policy
            for attempt in range(WRITE_ATTEMPTS):
                batch = Batch(self.store, self.clock, policy, submitted, hashed=hashed)
                entries = await batch.apply_entries(roots)
                try:
                    blocks_added = await self.log.append(batch.commit, batch.leaves)
                    break
                except WriteRaceError:
                    # Another process wrote to the same store meanwhile: judge the batch again on the new state.
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise
            if batch.commit.entries:
                self.events.committed(batch.commit.tree_size + len(batch.commit.entries))
            return entries, blocks_added

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
        entry = (await self._run([(root, data)], blocks))[0][0]
        assert isinstance(entry, Release)
        return PublishResult(entry.dxn, entry.version, entry.record, root)

    async def import_car(self, data: bytes) -> ImportResult:
        """Import a CAR whose roots are log entries in log order; entries already present are skipped."""
        car = read_car(data)
        missing = next((cid for cid in car.roots if cid not in car.blocks), None)
        if missing is not None:
            raise NotFoundError(f"root {missing} has no block in the CAR")
        # read_car has checked every block against its CID.
        return await self.import_entries(car.roots, car.blocks, hashed=True)

    async def import_entries(
        self,
        entries: Sequence[CID],
        blocks: Mapping[CID, bytes],
        *,
        hashed: bool = False,
        write_policy: WritePolicy | None = None,
    ) -> ImportResult:
        """Import the log entries ``entries`` (in log order) with ``blocks`` holding them and what their releases
        need, as one batch; entries already accepted are skipped. ``write_policy`` replaces the registry's own for
        this batch (a mirror admits its home's entries by the home's rules, not by its local ones); ``hashed``
        says every block was checked against its CID already."""
        known = await self.store.has_entries(entries)
        fresh = [cid for cid in dict.fromkeys(entries) if cid not in known]
        for cid in fresh:
            if cid not in blocks:
                raise NotFoundError(f"entry {cid} came without its block")
        _, blocks_added = await self._run(
            [(cid, blocks[cid]) for cid in fresh], blocks, hashed=hashed, write_policy=write_policy
        )
        return ImportResult(len(fresh), len(entries) - len(fresh), blocks_added)

    async def cache_blocks(self, blocks: Mapping[CID, bytes]) -> int:
        """Store blocks fetched from elsewhere (pull-through) after checking each against its CID; return how many
        were new. They belong to no entry until one names them."""
        commit = Commit()
        for cid, data in blocks.items():
            cid.verify(data)
            commit.blocks.append((cid, data))
        async with self._write_lock:
            return await self.store.commit(commit)

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

    async def log_entries(self, log: str) -> list[tuple[StoredEntry, bytes]]:
        """Every entry of a namespace or DXN log, in log order, with its envelope block."""
        return [(stored, await self.get_block(stored.cid)) for stored in await self.store.log_entries(log)]

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        """Every released version of ``dxn``, lowest first (fetched from upstream first when there are none)."""
        infos = await self.store.versions(dxn.base)
        if not infos and await self._pulled(dxn):
            infos = await self.store.versions(dxn.base)
        return infos

    async def version(self, dxn: DXN, version: str) -> VersionInfo | None:
        """The index entry of one released version, or None when it was never released."""
        found = await self.store.version(dxn.base, version)
        if found is None and await self._pulled(dxn):
            found = await self.store.version(dxn.base, version)
        return found

    async def _pulled(self, dxn: DXN) -> bool:
        """Whether the upstream (pull-through) brought anything new for ``dxn``."""
        return self.upstream is not None and await self.upstream.pull_dxn(dxn.base)

    async def releases(self) -> list[VersionInfo]:
        """Every released version of every module, by name then version."""
        return await self.store.releases()

    async def namespaces(self) -> list[str]:
        """Every claimed namespace, by name."""
        return await self.store.namespaces()

    async def dxns(self, namespace: str | None = None) -> list[DXN]:
        """Every module with a log, in one namespace or in all, by name."""
        return await self.store.dxns(namespace)

    async def stats(self) -> StoreStats:
        return await self.store.stats()

    async def get_block(self, cid: CID) -> bytes:
        data = await self.store.get_block(cid)
        if data is None and self.upstream is not None and await self.upstream.pull_block(cid):
            data = await self.store.get_block(cid)
        if data is None:
            raise NotFoundError(f"no block {cid}")
        return data

    async def has_entries(self, cids: Iterable[CID]) -> set[CID]:
        """Which of ``cids`` are accepted log entries."""
        return await self.store.has_entries(cids)

    async def has_blocks(self, cids: Iterable[CID]) -> set[CID]:
        """Which of ``cids`` are stored."""
        return await self.store.has_blocks(cids)

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]:
        envelope = Envelope.decode(await self.get_block(cid))
        return envelope, ModuleRecord.from_dict(envelope.payload)

    async def resolve(self, dxn: DXN, selector: Selector = None) -> Resolution:
        """Resolve ``dxn`` with ``selector`` (or the DXN's own ``@selector``; ``latest`` by default)."""
        if selector is None:
            selector = dxn.version_selector()
        infos = await self.versions(dxn)
        if not infos:
            raise NotFoundError(f"{dxn.base} has no released versions")
        info = choose_version(infos, selector)
        if info is None and await self._pulled(dxn):
            info = choose_version(await self.store.versions(dxn.base), selector)
        if info is None:
            raise NotFoundError(f"no version of {dxn.base} matches {selector or 'latest'!s}")
        _, record = await self.record(info.record)
        return Resolution(dxn.base, record.version, info.record, record.bundle, info.yanked)

    async def search(
        self,
        text: str | None = None,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        api: str | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> ModuleListing:
        """Modules matching ``text`` (every word as a prefix; best match first) and the exact filters, each at its
        listed version (the highest stable unyanked one, else the highest); ``after`` is a cursor this method gave
        out (the one cursor format of every listing, :mod:`dmg.api.paging`)."""
        offset = 0 if after is None else decode_cursor(MODULES_LISTING, after) + 1
        query = ModuleQuery(text=text, namespace=namespace, kind=kind, api=api, limit=first, offset=offset)
        page = await self.store.search_modules(query)
        modules = []
        for position, dxn in enumerate(page.dxns, start=offset):
            info = listed_info(await self.store.versions(dxn))
            if info is None:
                continue
            _, record = await self.record(info.record)
            modules.append(ListedModule(encode_cursor(MODULES_LISTING, position), info, record))
        end = offset + len(page.dxns)
        end_cursor = encode_cursor(MODULES_LISTING, end - 1) if page.dxns else None
        return ModuleListing(tuple(modules), page.total, end < page.total, end_cursor)

    # --- events -----------------------------------------------------------------------------------------------

    async def entries_since(self, position: int, limit: int = MAX_EVENTS_PER_READ) -> list[RegistryEvent]:
        """The events of up to ``limit`` entries after log position ``position`` (0: from the first), in order."""
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise DmgError(f"position: a position in the log is 0 or more, not {position!r}")
        if not 1 <= limit <= MAX_EVENTS_PER_READ:
            raise DmgError(f"limit: read 1 to {MAX_EVENTS_PER_READ} events at a time, not {limit}")
        rows = await self.store.entries_since(position, limit)
        return [RegistryEvent.from_block(stored.position, stored.cid, data) for stored, data in rows]

    def subscribe(self, after: int | None = None) -> AsyncIterator[RegistryEvent]:
        """Every event after position ``after`` (None: from now on), in order, as entries are accepted, by this
        process or any other writing to the same store."""
        return self.events.subscribe(after)

    # --- transfer and checks ----------------------------------------------------------------------------------

    async def export(self, dxns: Iterable[DXN]) -> bytes:
        """A CAR that a registry imports from empty, to hold each selected version (``dxns`` resolved here) with
        the yank status it has here.

        Roots are log entries in acceptance order: each namespace log whole, and each DXN log from its first entry
        through the last about a version the export carries (:func:`~dmg.core.namelog.exported_prefix`: the
        selected versions, the earlier releases the chain passes through, and their later yanks and unyanks).
        Blocks add every carried release's record and whole bundle, since a registry accepts a release only with
        both.
        """
        selected: dict[DXN, set[Version]] = {}
        for dxn in dxns:
            selected.setdefault(dxn.base, set()).add((await self.resolve(dxn)).version)
        entries: dict[CID, StoredEntry] = {}
        blocks: dict[CID, bytes] = {}
        for dxn, versions in selected.items():
            log = await self.log_entries(str(dxn))
            # A DXN log holds DXN entries only (the batch saw to it), so the two lists line up.
            parsed = [
                entry for _, data in log if isinstance(entry := parse_entry(Envelope.decode(data).payload), DXNEntry)
            ]
            carried = exported_prefix(parsed, versions)
            for (stored, data), entry in zip(log[:carried], parsed[:carried], strict=True):
                entries[stored.cid] = stored
                blocks[stored.cid] = data
                if isinstance(entry, Release):
                    record_data = await self.get_block(entry.record)
                    blocks[entry.record] = record_data
                    bundle = ModuleRecord.from_dict(Envelope.decode(record_data).payload).bundle
                    if bundle not in blocks:  # versions often share a bundle
                        for cid in bundle_block_cids(await self.get_block(bundle)):
                            blocks[cid] = await self.get_block(cid)
            for stored, data in await self.log_entries(dxn.authority):
                entries[stored.cid] = stored
                blocks[stored.cid] = data
        roots = [entry.cid for entry in sorted(entries.values(), key=lambda entry: entry.position)]
        return write_car(roots, blocks.items())

    async def fsck(self) -> FsckReport:
        """Re-hash every block, re-verify every entry in acceptance order, recompute the transparency log from the
        entries, and compare with the stored state and tree."""
        return await fsck(self.store, self.log)
