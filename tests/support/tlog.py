"""The reference tree for transparency-log tests: :class:`LogTree` grows and proves a tree exactly as the registry
does (:class:`~dmg.registry.TransparencyLog`), with a dict where the registry has its store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dmg.core.tlog import Frontier, NodeId, Tile, consistency_plan, inclusion_plan, leaf_hash


class LogTree:
    """A transparency log's tree as the registry grows and proves it, with a dict where the registry has its store.

    Appends go through a copy of the :class:`Frontier` and store the nodes it completes in one update, as a commit
    does; a root at an earlier size is the frontier loaded from the stored nodes, as the registry loads it on open;
    proofs are their plans assembled from the stored hashes. ``reads`` counts the hashes read.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.frontier = Frontier()
        self.hashes: dict[NodeId, bytes] = {}
        self.reads = 0
        self.append_many(leaves)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, data: bytes) -> int:
        return self.append_many([data]).start

    def append_many(self, leaves: Iterable[bytes]) -> range:
        frontier = self.frontier.copy()
        completed = [node for data in leaves for node in frontier.append(leaf_hash(data))]
        assert not self.hashes.keys() & {node for node, _ in completed}, "a complete subtree is written once"
        self.hashes.update(completed)
        start, self.frontier = self.frontier.size, frontier
        return range(start, frontier.size)

    def stored(self, nodes: Sequence[NodeId]) -> list[bytes]:
        self.reads += len(nodes)
        return [self.hashes[node] for node in nodes]

    def root(self, size: int | None = None) -> bytes:
        if size is None:
            return self.frontier.root()
        return Frontier(size, self.stored(Frontier.node_ids(size))).root()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        plan = inclusion_plan(index, size)
        return plan.assemble(self.stored(plan.nodes))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        plan = consistency_plan(old_size, new_size)
        return plan.assemble(self.stored(plan.nodes))

    def tile(self, tile: Tile) -> bytes:
        """A hash tile's body, as the registry serves it once :meth:`Tile.fits` says the tree has grown to it."""
        assert tile.fits(self.size)
        return b"".join(self.stored(tile.node_ids()))
