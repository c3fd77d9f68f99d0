"""The Merkle tree of DMG's transparency log: RFC 6962 / RFC 9162 hashing, proofs, and C2SP tlog-tiles.

A registry appends every accepted log entry as a leaf of one append-only Merkle tree. This module holds the pure
parts of that tree:

- hashing (:func:`leaf_hash`, :func:`node_hash`, :data:`EMPTY_ROOT`), exactly as RFC 6962 section 2.1;
- :class:`Frontier`, the hashes of the O(log n) complete subtrees that make up the whole tree, which is all an
  append needs: appends read nothing and return the subtrees they complete, as ``((level, index), hash)`` (the
  subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``), for the caller to store;
- :func:`inclusion_plan` and :func:`consistency_plan`, which say which stored hashes a proof needs (O(log n) of
  them, leaves are never rehashed) and assemble the proof from them (:class:`ProofPlan`);
- :func:`verify_inclusion` and :func:`verify_consistency`, the client-side checks of RFC 9162 sections 2.1.3.2
  and 2.1.4.2, raising :class:`ProofError` with the reason;
- C2SP tlog-tiles (https://c2sp.org/tlog-tiles): :class:`Tile` paths and the nodes a tile holds, and entry
  bundles.

It does no I/O: where the hashes live (the store's ``tlog_hashes``), how a tree is grown under a lock and which
sizes may be proven is the registry's :class:`~dmg.registry.TransparencyLog`, the one user of the tree. It knows
nothing about records, checkpoints or signatures (see :mod:`dmg.core.checkpoint`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dmg.core.errors import DmgError, NotFoundError, StoreError, TooLargeError

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT
MAX_TILE_LEVEL: Final = 63
# Entry bundles prefix each entry with a uint16 length, so no leaf of a tiled log can be longer.
MAX_ENTRY_SIZE: Final = 0xFFFF

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree: the hash of leaves ``[index * 2**level, (index + 1) * 2**level)``."""


class ProofError(DmgError):
    """A proof was asked for or checked with impossible arguments, or it does not verify."""


# --- hashing ------------------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash complete subtrees, largest (leftmost) first, into the root of the range they cover."""
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _subtree_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees covering ``[start, end)``, largest first.

    Every subtree of the RFC 6962 recursion starts at a multiple of a power of two at least as large as itself,
    so this greedy split is exactly the subtree's right border and folding it gives the subtree's hash.
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _split(width: int) -> int:
    """The largest power of two strictly smaller than ``width`` (``width >= 2``), RFC 6962's ``k``."""
    return 1 << ((width - 1).bit_length() - 1)


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{name} must be a non-negative integer, got {value!r}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        shown = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {shown}")


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"proof hash {position}", value)


# --- appending ----------------------------------------------------------------------------------------------


class Frontier:
    """The complete subtrees that make up the tree ``[0, size)``: one hash per set bit of ``size``, largest first.

    This is all an append needs, so appends cost O(1) amortised hashing and no reads.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_count("tree size", size)
        if len(hashes) != size.bit_count():
            raise StoreError(f"a tree of size {size} has {size.bit_count()} frontier hashes, not {len(hashes)}")
        for value in hashes:
            if not isinstance(value, bytes) or len(value) != HASH_SIZE:
                raise StoreError(f"frontier hashes must be {HASH_SIZE} bytes")
        self._size = size
        self._hashes = list(hashes)

    @staticmethod
    def node_ids(size: int) -> list[NodeId]:
        """The stored subtrees to load to rebuild the frontier of a tree of ``size``."""
        return _subtree_nodes(0, size)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def copy(self) -> Frontier:
        # Skips the constructor: these hashes were checked when they entered, and appends copy on every call.
        clone = object.__new__(Frontier)
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def root(self) -> bytes:
        """The root hash of the tree ``[0, size)``."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add a leaf hash; return the subtrees it completes, the leaf itself first, as ``(node, hash)``."""
        index = self._size
        value = leaf
        completed = [((0, index), value)]
        level = 0
        # Each trailing one bit of the old size is a complete left sibling that now gets its right half.
        while (index >> level) & 1:
            value = node_hash(self._hashes.pop(), value)
            level += 1
            completed.append(((level, index >> level), value))
        self._hashes.append(value)
        self._size = index + 1
        return completed


# --- proofs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofPlan:
    """The stored hashes a proof needs and how to assemble it: one group of subtrees per proof hash."""

    groups: tuple[tuple[NodeId, ...], ...]

    @property
    def nodes(self) -> list[NodeId]:
        """Every stored subtree to fetch, in the order :meth:`assemble` expects their hashes."""
        return [node for group in self.groups for node in group]

    def assemble(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Build the proof from the hashes of :attr:`nodes`, in that order."""
        if len(hashes) != sum(len(group) for group in self.groups):
            raise StoreError(f"the proof needs {len(self.nodes)} stored hashes, got {len(hashes)}")
        proof = []
        position = 0
        for group in self.groups:
            proof.append(_fold(hashes[position : position + len(group)]))
            position += len(group)
        return proof


def _plan(ranges: list[tuple[int, int]]) -> ProofPlan:
    return ProofPlan(tuple(tuple(_subtree_nodes(start, end)) for start, end in ranges))


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Plan the inclusion proof of leaf ``index`` in the tree of ``size`` (RFC 9162 section 2.1.3.1)."""
    _check_count("leaf index", index)
    _check_count("tree size", size)
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    siblings = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
    siblings.reverse()
    return _plan(siblings)


def consistency_plan(old_size: int, new_size: int) -> ProofPlan:
    """Plan the proof that the tree of ``old_size`` is a prefix of the tree of ``new_size`` (RFC 9162 2.1.4.1).

    The proof is empty when ``old_size`` is 0 or equals ``new_size``.
    """
    _check_count("old tree size", old_size)
    _check_count("new tree size", new_size)
    if old_size > new_size:
        raise ProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    if old_size in (0, new_size):
        return ProofPlan(())
    ranges = []
    start, end = 0, new_size
    old_is_whole_subtree = True
    while old_size != end:
        middle = start + _split(end - start)
        if old_size <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
            old_is_whole_subtree = False
    # The verifier knows the old root already when the old tree is itself a subtree on the new tree's left edge.
    if not old_is_whole_subtree:
        ranges.append((start, end))
    ranges.reverse()
    return _plan(ranges)


# --- verification -------------------------------------------------------------------------------------------


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 section 2.1.3.2. Returns None; raises :class:`ProofError` saying what does not hold.
    """
    _check_hash("leaf hash", leaf)
    _check_hash("root hash", root)
    _check_proof(proof)
    _check_count("leaf index", index)
    _check_count("tree size", size)
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    node, last, value = index, size - 1, leaf
    for sibling in proof:
        if last == 0:
            raise ProofError(f"inclusion proof for leaf {index} in tree size {size} has too many hashes")
        if node & 1 or node == last:
            value = node_hash(sibling, value)
            # A rightmost node with no right sibling moves up levels without hashing.
            while node and not node & 1:
                node >>= 1
                last >>= 1
        else:
            value = node_hash(value, sibling)
        node >>= 1
        last >>= 1
    if last != 0:
        raise ProofError(f"inclusion proof for leaf {index} in tree size {size} has too few hashes")
    if value != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the one of ``new_size`` and ``new_root``.

    RFC 9162 section 2.1.4.2, plus the trivial cases: equal sizes need equal roots and an empty proof, and the
    empty tree (whose root must be :data:`EMPTY_ROOT`) is a prefix of every tree. Returns None; raises
    :class:`ProofError` saying what does not hold.
    """
    _check_hash("old root hash", old_root)
    _check_hash("new root hash", new_root)
    _check_proof(proof)
    _check_count("old tree size", old_size)
    _check_count("new tree size", new_size)
    if old_size > new_size:
        raise ProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError(f"consistency proof from size {old_size} to {new_size} must be empty")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError(f"consistency proof from size {old_size} to {new_size} is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    node, last = old_size - 1, new_size - 1
    while node & 1:
        node >>= 1
        last >>= 1
    old_value = new_value = path[0]
    for sibling in path[1:]:
        if last == 0:
            raise ProofError(f"consistency proof from size {old_size} to {new_size} has too many hashes")
        if node & 1 or node == last:
            old_value = node_hash(sibling, old_value)
            new_value = node_hash(sibling, new_value)
            while node and not node & 1:
                node >>= 1
                last >>= 1
        else:
            new_value = node_hash(new_value, sibling)
        node >>= 1
        last >>= 1
    if last != 0:
        raise ProofError(f"consistency proof from size {old_size} to {new_size} has too few hashes")
    if old_value != old_root:
        raise ProofError(f"consistency proof does not lead to the root of old tree size {old_size}")
    if new_value != new_root:
        raise ProofError(f"consistency proof does not lead to the root of new tree size {new_size}")


# --- tiles (C2SP tlog-tiles) --------------------------------------------------------------------------------

_TILE_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?", re.ASCII)


@dataclass(frozen=True)
class Tile:
    """One tlog-tiles resource: a hash tile ``tile/<L>/<N>[.p/<W>]`` or an entry bundle ``tile/entries/<N>...``.

    A hash tile at level ``L`` holds ``width`` consecutive hashes of tree level ``8 * L``, starting at hash
    ``256 * index``; an entry bundle holds the entries of the level-0 tile with the same index and width. A tile
    narrower than 256 is partial. Invalid coordinates name no resource, hence :class:`NotFoundError`.
    """

    level: int
    index: int
    width: int = TILE_WIDTH
    entries: bool = False

    def __post_init__(self) -> None:
        for name in ("level", "index", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise NotFoundError(f"tile {name} must be a non-negative integer, got {value!r}")
        if self.level > MAX_TILE_LEVEL:
            raise NotFoundError(f"tile level {self.level} is above the highest level, {MAX_TILE_LEVEL}")
        if self.entries and self.level != 0:
            raise NotFoundError("entry bundles belong to level 0")
        if not 1 <= self.width <= TILE_WIDTH:
            raise NotFoundError(f"tile width {self.width} is not between 1 and {TILE_WIDTH}")

    @property
    def path(self) -> str:
        """The resource path, e.g. ``tile/0/x001/x234/067.p/8``."""
        digits = str(self.index)
        digits = digits.zfill(-(-len(digits) // 3) * 3)
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        number = "/".join([f"x{group}" for group in groups[:-1]] + groups[-1:])
        partial = f".p/{self.width}" if self.width < TILE_WIDTH else ""
        return f"tile/{'entries' if self.entries else self.level}/{number}{partial}"

    @classmethod
    def from_path(cls, path: str) -> Tile:
        """Parse a tile or entry bundle path in its one canonical spelling."""
        match = _TILE_PATH.fullmatch(path)
        if match is None:
            raise NotFoundError(f"{path!r} is not a tile path: expected tile/<L>/<N>[.p/<W>]")
        level_text, number, width_text = match.groups()
        if number.startswith("x000/"):
            raise NotFoundError(f"{path!r} pads the tile index with a leading x000 element")
        width = int(width_text) if width_text else TILE_WIDTH
        if width_text and width == TILE_WIDTH:
            raise NotFoundError(f"{path!r} is a full tile written as partial; drop .p/{TILE_WIDTH}")
        index = int(number.replace("x", "").replace("/", ""))
        if level_text == "entries":
            return cls(0, index, width, entries=True)
        return cls(int(level_text), index, width)

    def first_node(self) -> NodeId:
        """The tree node of the tile's first hash."""
        return TILE_HEIGHT * self.level, self.index * TILE_WIDTH

    def fits(self, size: int) -> bool:
        """Whether a tree of ``size`` leaves has every hash (or entry) of this tile."""
        level, first = self.first_node()
        return (first + self.width) << level <= size

    def node_ids(self) -> list[NodeId]:
        """The tree nodes whose hashes make up this hash tile, in order (for an entry bundle: its leaves)."""
        level, first = self.first_node()
        return [(level, first + offset) for offset in range(self.width)]


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode a tlog-tiles entry bundle: each entry prefixed by its length as a big-endian uint16."""
    if not entries:
        raise NotFoundError("an entry bundle holds at least one entry; empty tiles are not served")
    if len(entries) > TILE_WIDTH:
        raise TooLargeError(f"an entry bundle holds at most {TILE_WIDTH} entries, not {len(entries)}")
    parts = []
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TooLargeError(f"entry {position} is {len(entry)} bytes; bundles hold entries of at most 65535")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """Decode an entry bundle fetched from a log; :class:`ProofError` if it is truncated or holds too many."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ProofError(f"entry bundle ends inside the length of entry {len(entries)} at byte {offset}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise ProofError(f"entry {len(entries)} claims {length} bytes but the bundle ends at byte {len(data)}")
        entries.append(bytes(data[offset : offset + length]))
        offset += length
        if len(entries) > TILE_WIDTH:
            raise ProofError(f"entry bundle holds more than {TILE_WIDTH} entries")
    if not entries:
        raise ProofError("entry bundle is empty")
    return entries
