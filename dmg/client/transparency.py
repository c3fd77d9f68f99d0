"""Client-side checks of a registry's transparency log: what the registry serves must be in its signed,
append-only log, and the log must authorise it.

For every module a client relies on, :class:`LogVerifier` checks, each failure a hard, specific error:

1. the checkpoint's signature, with the registry's log key: pinned on first use in the client's
   :class:`~dmg.client.trust.TrustStore` or given explicitly (:class:`RegistryKeyError`, :class:`SignatureError`);
2. the checkpoint's age: signed no longer ago than the policy's maximum (:class:`StaleCheckpointError`, a freeze);
3. consistency with the last checkpoint this client verified from that log: never smaller or older
   (:class:`CheckpointRollbackError`), always an extension of it by an RFC 6962 consistency proof, never a second
   root for one size (:class:`LogForkError`, a split view);
4. the inclusion of every entry relied on, in that checkpoint's tree (:class:`InclusionError`): the whole
   namespace log (who may sign, when) and the module's DXN log (its releases and yanks);
5. each entry's signatures, and the replay of both logs in log order with :mod:`dmg.core.namelog` (chains,
   sequence numbers, and every entry authorised by the namespace as it stood at that entry, so a revoked key
   signs nothing new while what it signed before stays valid);
6. that the registry's answer agrees with the replayed logs (:class:`~dmg.client.errors.RecordMismatchError`):
   the record is the one the release entry links, signed by a key that held ``release`` then, the yank status
   is the log's, and a range resolves to the version the log says it should.

What this cannot see: entries the registry withholds from the end of a log (a newer release or yank that is
not yet reported); only auditors reading every tile of the log, or peers comparing checkpoints, catch that.

Sources of evidence implement :class:`LogSource` (the HTTP client and the local client do). This module keeps no
state of its own besides what the trust store holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from dmg.client.errors import (
    CheckpointRollbackError,
    InclusionError,
    LogForkError,
    RecordMismatchError,
    RegistryKeyError,
    StaleCheckpointError,
)
from dmg.client.trust import TrustPolicy
from dmg.client.verify import check_selected
from dmg.core.checkpoint import NoteVerifier, SignedCheckpoint
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import MAX_CLOCK_SKEW_MS
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError, LogError, SignatureError
from dmg.core.keys import PublicKey
from dmg.core.namelog import DXNLogState, NamespaceState
from dmg.core.records import DXNEntry, NamespaceEntry, Release, parse_entry
from dmg.core.selection import select_version
from dmg.core.semver import Range, Version
from dmg.core.tlog import ProofError, leaf_hash, verify_consistency, verify_inclusion
from dmg.core.units import format_age

MAX_ATTEMPTS: Final = 3
"""How often the logs are fetched again when the registry reports entries newer than the checkpoint it gave."""


@dataclass(frozen=True)
class ProvenEntry:
    """A log entry as a registry sent it: its leaf index, its envelope block, and its inclusion proof in the tree
    of the checkpoint asked about (None when the registry says the entry is newer than that checkpoint)."""

    leaf_index: int
    block: bytes
    proof: tuple[bytes, ...] | None


class LogSource(Protocol):
    """What a registry offers for checking its transparency log."""

    async def checkpoint_note(self) -> str:
        """The registry's newest signed checkpoint note."""
        ...

    async def log_verifier_key(self) -> str:
        """The verifier key the registry says it signs with (trusted only on first use)."""
        ...

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...

    async def proven_history(self, logs: Sequence[str], size: int) -> dict[str, list[ProvenEntry]]:
        """Every entry of each log (a namespace or a DXN), in order, with inclusion proofs in the tree of ``size``."""
        ...


@dataclass(frozen=True)
class ReleasePoint:
    """Where a release stands in the log: its entry, its leaf, and the namespace as it was when it was accepted."""

    entry: CID
    leaf_index: int
    namespace: NamespaceState


@dataclass(frozen=True)
class VerifiedLogs:
    """A namespace log and one of its DXN logs, every entry proven in ``checkpoint`` and replayed in log order.

    ``complete`` is False when the registry reported entries of these logs newer than the checkpoint (left out).
    """

    checkpoint: SignedCheckpoint
    namespace: NamespaceState
    dxn_log: DXNLogState
    releases: Mapping[Version, ReleasePoint]
    entries: frozenset[CID]
    complete: bool

    def _stale(self) -> str:
        return "" if self.complete else " (the registry reports entries newer than its checkpoint)"

    def check_release(self, version: Version, record: CID, envelope: Envelope) -> ReleasePoint:
        """The release of ``version`` must link ``record``, whose (verified) ``envelope`` must be signed by a key
        that held ``release`` in the namespace when the release was accepted."""
        dxn = self.dxn_log.dxn
        point = self.releases.get(version)
        if point is None:
            raise RecordMismatchError(
                f"{dxn}@{version} is not released in the registry's signed log of {self.checkpoint.size} entries"
                + self._stale()
            )
        released = self.dxn_log.released[version]
        if released != record:
            raise RecordMismatchError(
                f"the signed log releases {dxn}@{version} as record {released}; the registry answered {record}"
            )
        if not envelope.signers & point.namespace.holders("release"):
            raise RecordMismatchError(
                f"record {record} of {dxn}@{version} is signed by no key that held 'release' in "
                f"{point.namespace.namespace!r} when it was released"
            )
        return point

    def check_yanked(self, version: Version, claimed: bool) -> None:
        logged = version in self.dxn_log.yanked
        if logged != claimed:
            said = "yanked" if claimed else "not yanked"
            raise RecordMismatchError(
                f"the registry says {self.dxn_log.dxn}@{version} is {said}; its signed log says otherwise"
                + self._stale()
            )

    def check_selection(self, selector: Version | Range | str | None, version: Version) -> None:
        """A range or ``latest`` must pick the version the logged releases and yanks give."""
        if isinstance(selector, Version):
            return
        logged = ((released, released in self.dxn_log.yanked) for released in self.dxn_log.released)
        expected = select_version(logged, selector)
        if expected != version:
            wanted = "nothing" if expected is None else str(expected)
            raise RecordMismatchError(
                f"the registry resolved {self.dxn_log.dxn}@{selector or 'latest'} to {version}; by its signed log it "
                f"is {wanted}" + self._stale()
            )


@dataclass(frozen=True)
class Verification:
    """What ``dmg verify`` reports: a module version checked against the registry's log."""

    dxn: DXN
    version: Version
    record: CID
    release: CID
    leaf_index: int
    signers: tuple[str, ...]
    namespace_entries: int
    yanked: bool
    checkpoint: SignedCheckpoint
    verifier_key: str

    def to_dict(self) -> dict[str, object]:
        return {
            "dxn": str(self.dxn),
            "version": str(self.version),
            "record": str(self.record),
            "release": str(self.release),
            "leafIndex": self.leaf_index,
            "signers": list(self.signers),
            "namespaceEntries": self.namespace_entries,
            "yanked": self.yanked,
            "checkpoint": {
                "origin": self.checkpoint.origin,
                "size": self.checkpoint.size,
                "time": self.checkpoint.time,
                "verifierKey": self.verifier_key,
            },
        }


def _when(time: int) -> str:
    return datetime.fromtimestamp(time / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_consistency(last: SignedCheckpoint, new: SignedCheckpoint, proof: Sequence[bytes]) -> None:
    """``new`` must extend ``last`` (both from one log, both verified): never smaller, never older, same prefix."""
    if new.size < last.size:
        raise CheckpointRollbackError(
            f"the registry's checkpoint covers {new.size} entries, fewer than the {last.size} this client verified "
            f"from {last.origin} before: refusing the rollback"
        )
    if new.time < last.time:
        raise CheckpointRollbackError(
            f"the registry's checkpoint was signed at {_when(new.time)}, before the one this client verified from "
            f"{last.origin} ({_when(last.time)}): refusing the rollback"
        )
    try:
        verify_consistency(last.size, new.size, last.root, new.root, proof)
    except ProofError as exc:
        raise LogForkError(
            f"the log of {new.origin} at {new.size} entries is not an extension of the log of {last.size} entries "
            f"this client verified before ({exc}): the registry shows different logs to different readers"
        ) from exc


_Proven = tuple[int, CID, frozenset[PublicKey], NamespaceEntry | DXNEntry]


def _proven_entries(checkpoint: SignedCheckpoint, log: str, items: Sequence[ProvenEntry]) -> tuple[list[_Proven], bool]:
    """The entries of ``log`` that are in ``checkpoint``, each proven and verified; and whether some were newer."""
    proven: list[_Proven] = []
    newer = False
    previous = -1
    for item in items:
        if item.leaf_index <= previous:
            raise InclusionError(f"the registry listed the entries of {log} out of log order (leaf {item.leaf_index})")
        previous = item.leaf_index
        cid = CID.of(item.block, DAG_CBOR)
        if item.leaf_index >= checkpoint.size:
            newer = True
            continue
        if item.proof is None:
            raise InclusionError(f"the registry gave no inclusion proof for entry {cid} of {log}")
        try:
            verify_inclusion(leaf_hash(item.block), item.leaf_index, checkpoint.size, item.proof, checkpoint.root)
        except ProofError as exc:
            raise InclusionError(
                f"entry {cid} of {log} is not leaf {item.leaf_index} of the registry's signed log of "
                f"{checkpoint.size} entries: {exc}"
            ) from exc
        envelope = Envelope.decode(item.block)
        signers = envelope.verify()
        entry = parse_entry(envelope.payload)
        if entry.log_name != log:
            raise RecordMismatchError(f"the registry listed an entry of {entry.log_name} in the log of {log}")
        proven.append((item.leaf_index, cid, signers, entry))
    return proven, newer


def replay_logs(
    checkpoint: SignedCheckpoint,
    dxn: DXN,
    namespace_items: Sequence[ProvenEntry],
    dxn_items: Sequence[ProvenEntry],
) -> VerifiedLogs:
    """Prove every entry in ``checkpoint`` and replay the namespace and DXN logs together, in log order."""
    namespace_entries, newer_namespace = _proven_entries(checkpoint, dxn.authority, namespace_items)
    dxn_entries, newer_dxn = _proven_entries(checkpoint, str(dxn), dxn_items)
    namespace = NamespaceState(dxn.authority)
    log = DXNLogState(dxn)
    releases: dict[Version, ReleasePoint] = {}
    ordered = sorted(namespace_entries + dxn_entries, key=lambda item: item[0])
    for leaf_index, cid, signers, entry in ordered:
        try:
            if isinstance(entry, NamespaceEntry):
                namespace = namespace.apply(cid, entry, signers)
            else:
                log = log.apply(cid, entry, signers, namespace)
                if isinstance(entry, Release):
                    releases[entry.version] = ReleasePoint(cid, leaf_index, namespace)
        except LogError as exc:
            raise type(exc)(
                f"the registry's signed log does not hold together at leaf {leaf_index} "
                f"({entry.log_name} #{entry.seq}): {exc}"
            ) from exc
    return VerifiedLogs(
        checkpoint,
        namespace,
        log,
        releases,
        frozenset(cid for _, cid, _, _ in ordered),
        not (newer_namespace or newer_dxn),
    )


class LogVerifier:
    """Checks what one registry (``registry`` names it in the trust store) serves against its transparency log."""

    def __init__(self, source: LogSource, registry: str, policy: TrustPolicy) -> None:
        self.source = source
        self.registry = registry
        self.policy = policy
        self._verifier: NoteVerifier | None = None

    async def verifier(self) -> NoteVerifier:
        """The log key: given, else pinned, else the registry's own (trust on first use). It is pinned once a
        checkpoint has verified with it."""
        if self._verifier is None:
            store = self.policy.store
            pinned = self.policy.registry_key or (store.pinned_key(self.registry) if store else None)
            text = pinned or await self.source.log_verifier_key()
            try:
                self._verifier = NoteVerifier.from_vkey(text)
            except DmgError as exc:
                source = "the pinned key" if pinned else "the registry's key"
                raise SignatureError(f"{source} for {self.registry} is not a note verifier key: {exc}") from exc
        return self._verifier

    async def checkpoint(self) -> SignedCheckpoint:
        """The registry's newest checkpoint, verified, fresh, consistent with the last one seen, and remembered."""
        verifier = await self.verifier()
        note = await self.source.checkpoint_note()
        try:
            signed = SignedCheckpoint.open(note, verifier)
        except SignatureError as exc:
            served = await self.source.log_verifier_key()
            if served != verifier.to_vkey():
                raise RegistryKeyError(
                    f"{self.registry} signs its log with the key {served}, not the pinned {verifier.to_vkey()}; "
                    "if its operator really changed keys, pin the new one with --registry-key"
                ) from exc
            raise SignatureError(
                f"the checkpoint of {self.registry} does not verify with its pinned key: {exc}"
            ) from exc
        self._check_time(signed)
        store = self.policy.store
        if store is not None:
            last = store.last_checkpoint(verifier)
            if last is not None:
                needs_proof = last.size not in (0, signed.size) and signed.size > last.size
                proof = await self.source.consistency_proof(last.size, signed.size) if needs_proof else []
                check_consistency(last, signed, proof)
            store.remember(verifier, signed)
            store.pin(self.registry, verifier.to_vkey())
        return signed

    def _check_time(self, signed: SignedCheckpoint) -> None:
        max_age = self.policy.max_age_ms
        if max_age is None:
            return
        now = self.policy.clock()
        if signed.time > now + MAX_CLOCK_SKEW_MS:
            raise StaleCheckpointError(
                f"the checkpoint of {self.registry} is signed {format_age(signed.time - now)} in the future "
                f"({_when(signed.time)}); check this machine's clock"
            )
        if now - signed.time > max_age:
            raise StaleCheckpointError(
                f"the newest checkpoint of {self.registry} was signed {format_age(now - signed.time)} ago "
                f"({_when(signed.time)}), more than the allowed {format_age(max_age)}: the registry, or something "
                "between it and you, may be frozen and withholding newer entries"
            )

    async def logs(self, dxn: DXN) -> VerifiedLogs:
        """The namespace and DXN logs of ``dxn``, proven in a fresh checkpoint and replayed.

        When the registry reports entries newer than the checkpoint (it grew meanwhile), a newer checkpoint is
        fetched, up to :data:`MAX_ATTEMPTS` times, so that answers given after the checkpoint can be judged.
        """
        verified: VerifiedLogs | None = None
        for _ in range(MAX_ATTEMPTS):
            checkpoint = await self.checkpoint()
            history = await self.source.proven_history([dxn.authority, str(dxn)], checkpoint.size)
            verified = replay_logs(checkpoint, dxn, history.get(dxn.authority, []), history.get(str(dxn), []))
            if verified.complete:
                break
        assert verified is not None
        return verified

    async def verify(
        self,
        dxn: DXN,
        selector: Version | Range | str | None,
        version: Version,
        record: CID,
        envelope: Envelope,
        yanked: bool,
    ) -> Verification:
        """Check that ``record`` (whose verified envelope is ``envelope``) is ``dxn@version`` as the log releases
        it, that ``yanked`` is the log's word, and that ``selector`` picks ``version``."""
        logs = await self.logs(dxn.base)
        point = logs.check_release(version, record, envelope)
        logs.check_yanked(version, yanked)
        check_selected(dxn, selector, version, yanked)
        logs.check_selection(selector, version)
        return Verification(
            dxn=dxn.base,
            version=version,
            record=record,
            release=point.entry,
            leaf_index=point.leaf_index,
            signers=tuple(sorted(key.did for key in envelope.signers)),
            namespace_entries=point.namespace.head.seq + 1,
            yanked=yanked,
            checkpoint=logs.checkpoint,
            verifier_key=(await self.verifier()).to_vkey(),
        )
