"""The registry's transparency log: an RFC 6962 Merkle tree over every accepted entry, kept in the store, and the
checkpoints the operator key signs over it.

Every accepted entry's envelope block is appended, in the same commit as the entry, as a leaf (leaf ``i`` is the
entry accepted ``i + 1``-th). Inclusion and consistency proofs and C2SP tiles are read from the stored hashes, all
in O(log n) reads. The tree algorithms themselves are :mod:`dmg.core.tlog`'s.
"""

from __future__ import annotations

import asyncio
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dmg.core.checkpoint import NoteSigner, SignedCheckpoint
from dmg.core.clock import Clock
from dmg.core.errors import ConfigError, KeyFileError, NotFoundError
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.tlog import (
    TILE_WIDTH,
    Frontier,
    ProofError,
    Tile,
    consistency_plan,
    entry_bundle,
    inclusion_plan,
    leaf_hash,
)
from dmg.registry.operator import default_origin
from dmg.store.base import Commit, Store

CHECKPOINT_REFRESH_MS: Final = 60 * 1000
"""A checkpoint older than this is signed again even when the tree has not grown, so clients can tell a live
registry from a frozen one."""


class TransparencyLog:
    """The registry's RFC 6962 Merkle tree over its accepted entries, kept in the store, and its signed checkpoints.

    The frontier (the O(log n) hashes an append needs) lives in memory: loaded on open, and again before an append
    or a checkpoint when another process has appended to the same store. Appends and checkpoints take one lock,
    so a checkpoint is only ever signed over a committed tree; proofs read only hashes of that committed tree, which
    never change.
    """

    def __init__(self, store: Store, signer: NoteSigner, operator: PublicKey, clock: Clock) -> None:
        self.store = store
        self.operator = operator
        self._signer = signer
        self._clock = clock
        self._frontier = Frontier()
        self._signed: SignedCheckpoint | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, store: Store, operator: SigningKey, origin: str | None, clock: Clock
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
