"""``fsck``: re-hash every block, re-verify every entry in acceptance order from empty states, recompute the
transparency log from the entries, and compare all of it with what the store holds.

The store's derived state (permissions, the version index, the tree) is a cache of the entries; fsck is how an
operator learns whether that cache, or a block, has gone bad. It reports problems and changes nothing.
"""

from __future__ import annotations

from typing import Final

from dmg.api.results import FsckReport, StoredEntry
from dmg.core import codec
from dmg.core.cid import DAG_CBOR
from dmg.core.errors import DmgError, NotFoundError, StoreError
from dmg.core.tlog import Frontier, NodeId, leaf_hash
from dmg.registry.batch import Batch
from dmg.registry.tlog import TransparencyLog
from dmg.store.base import Store

FSCK_TREE_BATCH: Final = 2048
"""Recomputed tree hashes compared with the stored ones per store read during fsck."""
MAX_FSCK_TREE_PROBLEMS: Final = 10


class TreeCheck:
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


async def fsck(store: Store, log: TransparencyLog) -> FsckReport:
    """Check everything ``store`` holds against itself and against ``log``; see the module docstring."""
    report = FsckReport()
    async for cid, data in store.iter_blocks():
        report.blocks += 1
        try:
            cid.verify(data)
            if cid.codec == DAG_CBOR:
                codec.decode(data)
        except DmgError as exc:
            report.problems.append(f"block {cid}: {exc}")
    replay = Batch(store, None)
    tree = TreeCheck(store)
    async for stored in store.iter_entries():
        report.entries += 1
        try:
            block = await store.get_block(stored.cid)
            if block is None:
                raise NotFoundError(f"no block {stored.cid}")
            await tree.add(stored, block)
            await replay.apply_entry(stored.cid, block)
        except DmgError as exc:
            report.problems.append(f"entry {stored.cid} (#{stored.position}, {stored.log}): {exc}")
    report.problems += await tree.finish(log)
    stored_namespaces = await store.load_namespaces(replay.namespaces)
    for name, state in replay.namespaces.items():
        if stored_namespaces[name] != state:
            report.problems.append(f"namespace {name}: stored state differs from the replayed log")
    stored_logs = await store.load_dxn_logs(log.dxn for log in replay.dxn_logs.values())
    for name, dxn_log in replay.dxn_logs.items():
        if stored_logs[name] != dxn_log:
            report.problems.append(f"{name}: stored versions differ from the replayed log")
    return report
