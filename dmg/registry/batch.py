"""Verifying a batch of submitted entries against the store and against each other, before anything is written.

A :class:`Batch` loads the states of the logs its entries touch, applies each signed entry with
:mod:`dmg.core.namelog` (signatures verified first, authorisation judged against the namespace as it stands at that
entry), asks the registry's write policy, checks each release's record and bundle, and collects one
:class:`~dmg.store.base.Commit`. Only a batch that validated completely is committed, so bad input never changes
the store. Log entries are at most 65535 bytes (a tlog-tiles leaf), and no later than the clock allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

from dmg.api.results import EntryKind
from dmg.core import codec
from dmg.core.bundle import BundleIndex, assemble_bundle, bundle_block_cids, check_content
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import MAX_CLOCK_SKEW_MS, Clock
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import (
    BundleError,
    DmgError,
    LogError,
    NotFoundError,
    RecordError,
    TooLargeError,
    UnauthorizedError,
)
from dmg.core.keys import PublicKey
from dmg.core.namelog import DXNLogState, NamespaceState
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceEntry, Release, parse_entry
from dmg.core.tlog import MAX_ENTRY_SIZE
from dmg.registry.policies import WritePolicy
from dmg.store.base import Commit, CommitEntry, ReleaseRow, SearchDocument, Store

INLINE_CHECK_SIZE: Final = 256 * 1024
"""Bundles up to this size are checked on the event loop; larger ones in a worker thread, so serving goes on."""


class CheckedEntry(NamedTuple):
    """A log entry whose block, signatures and payload are valid on their own; whether it may extend its log
    depends on the state of the logs, which is judged next."""

    cid: CID
    data: bytes
    entry: NamespaceEntry | DXNEntry
    signers: frozenset[PublicKey]


class Batch:
    """Validates a sequence of submissions against the store plus everything earlier in the same batch."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None,
        write_policy: WritePolicy | None = None,
        submitted: Mapping[CID, bytes] | None = None,
        *,
        hashed: bool = False,
    ) -> None:
        """``clock`` bounds entry times from above; ``None`` replays history from empty states (fsck), where the
        ``write_policy`` of today does not apply. ``submitted`` holds the blocks that came with the entries;
        ``hashed`` says that every one of them, and every entry block, was checked against its CID already (as
        :func:`~dmg.core.car.read_car` does), so they are not hashed again."""
        self.store = store
        self.clock = clock
        self.write_policy = write_policy
        self.submitted: Mapping[CID, bytes] = submitted or {}
        self.hashed = hashed
        self._latest_allowed_time = -1
        self.commit = Commit()
        self.leaves: list[bytes] = []
        self.blocks: dict[CID, bytes] = {}
        # Keyed by runtime too: a bundle that suits one record's runtime may not suit the next record's.
        self.checked_bundles: set[tuple[CID, str]] = set()
        self.namespaces: dict[str, NamespaceState] = {}
        self.dxn_logs: dict[str, DXNLogState] = {}

    async def _load_logs(self, checked: list[CheckedEntry]) -> None:
        """Load the state of every log ``checked`` extends or is governed by that the batch has not loaded yet, in one
        store read per kind of log rather than one per log."""
        namespaces = {item.entry.namespace for item in checked} - self.namespaces.keys()
        dxns: dict[str, DXN] = {}
        for item in checked:
            entry = item.entry
            if isinstance(entry, DXNEntry) and entry.log_name not in self.dxn_logs:
                dxns[entry.log_name] = entry.dxn
        if self.clock is None:
            self.namespaces.update((name, NamespaceState(name)) for name in namespaces)
            self.dxn_logs.update((name, DXNLogState(dxn)) for name, dxn in dxns.items())
            return
        if namespaces:
            self.namespaces.update(await self.store.load_namespaces(namespaces))
        if dxns:
            self.dxn_logs.update(await self.store.load_dxn_logs(dxns.values()))

    async def block(self, cid: CID) -> bytes:
        """The block ``cid`` from the submission, the batch or the store, checked against its CID."""
        data = self.blocks.get(cid)
        if data is not None:
            return data  # checked when the batch took it
        data = self.submitted.get(cid)
        if data is not None and self.hashed:
            return data
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
        if self.clock is None or entry_time <= self._latest_allowed_time:
            return
        # The clock is read again only for an entry past the last reading's bound, so a batch reads it about once.
        self._latest_allowed_time = self.clock() + MAX_CLOCK_SKEW_MS
        if entry_time > self._latest_allowed_time:
            raise LogError(f"entry time {entry_time} is more than 5 minutes ahead of the registry's clock")

    def check_entry(self, cid: CID, data: bytes) -> CheckedEntry:
        """Check what one log entry block says on its own: its hash, every signature, the payload's shape."""
        if cid.codec != DAG_CBOR:
            raise RecordError(f"log entry {cid} must be a dag-cbor block")
        if len(data) > MAX_ENTRY_SIZE:
            raise TooLargeError(
                f"log entry {cid} is {len(data)} bytes; entries are leaves of the transparency log, at most "
                f"{MAX_ENTRY_SIZE}"
            )
        if not self.hashed:
            cid.verify(data)
        envelope = Envelope.decode(data)
        signers = envelope.verify()
        return CheckedEntry(cid, data, parse_entry(envelope.payload), signers)

    async def apply_entries(self, roots: Iterable[tuple[CID, bytes]]) -> list[NamespaceEntry | DXNEntry]:
        """Verify and apply log entries in order; the first that fails raises, as if each were applied in turn.

        Every entry is checked on its own first, so that the states of all the logs they touch are loaded together.
        """
        checked: list[CheckedEntry] = []
        failure: DmgError | None = None
        for cid, data in roots:
            try:
                checked.append(self.check_entry(cid, data))
            except DmgError as exc:
                # Entries before this one may fail first, on the state of their logs: raise this once they passed.
                failure = exc
                break
        await self._load_logs(checked)
        entries = [await self._apply(item) for item in checked]
        if failure is not None:
            raise failure
        return entries

    async def apply_entry(self, cid: CID, data: bytes) -> NamespaceEntry | DXNEntry:
        """Verify and apply one log entry; a release also pulls in and checks its record and bundle."""
        return (await self.apply_entries([(cid, data)]))[0]

    async def _apply(self, checked: CheckedEntry) -> NamespaceEntry | DXNEntry:
        cid, data, entry, signers = checked
        self._check_time(entry.time)
        if self.write_policy is not None:
            self.write_policy.admit(entry, signers)
        log_name = entry.log_name
        if isinstance(entry, NamespaceEntry):
            state = self.namespaces[log_name].apply(cid, entry, signers)
            self.namespaces[log_name] = self.commit.namespaces[log_name] = state
            kind = EntryKind.NAMESPACE
        else:
            namespace = self.namespaces[entry.namespace]
            log = self.dxn_logs[log_name].apply(cid, entry, signers, namespace)
            if isinstance(entry, Release):
                await self._check_release(cid, entry, signers, namespace)
            self.dxn_logs[log_name] = self.commit.dxn_logs[log_name] = log
            kind = EntryKind.DXN
        self._keep(cid, data)
        self.commit.entries.append(CommitEntry(cid, log_name, kind, entry.seq, entry.time))
        self.leaves.append(data)
        return entry

    async def _check_release(
        self, cid: CID, entry: Release, signers: frozenset[PublicKey], namespace: NamespaceState
    ) -> None:
        record_data = await self.block(entry.record)
        envelope = Envelope.decode(record_data)
        record_signers = envelope.verify()
        if not namespace.allows("release", record_signers):
            raise UnauthorizedError(
                f"no signer of the record {entry.record} holds 'release' in {namespace.namespace!r}"
            )
        record = ModuleRecord.from_dict(envelope.payload)
        if record.dxn != entry.dxn or record.version != entry.version:
            raise RecordError(
                f"release of {entry.dxn}@{entry.version} links a record for {record.dxn}@{record.version}"
            )
        self._keep(entry.record, record_data)
        await self._check_bundle(record)
        self.commit.releases.append(
            ReleaseRow(
                entry.log_name,
                str(entry.version),
                entry.record,
                cid,
                entry.time,
                min(signers).did,
                SearchDocument.from_payload(envelope.payload),
            )
        )

    async def _check_bundle(self, record: ModuleRecord) -> None:
        """Every block of the bundle must be at hand and verify, and the file must suit the record's runtime."""
        if (record.bundle, record.runtime) in self.checked_bundles:
            return
        index_data = await self.block(record.bundle)
        fetched = {cid: await self.block(cid) for cid in bundle_block_cids(index_data)}
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
        self.checked_bundles.add((record.bundle, record.runtime))
