"""Benchmark of dmg.core.tlog: appends, and inclusion and consistency proofs, as the tree grows.

The tree is grown and proven as the registry's ``TransparencyLog`` does it, with a dict where the registry has
its store: each commit appends its leaves to a copy of the :class:`~dmg.core.tlog.Frontier` and stores the nodes
they complete; a proof is its plan (:func:`~dmg.core.tlog.inclusion_plan`, :func:`~dmg.core.tlog.consistency_plan`)
assembled from the stored hashes it names; an old root is the frontier loaded from the stored nodes.

For trees of 10^3 to 10^5 leaves (10^6 with ``--full``) it measures, in one run:

- the baseline: plain SHA-256 of the same leaves, per leaf, and over all leaves of the tree;
- appending leaves (in commits of 1000, and one leaf per commit), per leaf;
- generating and verifying inclusion proofs for random leaves, and consistency proofs from random old sizes.

It prints a table, then how each cost grows from the smallest to the largest tree, as the exponent ``b`` of
``cost ~ n**b`` (0 for constant, about 0.06 per decade for log n, 1 for linear), and as the last line one JSON
object with every median and ratio. Run ``python bench/tlog.py`` (under a minute) or ``--full``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence

from dmg.core.tlog import (
    Frontier,
    NodeId,
    consistency_plan,
    inclusion_plan,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

BATCH = 1000


class Tree:
    """A frontier and the stored nodes of the tree it heads."""

    def __init__(self) -> None:
        self.frontier = Frontier()
        self.hashes: dict[NodeId, bytes] = {}

    def commit(self, leaves: Sequence[bytes]) -> None:
        frontier = self.frontier.copy()
        self.hashes.update(node for data in leaves for node in frontier.append(leaf_hash(data)))
        self.frontier = frontier

    def root(self, size: int) -> bytes:
        return Frontier(size, [self.hashes[node] for node in Frontier.node_ids(size)]).root()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        plan = inclusion_plan(index, size)
        return plan.assemble([self.hashes[node] for node in plan.nodes])

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        plan = consistency_plan(old_size, new_size)
        return plan.assemble([self.hashes[node] for node in plan.nodes])


def leaves_for(size: int) -> list[bytes]:
    """Distinct 32-byte leaves, about the size of a CID, cheap to make."""
    return [index.to_bytes(8, "big") * 4 for index in range(size)]


def timed_ns(action: Callable[[], object]) -> int:
    start = time.perf_counter_ns()
    action()
    return time.perf_counter_ns() - start


def median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def measure(size: int, samples: int, rng: random.Random) -> dict[str, float]:
    leaves = leaves_for(size)
    batches = [leaves[start : start + BATCH] for start in range(0, size, BATCH)]

    sha_batches = [timed_ns(lambda batch=batch: [hashlib.sha256(leaf).digest() for leaf in batch]) for batch in batches]
    sha_per_leaf_us = median_us([elapsed // len(batch) for elapsed, batch in zip(sha_batches, batches, strict=True)])
    sha_all_leaves_us = sum(sha_batches) / 1000

    tree = Tree()
    append_batches = [timed_ns(lambda batch=batch: tree.commit(batch)) for batch in batches]
    append_many_per_leaf_us = median_us(
        [elapsed // len(batch) for elapsed, batch in zip(append_batches, batches, strict=True)]
    )
    single = Tree()
    single.commit(leaves[: size - min(size, BATCH)])
    append_one_us = median_us(
        [timed_ns(lambda leaf=leaf: single.commit([leaf])) for leaf in leaves[single.frontier.size :]]
    )

    root = tree.frontier.root()
    inclusion_gen, inclusion_verify, inclusion_reads, inclusion_length = [], [], [], []
    for index in (rng.randrange(size) for _ in range(samples)):
        proof: list[bytes] = []
        inclusion_gen.append(timed_ns(lambda index=index, proof=proof: proof.extend(tree.inclusion_proof(index, size))))
        hashed = leaf_hash(leaves[index])
        inclusion_verify.append(
            timed_ns(lambda index=index, proof=proof, hashed=hashed: verify_inclusion(hashed, index, size, proof, root))
        )
        inclusion_reads.append(len(inclusion_plan(index, size).nodes))
        inclusion_length.append(len(proof))

    consistency_gen, consistency_verify, consistency_reads, consistency_length = [], [], [], []
    for old in (rng.randrange(1, size) for _ in range(samples)):
        proof = []
        old_root = tree.root(old)
        consistency_gen.append(timed_ns(lambda old=old, proof=proof: proof.extend(tree.consistency_proof(old, size))))
        consistency_verify.append(
            timed_ns(
                lambda old=old, proof=proof, old_root=old_root: verify_consistency(old, size, old_root, root, proof)
            )
        )
        consistency_reads.append(len(consistency_plan(old, size).nodes))
        consistency_length.append(len(proof))

    return {
        "sha256_per_leaf_us": sha_per_leaf_us,
        "sha256_all_leaves_us": sha_all_leaves_us,
        "append_many_per_leaf_us": append_many_per_leaf_us,
        "append_one_us": append_one_us,
        "inclusion_proof_us": median_us(inclusion_gen),
        "inclusion_verify_us": median_us(inclusion_verify),
        "inclusion_hashes_read": statistics.median(inclusion_reads),
        "inclusion_proof_length": statistics.median(inclusion_length),
        "consistency_proof_us": median_us(consistency_gen),
        "consistency_verify_us": median_us(consistency_verify),
        "consistency_hashes_read": statistics.median(consistency_reads),
        "consistency_proof_length": statistics.median(consistency_length),
        "append_many_vs_sha256": append_many_per_leaf_us / sha_per_leaf_us,
        "append_one_vs_sha256": append_one_us / sha_per_leaf_us,
        "inclusion_proof_vs_sha256_all_leaves": median_us(inclusion_gen) / sha_all_leaves_us,
        "consistency_proof_vs_sha256_all_leaves": median_us(consistency_gen) / sha_all_leaves_us,
    }


GROWTH_METRICS = (
    "sha256_all_leaves_us",
    "append_many_per_leaf_us",
    "append_one_us",
    "inclusion_proof_us",
    "inclusion_verify_us",
    "inclusion_hashes_read",
    "consistency_proof_us",
    "consistency_verify_us",
    "consistency_hashes_read",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="go up to 10^6 leaves (a few more seconds)")
    parser.add_argument("--samples", type=int, default=300, help="random proofs per tree size")
    parser.add_argument("--seed", type=int, default=6962)
    args = parser.parse_args()
    sizes = [10**exponent for exponent in range(3, 7 if args.full else 6)]
    rng = random.Random(args.seed)

    results = {size: measure(size, args.samples, rng) for size in sizes}

    columns = (
        ("sha/leaf", "sha256_per_leaf_us"),
        ("sha all", "sha256_all_leaves_us"),
        ("append/leaf", "append_many_per_leaf_us"),
        ("append 1", "append_one_us"),
        ("incl gen", "inclusion_proof_us"),
        ("incl ver", "inclusion_verify_us"),
        ("cons gen", "consistency_proof_us"),
        ("cons ver", "consistency_verify_us"),
        ("incl reads", "inclusion_hashes_read"),
        ("cons reads", "consistency_hashes_read"),
    )
    print("median microseconds (reads = stored hashes a proof fetches)")
    print(f"{'leaves':>9} " + " ".join(f"{title:>11}" for title, _ in columns))
    for size, figures in results.items():
        print(f"{size:>9} " + " ".join(f"{figures[key]:>11.2f}" for _, key in columns))

    smallest, largest = sizes[0], sizes[-1]
    decades = math.log(largest / smallest)
    growth = {
        metric: math.log(results[largest][metric] / results[smallest][metric]) / decades for metric in GROWTH_METRICS
    }
    log_growth = math.log(math.log2(largest) / math.log2(smallest)) / decades
    print(f"\ngrowth exponent b in cost ~ n**b from {smallest} to {largest} leaves")
    print(f"  (log n would give {log_growth:.3f}, linear 1.000; the sha256-of-all-leaves baseline is linear)")
    for metric, exponent in growth.items():
        print(f"  {metric:<26} {exponent:6.3f}")
    print(
        f"\nat {largest} leaves: append costs {results[largest]['append_many_vs_sha256']:.1f}x a plain sha256 per "
        f"leaf; an inclusion proof costs {results[largest]['inclusion_proof_vs_sha256_all_leaves']:.2e} of "
        "hashing every leaf once"
    )
    print(
        json.dumps(
            {
                "bench": "tlog",
                "baseline": "sha2-256 of the same leaves (per leaf, and over all leaves of the tree)",
                "sizes": sizes,
                "samples": args.samples,
                "results": {str(size): figures for size, figures in results.items()},
                "growth_exponent": growth,
                "log_n_growth_exponent": log_growth,
            }
        )
    )


if __name__ == "__main__":
    main()
