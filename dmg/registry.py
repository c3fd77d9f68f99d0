"""The registry: verifies what is submitted, then stores it atomically; answers name and version questions.

Every write goes through a :class:`_Batch`: it loads the states of the logs it touches, applies each signed entry
with :mod:`dmg.core.namelog` (signatures verified first, authorisation judged against the namespace as it stands at
that entry), checks records and bundles, and collects one :class:`~dmg.store.base.Commit`. Only a batch that
validated completely is committed, so bad input never changes the store.

Operations: namespace entries (claim, grant, revoke), DXN entries (yank, unyank), ``publish`` (a release entry with
its record and bundle blocks), ``import_car`` (any sequence of entries with their blocks, e.g. an export from
another registry), ``export``, ``resolve``, and ``fsck`` (re-hash, re-verify, replay, recompute the tree, compare).

Transparency log (:class:`TransparencyLog`): every accepted entry's envelope block is appended, in the same commit,
as a leaf of one RFC 6962 Merkle tree (leaf ``i`` is the entry accepted ``i + 1``-th). The registry signs
checkpoints of the tree with its operator key (``<data_dir>/operator.key``, made on first open) and answers
inclusion and consistency proofs and C2SP tiles from the stored hashes, all in O(log n) reads.

Admission rules beyond the log rules (:class:`Admission`): an entry is at most 65535 bytes (a tlog-tiles leaf),
and the claim of a namespace the operator reserved must be countersigned by the operator key
(:meth:`Registry.countersign`). Clients replaying a log do not see these rules; they are this registry's policy.

This module is transport-free: the CLI calls it on a local data directory, the HTTP service calls it for remote
clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dmg.api.results import FsckReport, ImportResult, PublishResult, Resolution, VersionInfo, choose_version
from dmg.core import codec
from dmg.core.bundle import BundleIndex, assemble_bundle, bundle_block_cids, check_content
from dmg.core.car import read_car, write_car
from dmg.core.checkpoint import NoteSigner, SignedCheckpoint
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import MAX_CLOCK_SKEW_MS, now_ms
from dmg.core.dxn import DXN, is_authority
from dmg.core.envelope import Envelope
from dmg.core.errors import (
    BundleError,
    ConfigError,
    DmgError,
    KeyFileError,
    LogError,
    NotFoundError,
    RecordError,
    StoreError,
    TooLargeError,
    UnauthorizedError,
)
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceClaim, NamespaceEntry, Release, parse_entry
from dmg.core.semver import Range, Version
from dmg.core.tlog import (
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    Frontier,
    NodeId,
    ProofError,
    Tile,
    consistency_plan,
    entry_bundle,
    inclusion_plan,
    leaf_hash,
)
from dmg.store.base import Commit, ReleaseRow, SearchDocument, Store, StoredEntry
from dmg.store.sqlite import SQLiteStore

INLINE_CHECK_SIZE: Final = 256 * 1024
"""Bundles up to this size are checked on the event loop; larger ones in a worker thread, so serving goes on."""
OPERATOR_KEY_FILE: Final = "operator.key"
CHECKPOINT_REFRESH_MS: Final = 60 * 1000
"""A checkpoint older than this is signed again even when the tree has not grown, so clients can tell a live
registry from a frozen one."""
FSCK_TREE_BATCH: Final = 2048
"""Recomputed tree hashes compared with the stored ones per store read during fsck."""
MAX_FSCK_TREE_PROBLEMS: Final = 10


# --- the operator and the transparency log ------------------------------------------------------------------


def default_origin(operator: PublicKey) -> str:
    """The checkpoint origin of a registry that sets none: ``dmg.local/`` and 8 hex digits of its key's hash."""
    return f"dmg.local/{hashlib.sha256(operator.raw).hexdigest()[:8]}"


def load_operator_key(data_dir: Path) -> SigningKey:
    """The operator key in ``data_dir``, made (mode 0600) on first use."""
    path = data_dir / OPERATOR_KEY_FILE
    if not path.exists():
        try:
            SigningKey.generate().save(path)
        except KeyFileError:
            if not path.exists():
                raise
    return SigningKey.load(path)


class TransparencyLog:
    """The registry's RFC 6962 Merkle tree over its accepted entries, kept in the store, and its signed checkpoints.

    The frontier (the O(log n) hashes an append needs) lives in memory: loaded on open, and again before an append
    or a checkpoint when another process has appended to the same store. Appends and checkpoints take one lock,
    so a checkpoint is only ever signed over a committed tree; proofs read only hashes of that committed tree, which
    never change.
    """

    def __init__(self, store: Store, signer: NoteSigner, operator: PublicKey, clock: Callable[[], int]) -> None:
        self.store = store
        self.operator = operator
        self._signer = signer
        self._clock = clock
        self._frontier = Frontier()
        self._signed: SignedCheckpoint | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, store: Store, operator: SigningKey, origin: str | None, clock: Callable[[], int]
    ) -> TransparencyLog:
        name = origin or default_origin(operator.public_key)
        try:
            signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(operator.seed()))
        except KeyFileError as exc:
            raise ConfigError(f"checkpoint origin {name!r} cannot name the log's key: {exc}") from exc
        log = cls(store, signer, operator.public_key, clock)
        await log._sync()
        return log

    @property
    def origin(self) -> str:
        return self._signer.name

    @property
    def verifier_key(self) -> str:
        """The note verifier key clients pin: ``<origin>+<key ID>+<base64 key>``."""
        return self._signer.verifier().to_vkey()

    @property
    def size(self) -> int:
        """Leaves in the committed tree."""
        return self._frontier.size

    async def _sync(self) -> None:
        size = await self.store.tree_size()
        if size != self._frontier.size:
            self._frontier = Frontier(size, await self.store.tree_hashes(Frontier.node_ids(size)))

    async def append(self, commit: Commit, leaves: list[bytes]) -> int:
        """Add ``leaves`` (the envelope blocks of ``commit.entries``) to the tree and store ``commit`` atomically;
        return how many of its blocks were new to the store."""
        async with self._lock:
            await self._sync()
            frontier = self._frontier.copy()
            commit.tree_size = frontier.size
            commit.tree_nodes = [node for data in leaves for node in frontier.append(leaf_hash(data))]
            blocks_added = await self.store.commit(commit)
            self._frontier = frontier
            return blocks_added

    async def checkpoint(self) -> SignedCheckpoint:
        """The signed checkpoint of the committed tree, signed again when the tree grew or it got stale."""
        async with self._lock:
            await self._sync()
            now = self._clock()
            signed = self._signed
            if signed is None or signed.size != self.size or now - signed.time >= CHECKPOINT_REFRESH_MS:
                # Checkpoint times never go backwards, even when the clock does: clients refuse that as a rollback.
                time = max(now, signed.time if signed else 0)
                signed = SignedCheckpoint.sign(self.origin, self.size, self._frontier.root(), time, self._signer)
                self._signed = signed
            return signed

    def _check_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= self.size:
            raise ProofError(f"tree size {size!r} is not one this log has had: it has {self.size} leaves")

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
        self._check_size(size)
        plan = inclusion_plan(index, size)
        return plan.assemble(await self.store.tree_hashes(plan.nodes))

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``."""
        self._check_size(new_size)
        plan = consistency_plan(old_size, new_size)
        return plan.assemble(await self.store.tree_hashes(plan.nodes))

    async def tile(self, path: str) -> bytes:
        """A C2SP tlog-tiles resource: a hash tile ``tile/<L>/<N>[.p/<W>]`` or an entry bundle."""
        tile = Tile.from_path(path)
        if not tile.fits(self.size):
            raise NotFoundError(f"{tile.path} is beyond the tree, which has {self.size} leaves")
        if tile.entries:
            return entry_bundle(await self.store.entry_blocks(tile.index * TILE_WIDTH, tile.width))
        return b"".join(await self.store.tree_hashes(tile.node_ids()))


class _TreeCheck:
    """fsck's recomputation of the transparency log from the entries, compared with the stored hashes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.frontier = Frontier()
        self.pending: list[tuple[NodeId, bytes]] = []
        self.problems: list[str] = []

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_FSCK_TREE_PROBLEMS:
            self.problems.append(f"transparency log: {text}")

    async def add(self, stored: StoredEntry, data: bytes) -> None:
        if stored.position != self.frontier.size + 1:
            self._problem(f"entry {stored.cid} is at position {stored.position}, expected {self.frontier.size + 1}")
        self.pending.extend(self.frontier.append(leaf_hash(data)))
        if len(self.pending) >= FSCK_TREE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        nodes, self.pending = self.pending, []
        try:
            stored = await self.store.tree_hashes([node for node, _ in nodes])
        except StoreError as exc:
            self._problem(str(exc))
            return
        for ((level, index), expected), found in zip(nodes, stored, strict=True):
            if expected != found:
                self._problem(f"stored hash at level {level}, index {index} differs from the one the entries give")

    async def finish(self, log: TransparencyLog) -> list[str]:
        await self.flush()
        if log.size != self.frontier.size:
            self._problem(f"the tree has {log.size} leaves but {self.frontier.size} entries are stored")
        elif (await log.checkpoint()).root != self.frontier.root():
            self._problem(f"the signed root of {log.size} leaves differs from the root recomputed from the entries")
        return self.problems


@dataclass(frozen=True)
class Admission:
    """This registry's rules for new entries beyond the log rules: reserved namespaces are claimed only with the
    operator's countersignature. A reserved name covers itself and every namespace under it (``org.dxos`` covers
    ``org.dxos.labs``)."""

    operator: PublicKey
    reserved: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in self.reserved:
            if not is_authority(name):
                raise ConfigError(f"reserved namespace {name!r} is not a lowercase authority such as com.example")

    def reservation(self, namespace: str) -> str | None:
        return next((name for name in self.reserved if namespace == name or namespace.startswith(f"{name}.")), None)

    def check(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None:
        if not isinstance(entry, NamespaceClaim):
            return
        reserved = self.reservation(entry.namespace)
        if reserved is not None and self.operator not in signers:
            raise UnauthorizedError(
                f"namespace {entry.namespace!r} is reserved by this registry's operator ({reserved!r}); its claim "
                f"must be countersigned by the operator key {self.operator.did}"
            )


# --- verification -------------------------------------------------------------------------------------------


class _CheckedEntry(NamedTuple):
    """A log entry whose block, signatures and payload are valid on their own; whether it may extend its log
    depends on the state of the logs, which is judged next."""

    cid: CID
    data: bytes
    entry: NamespaceEntry | DXNEntry
    signers: frozenset[PublicKey]


class _Batch:
    """Validates a sequence of submissions against the store plus everything earlier in the same batch."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], int] | None,
        admission: Admission | None = None,
        submitted: Mapping[CID, bytes] | None = None,
        *,
        hashed: bool = False,
    ) -> None:
        """``clock`` bounds entry times from above; ``None`` replays history from empty states (fsck), where the
        ``admission`` rules of today do not apply. ``submitted`` holds the blocks that came with the entries;
        ``hashed`` says that every one of them, and every entry block, was checked against its CID already (as
        :func:`~dmg.core.car.read_car` does), so they are not hashed again."""
        self.store = store
        self.clock = clock
        self.admission = admission
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

    async def _load_logs(self, checked: list[_CheckedEntry]) -> None:
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

    def check_entry(self, cid: CID, data: bytes) -> _CheckedEntry:
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
        return _CheckedEntry(cid, data, parse_entry(envelope.payload), signers)

    async def apply_entries(self, roots: Iterable[tuple[CID, bytes]]) -> list[NamespaceEntry | DXNEntry]:
        """Verify and apply log entries in order; the first that fails raises, as if each were applied in turn.

        Every entry is checked on its own first, so that the states of all the logs they touch are loaded together.
        """
        checked: list[_CheckedEntry] = []
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

    async def _apply(self, checked: _CheckedEntry) -> NamespaceEntry | DXNEntry:
        cid, data, entry, signers = checked
        self._check_time(entry.time)
        if self.admission is not None:
            self.admission.check(entry, signers)
        log_name = entry.log_name
        if isinstance(entry, NamespaceEntry):
            state = self.namespaces[log_name].apply(cid, entry, signers)
            self.namespaces[log_name] = self.commit.namespaces[log_name] = state
            kind = "namespace"
        else:
            namespace = self.namespaces[entry.namespace]
            log = self.dxn_logs[log_name].apply(cid, entry, signers, namespace)
            if isinstance(entry, Release):
                await self._check_release(cid, entry, signers, namespace)
            self.dxn_logs[log_name] = self.commit.dxn_logs[log_name] = log
            kind = "dxn"
        self._keep(cid, data)
        self.commit.entries.append((cid, log_name, kind, entry.seq, entry.time))
        self.leaves.append(data)
        return entry

    async def _check_release(self, cid: CID, entry: Release, signers: frozenset, namespace: NamespaceState) -> None:
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


class Registry:
    """A registry over one :class:`~dmg.store.base.Store`; every write is verified, then committed atomically."""

    def __init__(
        self,
        store: Store,
        log: TransparencyLog,
        operator: SigningKey,
        clock: Callable[[], int] = now_ms,
        reserved: Iterable[str] = (),
    ) -> None:
        self.store = store
        self.log = log
        self.clock = clock
        self.admission = Admission(operator.public_key, frozenset(reserved))
        self._operator = operator
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        data_dir: str | os.PathLike[str],
        *,
        origin: str | None = None,
        reserved: Iterable[str] = (),
        clock: Callable[[], int] = now_ms,
    ) -> Registry:
        """Open (or create) the registry in ``data_dir``; ``origin`` names its log (default from the operator key),
        ``reserved`` lists namespaces only the operator may admit."""
        store = await SQLiteStore.open(data_dir)
        try:
            operator = load_operator_key(Path(data_dir))
            log = await TransparencyLog.open(store, operator, origin, clock)
            return cls(store, log, operator, clock, reserved)
        except BaseException:
            await store.close()
            raise

    def countersign(self, envelope_bytes: bytes) -> bytes:
        """The claim envelope with the operator's signature added: how the operator admits the claim of a reserved
        namespace. The claimants' signatures are checked first."""
        envelope = Envelope.decode(envelope_bytes)
        envelope.verify()
        if not isinstance(parse_entry(envelope.payload), NamespaceClaim):
            raise RecordError("the operator countersigns namespace claims only")
        return envelope.countersigned(self._operator).block()[1]

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Registry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- writes -----------------------------------------------------------------------------------------------

    async def _run(
        self, roots: Iterable[tuple[CID, bytes]], submitted: Mapping[CID, bytes], *, hashed: bool = False
    ) -> tuple[list[NamespaceEntry | DXNEntry], int]:
        """Apply the entries ``roots`` with the blocks ``submitted`` as one batch (``hashed``: all of them were checked
        against their CIDs already); return the entries and how many blocks were new to the store."""
        async with self._write_lock:
            batch = _Batch(self.store, self.clock, self.admission, submitted, hashed=hashed)
            entries = await batch.apply_entries(roots)
            blocks_added = await self.log.append(batch.commit, batch.leaves)
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
        known = await self.store.has_blocks(car.roots)
        fresh = [cid for cid in car.roots if cid not in known]
        for cid in fresh:
            if cid not in car.blocks:
                raise NotFoundError(f"root {cid} has no block in the CAR")
        # read_car has checked every block against its CID.
        _, blocks_added = await self._run([(cid, car.blocks[cid]) for cid in fresh], car.blocks, hashed=True)
        return ImportResult(len(fresh), len(car.roots) - len(fresh), blocks_added)

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
        info = choose_version(infos, selector)
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
        """Re-hash every block, re-verify every entry in acceptance order, recompute the transparency log from the
        entries, and compare with the stored state and tree."""
        report = FsckReport()
        async for cid, data in self.store.iter_blocks():
            report.blocks += 1
            try:
                cid.verify(data)
                if cid.codec == DAG_CBOR:
                    codec.decode(data)
            except DmgError as exc:
                report.problems.append(f"block {cid}: {exc}")
        replay = _Batch(self.store, None)
        tree = _TreeCheck(self.store)
        async for stored in self.store.iter_entries():
            report.entries += 1
            try:
                data = await self.get_block(stored.cid)
                await tree.add(stored, data)
                await replay.apply_entry(stored.cid, data)
            except DmgError as exc:
                report.problems.append(f"entry {stored.cid} (#{stored.position}, {stored.log}): {exc}")
        report.problems += await tree.finish(self.log)
        stored_namespaces = await self.store.load_namespaces(replay.namespaces)
        for name, state in replay.namespaces.items():
            if stored_namespaces[name] != state:
                report.problems.append(f"namespace {name}: stored state differs from the replayed log")
        stored_logs = await self.store.load_dxn_logs(log.dxn for log in replay.dxn_logs.values())
        for name, log in replay.dxn_logs.items():
            if stored_logs[name] != log:
                report.problems.append(f"{name}: stored versions differ from the replayed log")
        return report
