"""Benchmark: the PubGrub resolver against resolvelib on the same synthetic registries, in the same run.

Two registries are built in memory from a seed:

- satisfiable: ``--modules`` modules (default 2,000) of ``--versions`` versions each (default 20, as
  ``major.minor.0``), every version depending on 3–15 later modules with mixed range styles (caret, tilde,
  x-ranges, hyphen ranges, comparator pairs, unions, ``*``). Versions evolve: consecutive versions mostly share
  their dependencies. Every module has a "good" version whose dependencies all admit the good versions of their
  targets, so a solution exists; about one module in eight also has newer "trap" versions that want an old major
  of a dependency (a quarter of them) or a major that does not exist, so both resolvers must back off them.
  Dependencies only point forward, so the root sets, three modules drawn from between 80 % and 85 % of the
  registry, pull in a few hundred modules each (the whole tail of the registry is reachable, not all of it needed).
- unsatisfiable: the pigeonhole principle as modules (``--holes`` holes, default 6, and one pigeon more), a
  classic hard case for resolution-based solvers: every assignment fails, for a different pair of pigeons.

Both resolvers read the same :class:`~dmg.core.resolver.InMemoryProvider`; resolvelib's provider filters the
candidates with the same ranges, skips yanked versions the same way and prefers packages with fewer versions, as
the PubGrub resolver does. Each answer is checked by an independent verifier (every range holds, nothing is
missing, nothing unreachable is selected). Times are medians over ``--repeat`` runs of each root set.

Prints the figures, then, as the last line, one JSON object with ``speedup_vs_resolvelib`` (median resolvelib
time / median PubGrub time over the satisfiable root sets) and ``unsat_explanation_seconds``.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible
from resolvelib import Resolver as ResolvelibResolver

from dmg.core.resolver import Dependency, InMemoryProvider, Metadata, NoSolutionError, Resolver
from dmg.core.semver import Version

NAMESPACE = "bench.test/function"
TRAP_OLD = 0.25
"""The share of trap versions that want an old major of a dependency; the others want a major that does not exist."""


def module_name(index: int) -> str:
    return f"{NAMESPACE}/m{index:05d}"


def version_of(index: int) -> Version:
    return Version(1 + index // 5, index % 5, 0)


def range_admitting(rng: random.Random, good: Version) -> str:
    """A range in one of several styles that admits ``good``."""
    major, minor = good.major, good.minor
    styles = [
        f"^{major}.{rng.randint(0, minor)}",
        f"~{major}.{minor}.0",
        f"{major}.x",
        f">={major}.{rng.randint(0, minor)}.0",
        f">={max(major - 1, 0)}.0.0 <{major + 1}.0.0",
        f"{max(major - 1, 1)}.2.0 - {major}.4.0",
        f"^{max(major - 1, 1)}.0 || ^{major}.0",
        "*",
    ]
    return rng.choice(styles)


def build_satisfiable(modules: int, versions: int, seed: int) -> InMemoryProvider:
    """The satisfiable registry."""
    rng = random.Random(seed)
    provider = InMemoryProvider()
    all_versions = [version_of(index) for index in range(versions)]
    traps = {index for index in range(modules) if rng.random() < 0.125}
    good = [all_versions[-3 if index in traps and versions >= 3 else -1] for index in range(modules)]
    window = 60
    for index in reversed(range(modules)):
        later = list(range(index + 1, min(modules, index + 1 + window)))
        count = min(len(later), rng.randint(3, 15))
        dependencies = {module_name(target): range_admitting(rng, good[target]) for target in rng.sample(later, count)}
        for position, version in enumerate(all_versions):
            if position and rng.random() < 0.3 and dependencies:
                # Versions evolve: change one range, as a new release would.
                changed = rng.choice(sorted(dependencies))
                target = int(changed.rsplit("m", 1)[1])
                dependencies = {**dependencies, changed: range_admitting(rng, good[target])}
            wanted = dict(dependencies)
            if version > good[index]:
                victim = rng.choice(sorted(wanted)) if wanted else module_name(modules + 1)
                target_good = good[int(victim.rsplit("m", 1)[1])] if wanted else Version(1, 0, 0)
                wanted[victim] = f"<{target_good.major}" if rng.random() < TRAP_OLD else f"^{target_good.major + 7}"
            metadata = Metadata(tuple(Dependency(name, spec) for name, spec in sorted(wanted.items())))
            provider.add(module_name(index), version, metadata)
    return provider


def add_pigeonholes(provider: InMemoryProvider, holes: int) -> list[Dependency]:
    """The pigeonhole principle as modules: ``holes + 1`` pigeons, each with one version per hole; pigeon ``i``
    in hole ``h`` pins ``hole-h`` to version ``1.i.0``, so two pigeons never share a hole, and there are too few.
    No solution exists, and any proof of it by resolution (PubGrub's learning) needs many conflicts."""
    for hole in range(holes):
        for pigeon in range(holes + 1):
            provider.add(f"{NAMESPACE}/hole-{hole}", Version(1, pigeon, 0))
    for pigeon in range(holes + 1):
        for hole in range(holes):
            metadata = Metadata((Dependency(f"{NAMESPACE}/hole-{hole}", f"1.{pigeon}.0"),))
            provider.add(f"{NAMESPACE}/pigeon-{pigeon}", Version(1, hole, 0), metadata)
    return [Dependency(f"{NAMESPACE}/pigeon-{pigeon}", "*") for pigeon in range(holes + 1)]


# --- an independent check of an answer ---------------------------------------------------------------------------


def verify(provider: InMemoryProvider, roots: Sequence[Dependency], chosen: Mapping[str, Version]) -> None:
    """Every root and every dependency of a chosen version holds; nothing is missing; nothing is unreachable;
    no yanked version is chosen unless a root pins it."""
    pinned = {(root.name, root.range.exact_version) for root in roots}
    reached = set()
    stack = []
    for root in roots:
        assert root.name in chosen and root.range.contains(chosen[root.name]), f"root {root} is not satisfied"
        stack.append(root.name)
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        version = chosen[name]
        listed = {candidate.version: candidate for candidate in provider.candidates(name)}
        assert version in listed, f"{name} {version} does not exist"
        assert not listed[version].yanked or (name, version) in pinned, f"{name} {version} is yanked"
        for dependency in provider.metadata(name, version).dependencies:
            assert dependency.name in chosen, f"{name} {version} needs {dependency}, which is missing"
            assert dependency.range.contains(chosen[dependency.name]), f"{name} {version} needs {dependency}"
            stack.append(dependency.name)
    assert reached == set(chosen), f"unreachable modules selected: {sorted(set(chosen) - reached)[:5]}"


# --- resolvelib over the same data -------------------------------------------------------------------------------


class Pick(NamedTuple):
    name: str
    version: Version


class ResolvelibProvider(AbstractProvider):  # type: ignore[type-arg]
    """resolvelib's view of an :class:`InMemoryProvider`, with the PubGrub resolver's candidate rules."""

    def __init__(self, provider: InMemoryProvider, roots: Sequence[Dependency]) -> None:
        self.provider = provider
        self.pins = {(root.name, root.range.exact_version) for root in roots}
        self.sizes: dict[str, int] = {}

    def identify(self, requirement_or_candidate: Dependency | Pick) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Pick],
        candidates: Mapping[str, Iterator[Pick]],
        information: Mapping[str, Iterator[object]],
        backtrack_causes: Sequence[object],
    ) -> tuple[bool, int, str]:
        # As pip does: work on what caused the last backtrack first, then on packages with fewer versions.
        size = self.sizes.get(identifier)
        if size is None:
            size = self.sizes[identifier] = len(self.provider.candidates(identifier))
        causes = {cause.requirement.name for cause in backtrack_causes}  # type: ignore[attr-defined]
        return identifier not in causes, size, identifier

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Dependency]],
        incompatibilities: Mapping[str, Iterator[Pick]],
    ) -> list[Pick]:
        wanted = [requirement.range for requirement in requirements[identifier]]
        excluded = {pick.version for pick in incompatibilities[identifier]}
        return [
            Pick(identifier, candidate.version)
            for candidate in reversed(self.provider.candidates(identifier))
            if (not candidate.yanked or (identifier, candidate.version) in self.pins)
            and candidate.version not in excluded
            and all(versions.contains(candidate.version) for versions in wanted)
        ]

    def is_satisfied_by(self, requirement: Dependency, candidate: Pick) -> bool:
        return requirement.range.contains(candidate.version)

    def get_dependencies(self, candidate: Pick) -> Iterable[Dependency]:
        return self.provider.metadata(candidate.name, candidate.version).dependencies


def solve_with_resolvelib(provider: InMemoryProvider, roots: Sequence[Dependency]) -> dict[str, Version] | None:
    resolver = ResolvelibResolver(ResolvelibProvider(provider, roots), BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=1_000_000)
    except ResolutionImpossible:
        return None
    return {name: pick.version for name, pick in result.mapping.items()}


def solve_with_pubgrub(provider: InMemoryProvider, roots: Sequence[Dependency]) -> dict[str, Version] | str:
    try:
        return Resolver(provider).resolve(roots).versions
    except NoSolutionError as error:
        return error.explanation


def timed(function, *args):  # type: ignore[no-untyped-def]
    # Collect first, so neither resolver pays for the other's garbage.
    gc.collect()
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--root-sets", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--holes", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="300 modules, 2 root sets, 2 repeats, 5 holes")
    args = parser.parse_args(argv)
    if args.quick:
        args.modules, args.root_sets, args.repeat, args.holes = 300, 2, 2, 5

    started = time.perf_counter()
    provider = build_satisfiable(args.modules, args.versions, args.seed)
    rng = random.Random(args.seed + 1)
    unsat_roots = add_pigeonholes(provider, args.holes)
    built = time.perf_counter() - started
    root_sets = [
        [
            Dependency(module_name(index), "*")
            for index in rng.sample(range(args.modules * 16 // 20, args.modules * 17 // 20), 3)
        ]
        for _ in range(args.root_sets)
    ]
    print(f"registry: {args.modules} modules x {args.versions} versions, built in {built:.2f} s")

    pubgrub_times: list[float] = []
    resolvelib_times: list[float] = []
    for number, roots in enumerate(root_sets):
        ours, theirs = [], []
        for _ in range(args.repeat):
            elapsed, answer = timed(solve_with_pubgrub, provider, roots)
            assert isinstance(answer, dict), f"root set {number} should be satisfiable:\n{answer}"
            verify(provider, roots, answer)
            ours.append(elapsed)
            elapsed, other = timed(solve_with_resolvelib, provider, roots)
            assert other is not None, f"resolvelib found no solution for root set {number}"
            verify(provider, roots, other)
            theirs.append(elapsed)
        pubgrub_times.append(statistics.median(ours))
        resolvelib_times.append(statistics.median(theirs))
        print(
            f"root set {number}: {len(answer)} modules; pubgrub {pubgrub_times[-1] * 1000:.0f} ms, "
            f"resolvelib {resolvelib_times[-1] * 1000:.0f} ms ({resolvelib_times[-1] / pubgrub_times[-1]:.2f}x)"
        )

    unsat_ours, unsat_theirs = [], []
    for _ in range(args.repeat):
        elapsed, explanation = timed(solve_with_pubgrub, provider, unsat_roots)
        assert isinstance(explanation, str), "the pigeonholes must have no solution"
        unsat_ours.append(elapsed)
        elapsed, other = timed(solve_with_resolvelib, provider, unsat_roots)
        assert other is None, "resolvelib found a solution to the pigeonholes"
        unsat_theirs.append(elapsed)
    lines = explanation.count("\n") + 1
    print(f"unsatisfiable ({args.holes + 1} pigeons, {args.holes} holes): pubgrub explained in "
          f"{statistics.median(unsat_ours) * 1000:.0f} ms ({lines} lines); "
          f"resolvelib gave up in {statistics.median(unsat_theirs) * 1000:.0f} ms")  # fmt: skip
    print("explanation (first lines):")
    print("\n".join("  " + line for line in explanation.splitlines()[:6]))

    pubgrub_median = statistics.median(pubgrub_times)
    resolvelib_median = statistics.median(resolvelib_times)
    summary = {
        "bench": "resolve",
        "modules": args.modules,
        "versions": args.versions,
        "root_sets": args.root_sets,
        "repeat": args.repeat,
        "pubgrub_median_seconds": round(pubgrub_median, 4),
        "resolvelib_median_seconds": round(resolvelib_median, 4),
        "speedup_vs_resolvelib": round(resolvelib_median / pubgrub_median, 2),
        "unsat_explanation_seconds": round(statistics.median(unsat_ours), 4),
        "unsat_resolvelib_seconds": round(statistics.median(unsat_theirs), 4),
        "unsat_explanation_lines": lines,
        "unsat_speedup_vs_resolvelib": round(statistics.median(unsat_theirs) / statistics.median(unsat_ours), 2),
        "holes": args.holes,
        "python": sys.version.split()[0],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
