"""Tests of dmg.core.tlog: against a plain recursive RFC 6962 reference, published vectors, and tampering.

The tree under test is the one the registry runs (:class:`~dmg.registry.TransparencyLog`): leaves appended through
:meth:`Frontier.append`, the subtrees it completes kept by node, proofs assembled by :class:`ProofPlan` from the
hashes the plans name. :class:`~tests.support.tlog.LogTree` does exactly that over a dict; the other tests that
need a tree built honestly in memory use it too.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmg.core.errors import DmgError, NotFoundError, StoreError, TooLargeError
from dmg.core.tlog import (
    EMPTY_ROOT,
    MAX_ENTRY_SIZE,
    Frontier,
    ProofError,
    ProofPlan,
    Tile,
    consistency_plan,
    entry_bundle,
    inclusion_plan,
    leaf_hash,
    node_hash,
    parse_entry_bundle,
    verify_consistency,
    verify_inclusion,
)
from tests.support.tlog import LogTree

# --- the reference: RFC 6962 section 2.1, written as plainly as the RFC -------------------------------------


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return ref_subproof(m, leaves, True)


# --- published vectors (certificate-transparency / transparency-dev merkle) ---------------------------------

CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, proof); the published vectors number leaves from 1, these from 0.
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

MAX_REFERENCE_SIZE = 70
REFERENCE_LEAVES = [f"leaf {i}".encode() * (i % 3) for i in range(MAX_REFERENCE_SIZE)]


@pytest.fixture(scope="module")
def reference_tree() -> LogTree:
    return LogTree(REFERENCE_LEAVES)


@pytest.fixture(scope="module")
def ct_tree() -> LogTree:
    return LogTree(CT_LEAVES)


# --- hashing ------------------------------------------------------------------------------------------------


def test_hashes_follow_rfc_6962() -> None:
    assert CT_ROOTS[0] == EMPTY_ROOT
    assert leaf_hash(b"") == CT_ROOTS[1]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")) == CT_ROOTS[2]
    # The prefixes keep a leaf from passing for an interior node over the same bytes.
    assert leaf_hash(b"a" * 64) != node_hash(b"a" * 32, b"a" * 32)


# --- the tree against the reference -------------------------------------------------------------------------


def test_roots_match_the_published_vectors(ct_tree: LogTree) -> None:
    for size, expected in enumerate(CT_ROOTS):
        assert ct_tree.root(size) == expected
    assert ct_tree.root() == CT_ROOTS[-1]


def test_roots_match_the_reference_at_every_size(reference_tree: LogTree) -> None:
    growing = LogTree()
    assert growing.root() == EMPTY_ROOT
    for size in range(1, MAX_REFERENCE_SIZE + 1):
        assert growing.append(REFERENCE_LEAVES[size - 1]) == size - 1
        expected = ref_mth(REFERENCE_LEAVES[:size])
        assert growing.root() == expected
        assert reference_tree.root(size) == expected


def test_every_inclusion_proof_matches_the_reference_and_verifies(reference_tree: LogTree) -> None:
    for size in range(1, MAX_REFERENCE_SIZE + 1):
        root = ref_mth(REFERENCE_LEAVES[:size])
        for index in range(size):
            proof = reference_tree.inclusion_proof(index, size)
            assert proof == ref_path(index, REFERENCE_LEAVES[:size]), (index, size)
            verify_inclusion(leaf_hash(REFERENCE_LEAVES[index]), index, size, proof, root)


def test_every_consistency_proof_matches_the_reference_and_verifies(reference_tree: LogTree) -> None:
    roots = [ref_mth(REFERENCE_LEAVES[:size]) for size in range(MAX_REFERENCE_SIZE + 1)]
    for new in range(MAX_REFERENCE_SIZE + 1):
        for old in range(new + 1):
            proof = reference_tree.consistency_proof(old, new)
            expected = [] if old in (0, new) else ref_proof(old, REFERENCE_LEAVES[:new])
            assert proof == expected, (old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)


def test_inclusion_proofs_match_the_published_vectors(ct_tree: LogTree) -> None:
    for index, size, proof_hex in CT_INCLUSION:
        proof = [bytes.fromhex(h) for h in proof_hex]
        assert ct_tree.inclusion_proof(index, size) == proof
        verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, proof, CT_ROOTS[size])


def test_consistency_proofs_match_the_published_vectors(ct_tree: LogTree) -> None:
    for old, new, proof_hex in CT_CONSISTENCY:
        proof = [bytes.fromhex(h) for h in proof_hex]
        assert ct_tree.consistency_proof(old, new) == proof
        verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


# --- tampering ----------------------------------------------------------------------------------------------


Probe = tuple[str, int, int, list[bytes], bytes, bytes]


def corrupted_inclusions(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes) -> Iterator[Probe]:
    """The probes of transparency-dev/merkle's verifier tests, each of which must fail."""
    yield "index - 1", index - 1, size, proof, root, leaf
    yield "index + 1", index + 1, size, proof, root, leaf
    yield "index ^ 2", index ^ 2, size, proof, root, leaf
    yield "size * 2", index, size * 2, proof, root, leaf
    yield "size / 2", index, size // 2, proof, root, leaf
    yield "wrong leaf", index, size, proof, root, leaf_hash(b"WrongLeaf")
    yield "empty root", index, size, proof, EMPTY_ROOT, leaf
    yield "random root", index, size, proof, SOME_HASH, leaf
    yield "trailing root", index, size, [*proof, root], root, leaf
    yield "preceding root", index, size, [root, *proof], root, leaf
    for position in range(len(proof)):
        flipped = [*proof]
        flipped[position] = bytes([proof[position][0] ^ 8]) + proof[position][1:]
        yield f"bit flip in {position}", index, size, flipped, root, leaf
    if proof:
        yield "removed last", index, size, proof[:-1], root, leaf
    if len(proof) > 1:
        yield "inserted", index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf


@pytest.mark.parametrize(("index", "size", "proof_hex"), CT_INCLUSION)
def test_corrupted_inclusion_proofs_are_rejected(index: int, size: int, proof_hex: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in proof_hex]
    accepted = []
    for name, *probe in corrupted_inclusions(index, size, proof, CT_ROOTS[size], leaf_hash(CT_LEAVES[index])):
        bad_index, bad_size, bad_proof, bad_root, bad_leaf = probe
        try:
            verify_inclusion(bad_leaf, bad_index, bad_size, bad_proof, bad_root)
        except ProofError:
            continue
        accepted.append(name)
    assert accepted == []


def corrupted_consistencies(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> Iterator[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    yield "old - 1", old - 1, new, old_root, new_root, proof
    yield "old + 1", old + 1, new, old_root, new_root, proof
    yield "old ^ 2", old ^ 2, new, old_root, new_root, proof
    yield "new * 2", old, new * 2, old_root, new_root, proof
    yield "new / 2", old, new // 2, old_root, new_root, proof
    yield "wrong old root", old, new, SOME_HASH, new_root, proof
    yield "wrong new root", old, new, old_root, SOME_HASH, proof
    yield "swapped roots", old, new, new_root, old_root, proof
    yield "empty proof", old, new, old_root, new_root, []
    yield "trailing old root", old, new, old_root, new_root, [*proof, old_root]
    yield "trailing new root", old, new, old_root, new_root, [*proof, new_root]
    yield "preceding old root", old, new, old_root, new_root, [old_root, *proof]
    yield "preceding new root", old, new, old_root, new_root, [new_root, *proof]
    yield "preceding proof[0]", old, new, old_root, new_root, [proof[0], *proof]
    yield "truncated", old, new, old_root, new_root, proof[:-1]
    for position in range(len(proof)):
        flipped = [*proof]
        flipped[position] = bytes([proof[position][0] ^ 16]) + proof[position][1:]
        yield f"bit flip in {position}", old, new, old_root, new_root, flipped


@pytest.mark.parametrize(("old", "new", "proof_hex"), [v for v in CT_CONSISTENCY if v[2]])
def test_corrupted_consistency_proofs_are_rejected(old: int, new: int, proof_hex: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in proof_hex]
    accepted = []
    for name, *probe in corrupted_consistencies(old, new, CT_ROOTS[old], CT_ROOTS[new], proof):
        try:
            verify_consistency(*probe)
        except ProofError:
            continue
        accepted.append(name)
    assert accepted == []


def test_every_single_hash_change_is_rejected(reference_tree: LogTree) -> None:
    size = 45
    root = reference_tree.root(size)
    for index in range(size):
        proof = reference_tree.inclusion_proof(index, size)
        for position in range(len(proof)):
            tampered = [*proof]
            tampered[position] = SOME_HASH
            with pytest.raises(ProofError, match="does not lead to the root"):
                verify_inclusion(leaf_hash(REFERENCE_LEAVES[index]), index, size, tampered, root)
    for old in range(1, size):
        proof = reference_tree.consistency_proof(old, size)
        for position in range(len(proof)):
            tampered = [*proof]
            tampered[position] = SOME_HASH
            with pytest.raises(ProofError, match="does not lead to the root"):
                verify_consistency(old, size, reference_tree.root(old), root, tampered)


def test_a_proof_for_one_size_does_not_verify_for_another(reference_tree: LogTree) -> None:
    for size in range(2, 24):
        for index in range(size):
            proof = reference_tree.inclusion_proof(index, size)
            for other in range(index + 1, 34):
                if other != size and reference_tree.inclusion_proof(index, other) != proof:
                    with pytest.raises(ProofError):
                        verify_inclusion(
                            leaf_hash(REFERENCE_LEAVES[index]), index, other, proof, reference_tree.root(other)
                        )


# --- argument checks ----------------------------------------------------------------------------------------


def test_verify_inclusion_rejects_impossible_arguments() -> None:
    leaf = leaf_hash(b"x")
    with pytest.raises(ProofError, match="leaf index 1 is not in a tree of size 1"):
        verify_inclusion(leaf, 1, 1, [], leaf)
    with pytest.raises(ProofError, match="leaf index 0 is not in a tree of size 0"):
        verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="leaf index must be a non-negative integer"):
        verify_inclusion(leaf, -1, 4, [], leaf)
    with pytest.raises(ProofError, match="tree size must be a non-negative integer, got True"):
        verify_inclusion(leaf, 0, True, [], leaf)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes, got 0 bytes"):
        verify_inclusion(b"", 0, 1, [], leaf)
    with pytest.raises(ProofError, match="root hash must be 32 bytes, got str"):
        verify_inclusion(leaf, 0, 1, [], "00" * 32)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="proof hash 1 must be 32 bytes, got 31 bytes"):
        verify_inclusion(leaf, 0, 4, [leaf, leaf[:31]], leaf)
    with pytest.raises(ProofError, match="too many hashes"):
        verify_inclusion(leaf, 0, 1, [leaf], leaf)
    with pytest.raises(ProofError, match="too few hashes"):
        verify_inclusion(leaf, 0, 2, [], leaf)
    verify_inclusion(leaf, 0, 1, [], leaf)


def test_verify_consistency_trivial_cases() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, SOME_HASH, [])
    verify_consistency(3, 3, SOME_HASH, SOME_HASH, [])
    with pytest.raises(ProofError, match="old tree size 2 is larger than new tree size 1"):
        verify_consistency(2, 1, SOME_HASH, SOME_HASH, [])
    with pytest.raises(ProofError, match="two different roots for the same tree size 3"):
        verify_consistency(3, 3, SOME_HASH, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="root of the empty tree"):
        verify_consistency(0, 5, SOME_HASH, SOME_HASH, [])
    with pytest.raises(ProofError, match="from size 0 to 5 must be empty"):
        verify_consistency(0, 5, EMPTY_ROOT, SOME_HASH, [EMPTY_ROOT])
    with pytest.raises(ProofError, match="from size 3 to 3 must be empty"):
        verify_consistency(3, 3, SOME_HASH, SOME_HASH, [SOME_HASH])
    with pytest.raises(ProofError, match="from size 1 to 2 is empty"):
        verify_consistency(1, 2, SOME_HASH, EMPTY_ROOT, [])
    proof = [bytes.fromhex(h) for h in CT_CONSISTENCY[2][2]]
    with pytest.raises(ProofError, match="from size 6 to 8 has too many hashes"):
        verify_consistency(6, 8, CT_ROOTS[6], CT_ROOTS[8], [*proof, SOME_HASH])
    with pytest.raises(ProofError, match="from size 6 to 8 has too few hashes"):
        verify_consistency(6, 8, CT_ROOTS[6], CT_ROOTS[8], proof[:-1])
    with pytest.raises(ProofError, match="new root hash must be 32 bytes"):
        verify_consistency(1, 2, SOME_HASH, b"short", [SOME_HASH])
    with pytest.raises(ProofError, match="old tree size must be a non-negative integer"):
        verify_consistency(-1, 2, SOME_HASH, SOME_HASH, [SOME_HASH])


def test_proof_plans_reject_impossible_arguments(reference_tree: LogTree) -> None:
    with pytest.raises(ProofError, match="leaf index 5 is not in a tree of size 5"):
        inclusion_plan(5, 5)
    with pytest.raises(ProofError, match="old tree size 6 is larger than new tree size 5"):
        consistency_plan(6, 5)
    with pytest.raises(ProofError, match="leaf index must be a non-negative integer"):
        inclusion_plan(-1, 5)
    with pytest.raises(ProofError, match="new tree size must be a non-negative integer"):
        consistency_plan(0, -1)
    with pytest.raises(ProofError, match="tree size must be a non-negative integer"):
        Frontier(-1)
    # A plan for a size the tree has not reached names subtrees nobody stored: the registry checks sizes first.
    for plan in (inclusion_plan(0, 71), consistency_plan(1, 80), ProofPlan((tuple(Frontier.node_ids(71)),))):
        assert not set(plan.nodes) <= reference_tree.hashes.keys()
    assert issubclass(ProofError, DmgError)
    assert ProofError("x").code == "BAD_REQUEST"


# --- appending and storing -----------------------------------------------------------------------------------


def test_appending_in_batches_equals_appending_one_by_one() -> None:
    one_by_one = LogTree()
    indices = [one_by_one.append(leaf) for leaf in REFERENCE_LEAVES[:33]]
    batched = LogTree()
    assert batched.append_many(REFERENCE_LEAVES[:20]) == range(20)
    assert batched.append_many(iter(REFERENCE_LEAVES[20:33])) == range(20, 33)
    assert batched.append_many([]) == range(33, 33)
    assert indices == list(range(33))
    assert batched.root() == one_by_one.root() == ref_mth(REFERENCE_LEAVES[:33])
    assert batched.hashes == one_by_one.hashes


def test_a_frontier_loaded_from_the_stored_nodes_grows_the_same_tree() -> None:
    first = LogTree(REFERENCE_LEAVES[:27])
    reopened = LogTree()
    reopened.hashes = dict(first.hashes)
    reopened.frontier = Frontier(27, reopened.stored(Frontier.node_ids(27)))
    assert reopened.size == 27
    assert reopened.root() == first.root()
    reopened.append_many(REFERENCE_LEAVES[27:])
    assert reopened.root() == ref_mth(REFERENCE_LEAVES)
    assert reopened.inclusion_proof(3, 70) == ref_path(3, REFERENCE_LEAVES)
    assert reopened.hashes == LogTree(REFERENCE_LEAVES).hashes


def test_the_stored_nodes_are_every_complete_subtree() -> None:
    leaves = (REFERENCE_LEAVES * 2)[:77]
    tree = LogTree(leaves)
    complete = {(level, index) for level in range(len(leaves).bit_length()) for index in range(len(leaves) >> level)}
    assert tree.hashes.keys() == complete
    for level, index in complete:
        assert tree.hashes[(level, index)] == ref_mth(leaves[index << level : (index + 1) << level])


def test_frontier_rejects_an_inconsistent_load() -> None:
    with pytest.raises(StoreError, match="a tree of size 5 has 2 frontier hashes, not 1"):
        Frontier(5, [SOME_HASH])
    with pytest.raises(StoreError, match="frontier hashes must be 32 bytes"):
        Frontier(1, [b"short"])
    assert Frontier.node_ids(13) == [(3, 0), (2, 2), (0, 12)]
    frontier = Frontier()
    assert frontier.append(leaf_hash(b"")) == [((0, 0), CT_ROOTS[1])]
    completed = frontier.append(leaf_hash(b"\x00"))
    assert completed == [((0, 1), leaf_hash(b"\x00")), ((1, 0), CT_ROOTS[2])]
    assert frontier.hashes == (CT_ROOTS[2],)
    assert frontier.size == 2


def test_plans_are_logarithmic_and_assembly_checks_its_input() -> None:
    size = 1_000_003
    bound = 2 * math.ceil(math.log2(size))
    for index in (0, 1, 499_999, 524_288, size - 2, size - 1):
        assert len(inclusion_plan(index, size).nodes) <= bound
    for old in (1, 2, 3, 524_288, 524_289, 999_999, size - 1):
        assert len(consistency_plan(old, size).nodes) <= bound
    assert consistency_plan(0, size) == ProofPlan(())
    with pytest.raises(StoreError, match="needs 2 stored hashes, got 1"):
        ProofPlan((((0, 0),), ((0, 1),))).assemble([SOME_HASH])


def test_appends_read_nothing_and_proofs_read_logarithmically() -> None:
    tree = LogTree(bytes([i % 256, i // 256]) for i in range(5000))
    for i in range(100):
        tree.append(bytes([i]))
    assert tree.reads == 0
    bound = 2 * math.ceil(math.log2(tree.size))
    for index, size, old in ((0, 5100, 1), (4097, 5099, 4096), (5099, 5100, 3333), (17, 4095, 2049)):
        tree.reads = 0
        tree.inclusion_proof(index, size)
        tree.consistency_proof(old, size)
        tree.root(size)
        assert tree.reads <= 3 * bound


# --- properties ---------------------------------------------------------------------------------------------

# Distinct leaves: with repeated leaves, whole subtrees repeat and a proof may rightly fit another index.
leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=40, unique=True)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_inclusion_property(leaves: list[bytes], data: st.DataObject) -> None:
    tree = LogTree(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    assert proof == ref_path(index, leaves[:size])
    root = ref_mth(leaves[:size])
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        tampered = [*proof]
        tampered[position] = proof[position][:byte] + bytes([proof[position][byte] ^ 1]) + proof[position][byte + 1 :]
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(leaves[index]), index, size, tampered, root)
    other = data.draw(st.integers(0, size))
    if other != index:
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(leaves[index]), other, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_consistency_property(leaves: list[bytes], data: st.DataObject) -> None:
    tree = LogTree(leaves)
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    old_root, new_root = ref_mth(leaves[:old]), ref_mth(leaves[:new])
    verify_consistency(old, new, old_root, new_root, proof)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof]
        tampered[position] = leaf_hash(tampered[position])
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, tampered)
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, leaf_hash(new_root), proof)


@settings(max_examples=40, deadline=None)
@given(leaves=leaf_lists, replacement=st.binary(max_size=12), data=st.data())
def test_a_rewritten_history_is_inconsistent(leaves: list[bytes], replacement: bytes, data: st.DataObject) -> None:
    new = data.draw(st.integers(2, max(2, len(leaves))))
    leaves = (leaves * 2)[:new]
    old = data.draw(st.integers(1, new - 1))
    changed = data.draw(st.integers(0, old - 1))
    if replacement == leaves[changed]:
        return
    forged = [*leaves]
    forged[changed] = replacement
    proof = LogTree(forged).consistency_proof(old, new)
    with pytest.raises(ProofError):
        verify_consistency(old, new, ref_mth(leaves[:old]), ref_mth(forged), proof)


# --- tiles --------------------------------------------------------------------------------------------------


def test_tile_paths_follow_the_spec() -> None:
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(0, 1234067, 8, entries=True).path == "tile/entries/x001/x234/067.p/8"
    assert Tile(1, 0, 17).path == "tile/1/000.p/17"
    assert Tile(63, 999).path == "tile/63/999"
    assert Tile(2, 1000).path == "tile/2/x001/000"
    assert Tile(0, 10**12).path == "tile/0/x001/x000/x000/x000/000"
    assert Tile.from_path("tile/0/x001/x234/067") == Tile(0, 1234067)
    assert Tile.from_path("tile/entries/x001/x234/067.p/8") == Tile(0, 1234067, 8, entries=True)
    assert Tile.from_path("tile/1/000.p/17") == Tile(1, 0, 17)
    assert Tile.from_path("tile/entries/000") == Tile(0, 0, entries=True)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tile/00/000", "not a tile path"),
        ("tile/01/000", "not a tile path"),
        ("tile/64/000", "level 64 is above"),
        ("tile/-1/000", "not a tile path"),
        ("tile/0/1", "not a tile path"),
        ("tile/0/0001", "not a tile path"),
        ("tile/0/001/234", "not a tile path"),
        ("tile/0/x001", "not a tile path"),
        ("tile/0/x000/001", "leading x000"),
        ("tile/0/000.p/0", "not a tile path"),
        ("tile/0/000.p/08", "not a tile path"),
        ("tile/0/000.p/256", "full tile written as partial"),
        ("tile/0/000.p/257", "width 257 is not between"),
        ("tile/0/000.p/1000", "not a tile path"),
        ("tile/0/000/", "not a tile path"),
        ("/tile/0/000", "not a tile path"),
        ("tile/0/00a", "not a tile path"),
        ("tile/0/٠٠٠", "not a tile path"),
        ("tile/data/000", "not a tile path"),
        ("tile/8/0/000", "not a tile path"),
        ("tile/entries/000.p/", "not a tile path"),
    ],
)
def test_malformed_tile_paths_name_no_tile(path: str, reason: str) -> None:
    with pytest.raises(NotFoundError, match=reason):
        Tile.from_path(path)


def test_tile_coordinates_are_validated() -> None:
    with pytest.raises(NotFoundError, match="level 64 is above the highest level, 63"):
        Tile(64, 0)
    with pytest.raises(NotFoundError, match="width 0 is not between 1 and 256"):
        Tile(0, 0, 0)
    with pytest.raises(NotFoundError, match="index must be a non-negative integer"):
        Tile(0, -1)
    with pytest.raises(NotFoundError, match="entry bundles belong to level 0"):
        Tile(1, 0, entries=True)


@given(
    level=st.integers(0, 63),
    index=st.integers(0, 10**15),
    width=st.integers(1, 256),
    entries=st.booleans(),
)
def test_tile_paths_round_trip(level: int, index: int, width: int, entries: bool) -> None:
    tile = Tile(0 if entries else level, index, width, entries)
    assert Tile.from_path(tile.path) == tile


def test_tiles_hold_the_stored_hashes() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(3 * 256 + 5)]
    tree = LogTree(leaves)
    level0 = [leaf_hash(leaf) for leaf in leaves]
    for index in range(3):
        assert tree.tile(Tile(0, index)) == b"".join(level0[index * 256 : (index + 1) * 256])
    assert tree.tile(Tile(0, 3, 5)) == b"".join(level0[768:773])
    assert tree.tile(Tile(0, 3, 2)) == b"".join(level0[768:770])
    assert tree.tile(Tile(1, 0, 3)) == b"".join(ref_mth(leaves[i * 256 : (i + 1) * 256]) for i in range(3))
    for beyond in (Tile(0, 3, 6), Tile(0, 3), Tile(1, 0, 4), Tile(2, 0, 1)):
        assert not beyond.fits(773)
        assert not set(beyond.node_ids()) <= tree.hashes.keys()
    assert Tile(1, 0, 3).node_ids() == [(8, 0), (8, 1), (8, 2)]
    assert Tile(0, 3, 2, entries=True).node_ids() == [(0, 768), (0, 769)]


def test_tiles_of_the_spec_example_tree_of_70000() -> None:
    # tlog-tiles: 273 full level-0 tiles, a partial one of width 112, one full level-1 tile, a partial level-1
    # tile of width 17 and a partial level-2 tile of width 1.
    tree = LogTree(i.to_bytes(4, "big") for i in range(70_000))
    assert Tile(0, 272).fits(70_000)
    assert not Tile(0, 273).fits(70_000)
    assert len(tree.tile(Tile(0, 273, 112))) == 112 * 32
    assert len(tree.tile(Tile(1, 0))) == 256 * 32
    assert len(tree.tile(Tile(1, 1, 17))) == 17 * 32
    assert tree.tile(Tile(2, 0, 1)) == tree.root(65536)
    for level, index, width in ((0, 273, 113), (1, 1, 18), (2, 0, 2), (3, 0, 1)):
        assert not Tile(level, index, width).fits(70_000)


def test_entry_bundles_round_trip_and_hash_to_their_tile() -> None:
    leaves = [bytes([i]) * i for i in range(256)]
    tree = LogTree(leaves)
    bundle = entry_bundle(leaves)
    assert bundle[:5] == b"\x00\x00\x00\x01\x01"
    assert parse_entry_bundle(bundle) == leaves
    assert b"".join(leaf_hash(e) for e in parse_entry_bundle(bundle)) == tree.tile(Tile(0, 0))
    big = b"z" * MAX_ENTRY_SIZE
    assert parse_entry_bundle(entry_bundle([big, b""])) == [big, b""]


def test_malformed_entry_bundles_are_rejected() -> None:
    with pytest.raises(NotFoundError, match="at least one entry"):
        entry_bundle([])
    with pytest.raises(TooLargeError, match="at most 256 entries, not 257"):
        entry_bundle([b""] * 257)
    with pytest.raises(TooLargeError, match="entry 1 is 65536 bytes"):
        entry_bundle([b"", b"x" * 65536])
    with pytest.raises(ProofError, match="bundle is empty"):
        parse_entry_bundle(b"")
    with pytest.raises(ProofError, match="ends inside the length of entry 1 at byte 3"):
        parse_entry_bundle(b"\x00\x01a\x00")
    with pytest.raises(ProofError, match="entry 0 claims 2 bytes but the bundle ends at byte 3"):
        parse_entry_bundle(b"\x00\x02a")
    with pytest.raises(ProofError, match="more than 256 entries"):
        parse_entry_bundle(b"\x00\x00" * 257)
