"""Pulling a peer's log, verified as a client would verify it, committed atomically, resumable from its cursor.

:meth:`PeerSync.run` takes one peer from where the last sync stopped to the peer's newest checkpoint:

1. read the peer's discovery document; pin its log key on first contact (a peer that later presents another key is
   refused) and learn which namespaces it is the home of;
2. read its checkpoint and check the signature; compare it with every checkpoint of that log seen before: a smaller
   tree, or another root for a size already verified, is equivocation, and the peer is quarantined with both signed
   checkpoints kept as evidence;
3. read the log's entry bundles (C2SP tlog-tiles) from the cursor on, a chunk of tiles at a time, hashing every leaf
   into the tree kept here, and check the chunk against the checkpoint (a consistency proof from the chunk's end to
   the checkpoint, or the root itself at the end): every entry read is then proven to be in the signed log, in
   order, and the log to extend what was seen before;
4. take the entries of namespaces routed to the peer that it is home for; fetch, in a few requests, the record and
   bundle blocks their releases need, each checked against its CID; hand them to the registry, which verifies
   every entry exactly as it verifies anything (signatures, the signer's authority by the namespace log, chains)
   and commits them at once, or nothing;
5. record the progress (the tree so far, which entries came from which leaf): a crash repeats the chunk, never
   skips it.

Anything the peer sends that does not check out (a tampered block, a forged or reordered entry, an entry bundle that
does not match its checkpoint, an oversized answer) fails the sync with a typed error, is counted, and leaves the
store unchanged. How often and how concurrently peers are synced is :mod:`federation.service`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from dmg.api.discovery import Discovery
from dmg.client.errors import LogForkError, MalformedResponseError, RegistryKeyError
from dmg.client.http import HttpClient
from dmg.core.checkpoint import NoteVerifier, SignedCheckpoint
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import Clock, now_ms
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError
from dmg.core.records import ModuleRecord, Release, parse_entry
from dmg.core.tlog import (
    TILE_WIDTH,
    Frontier,
    NodeId,
    ProofError,
    Tile,
    leaf_hash,
    parse_entry_bundle,
    verify_consistency,
)
from dmg.registry import Registry
from federation.peers import Evidence, Peer
from federation.routes import HomeWrites
from federation.state import FederationState

CHUNK_TILES: Final = 8
"""Entry bundles read and proven per commit: 2048 entries."""
BLOCKS_PER_REQUEST: Final = 512


class EquivocationError(LogForkError):
    """A peer signed two histories of one log that cannot both be true; ``evidence`` holds both checkpoints."""

    def __init__(self, evidence: Evidence) -> None:
        super().__init__(evidence.detail)
        self.evidence = evidence


class LyingPeerError(DmgError):
    """What a peer sent does not agree with its own signed checkpoint, or is not a valid entry."""


@dataclass
class SyncReport:
    """What one sync of one peer did."""

    peer: str
    origin: str = ""
    checkpoint_size: int = 0
    synced_size: int = 0
    entries_taken: int = 0
    entries_known: int = 0
    entries_refused: int = 0
    blocks_added: int = 0
    homes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "peer": self.peer,
            "origin": self.origin,
            "checkpointSize": self.checkpoint_size,
            "syncedSize": self.synced_size,
            "entriesTaken": self.entries_taken,
            "entriesKnown": self.entries_known,
            "entriesRefused": self.entries_refused,
            "blocksAdded": self.blocks_added,
        }


@dataclass
class _Chunk:
    """What one chunk of leaves yielded: the tree nodes it completed and the entries to take."""

    nodes: list[tuple[NodeId, bytes]] = field(default_factory=list)
    taken: list[tuple[int, CID, bytes, str]] = field(default_factory=list)
    refused: int = 0


class PeerSync:
    """One sync of ``peer`` into ``registry``; see the module docstring."""

    def __init__(
        self,
        registry: Registry,
        state: FederationState,
        peer: Peer,
        client: HttpClient,
        *,
        clock: Clock = now_ms,
        progress: Callable[[SyncReport], None] | None = None,
        chunk_tiles: int = CHUNK_TILES,
    ) -> None:
        self.registry = registry
        self.chunk_tiles = chunk_tiles
        self.state = state
        self.peer = peer
        self.client = client
        self.clock = clock
        self.progress = progress

    async def run(self) -> SyncReport:
        report = SyncReport(self.peer.name)
        verifier = await self._verifier(await self.client.discovery())
        signed = SignedCheckpoint.open(await self.client.checkpoint_note(), verifier)
        # Homes are read after the checkpoint: every namespace with an entry in the tree it signs is claimed by then.
        homes = (await self.client.discovery()).homes
        report.origin, report.homes = verifier.name, homes
        policy = HomeWrites(self.peer, homes)
        report.checkpoint_size = signed.size
        home = await self.state.home_log(verifier.name)
        size = 0 if home is None else home.size
        frontier = Frontier(size, await self.state.nodes(verifier.name, Frontier.node_ids(size)))
        await self._check_history(verifier, signed, frontier, [] if home is None else [home.note, home.pending])
        while frontier.size < signed.size:
            frontier, chunk = await self._read_chunk(frontier, signed, policy)
            report.entries_refused += chunk.refused
            await self._take(chunk, policy, report)
            await self.state.advance(
                verifier.name,
                verifier.to_vkey(),
                frontier.size,
                chunk.nodes,
                [(leaf, cid, namespace) for leaf, cid, _, namespace in chunk.taken],
                (signed.note, signed.size),
            )
            report.synced_size = frontier.size
            if self.progress is not None:
                self.progress(report)
        if home is None or home.note_size != signed.size or home.note != signed.note:
            checkpoint = (signed.note, signed.size)
            await self.state.advance(verifier.name, verifier.to_vkey(), frontier.size, [], [], checkpoint)
        report.synced_size = frontier.size
        return report

    async def _verifier(self, discovery: Discovery) -> NoteVerifier:
        pinned = self.peer.registry_key
        if pinned and discovery.verifier_key != pinned:
            raise RegistryKeyError(
                f"peer {self.peer.name!r} presents the log key {discovery.verifier_key}; its pinned key is {pinned}"
            )
        try:
            verifier = NoteVerifier.from_vkey(discovery.verifier_key)
        except DmgError as exc:
            raise MalformedResponseError(f"peer {self.peer.name!r}: its discovery document's key: {exc}") from exc
        if verifier.name != discovery.origin:
            raise MalformedResponseError(
                f"peer {self.peer.name!r} names its log {discovery.origin!r} but its key names {verifier.name!r}"
            )
        if not pinned:
            await self.state.pin_key(self.peer.name, discovery.verifier_key)
        return verifier

    async def _check_history(
        self, verifier: NoteVerifier, signed: SignedCheckpoint, frontier: Frontier, earlier: list[str]
    ) -> None:
        """``signed`` must extend every checkpoint of this log verified before, and the part of the tree known."""
        for note in filter(None, earlier):
            seen = SignedCheckpoint.open(note, verifier)
            if signed.size < seen.size:
                raise EquivocationError(self._evidence("rollback", seen, signed, "a smaller tree than one it signed"))
            if signed.size == seen.size and signed.root != seen.root:
                raise EquivocationError(self._evidence("fork", seen, signed, "two roots for one tree size"))
            if signed.size > seen.size > 0:
                proof = await self.client.consistency_proof(seen.size, signed.size)
                try:
                    verify_consistency(seen.size, signed.size, seen.root, signed.root, proof)
                except ProofError as exc:
                    why = f"a tree that does not extend one it signed before ({exc})"
                    raise EquivocationError(self._evidence("fork", seen, signed, why)) from exc
        if signed.size < frontier.size:
            raise LyingPeerError(
                f"peer {self.peer.name!r} signed a tree of {signed.size} leaves; {frontier.size} were already proven"
            )

    def _evidence(self, kind: str, first: SignedCheckpoint, second: SignedCheckpoint, why: str) -> Evidence:
        detail = (
            f"peer {self.peer.name!r} ({first.origin}) equivocates: {why} (sizes {first.size} and {second.size}); "
            f"it is quarantined until dmg peer trust {self.peer.name} --reset"
        )
        return Evidence(kind, first.note, second.note, detail, self.clock())

    async def _read_chunk(
        self, frontier: Frontier, signed: SignedCheckpoint, policy: HomeWrites
    ) -> tuple[Frontier, _Chunk]:
        """The next chunk of leaves after ``frontier``, hashed into a copy of it and proven against ``signed``."""
        chunk = _Chunk()
        working = frontier.copy()
        first_tile = working.size // TILE_WIDTH
        for index in range(first_tile, first_tile + self.chunk_tiles):
            start = index * TILE_WIDTH
            if start >= signed.size:
                break
            width = min(TILE_WIDTH, signed.size - start)
            entries = parse_entry_bundle(await self.client.tile(Tile(0, index, width, entries=True)))
            if len(entries) != width:
                raise LyingPeerError(f"peer {self.peer.name!r} sent {len(entries)} entries for a tile of {width}")
            for leaf in range(working.size, start + width):
                data = entries[leaf - start]
                chunk.nodes.extend(working.append(leaf_hash(data)))
                self._sort(leaf, data, policy, chunk)
        if working.size < signed.size:
            proof = await self.client.consistency_proof(working.size, signed.size)
            try:
                verify_consistency(working.size, signed.size, working.root(), signed.root, proof)
            except ProofError as exc:
                raise LyingPeerError(
                    f"peer {self.peer.name!r}: its entries up to {working.size} are not a prefix of its signed tree "
                    f"of {signed.size}: {exc}"
                ) from exc
        elif working.root() != signed.root:
            raise LyingPeerError(f"peer {self.peer.name!r}: its entries do not hash to the root it signed")
        return working, chunk

    def _sort(self, leaf: int, data: bytes, policy: HomeWrites, chunk: _Chunk) -> None:
        """Take the entry at ``leaf`` if it is of a namespace taken from this peer; count it if it should not be
        there. Entries of other namespaces (the peer's own mirrors, other peers' routes) are passed over."""
        cid = CID.of(data, DAG_CBOR)
        try:
            entry = parse_entry(Envelope.decode(data).payload)
        except DmgError as exc:
            raise LyingPeerError(f"peer {self.peer.name!r}: leaf {leaf} ({cid}) is no valid log entry: {exc}") from exc
        if policy.takes(entry.namespace):
            chunk.taken.append((leaf, cid, data, entry.namespace))
        elif self.peer.routes(entry.namespace):
            chunk.refused += 1

    async def _take(self, chunk: _Chunk, policy: HomeWrites, report: SyncReport) -> None:
        if not chunk.taken:
            return
        blocks: dict[CID, bytes] = {cid: data for _, cid, data, _ in chunk.taken}
        known = await self.registry.has_entries(list(blocks))
        fresh = [(cid, data) for _, cid, data, _ in chunk.taken if cid not in known]
        records = [entry.record for entry in (_release(data) for _, data in fresh) if entry is not None]
        blocks.update(await self._fetch([cid for cid in records if cid not in blocks], scope="block"))
        bundles = [ModuleRecord.from_dict(Envelope.decode(blocks[cid]).payload).bundle for cid in records]
        present = await self.registry.has_blocks(bundles)
        blocks.update(await self._fetch([cid for cid in dict.fromkeys(bundles) if cid not in present], scope="all"))
        result = await self.registry.import_entries(
            [cid for _, cid, _, _ in chunk.taken], blocks, hashed=True, write_policy=policy
        )
        report.entries_taken += result.entries_added
        report.entries_known += result.entries_known
        report.blocks_added += result.blocks_added

    async def _fetch(self, cids: list[CID], *, scope: str) -> dict[CID, bytes]:
        found: dict[CID, bytes] = {}
        for start in range(0, len(cids), BLOCKS_PER_REQUEST):
            found.update(await self.client.blocks(cids[start : start + BLOCKS_PER_REQUEST], scope=scope))
        return found


def _release(data: bytes) -> Release | None:
    entry = parse_entry(Envelope.decode(data).payload)
    return entry if isinstance(entry, Release) else None

