"""Dependency resolution: a PubGrub solver over modules, with failures explained in plain sentences.

What this module does
---------------------
:class:`Resolver` picks one version of every module that a set of root requirements needs, with PubGrub, the
conflict-driven algorithm behind Dart's pub, uv and pubgrub-rs
(https://github.com/dart-lang/pub/blob/master/doc/solver.md). When no set of versions works it raises
:class:`NoSolutionError`, whose message explains why in sentences derived from the incompatibilities the solver
learned, following pub's error-reporting algorithm::

    Because app 1.0.0 depends on b ^2 and c 1.0.0 depends on b ^1, app 1.0.0 cannot be installed with c 1.0.0.
    So, because the request depends on both app and c, version solving failed.

The solver reads its data only through a :class:`Provider` (the candidate versions of a package; the dependencies,
required APIs and provided APIs of one version), the way resolvelib separates the two, so the same solver runs over
the store, the HTTP client or in-memory test data. Packages are names: the text of a DXN without selector.

Synchronous by choice: the search asks for one package at a time, in an order that depends on every previous
answer, so an async solver would await a round trip per step. Instead :func:`prefetch` walks a registry (anything
with ``versions(dxn)`` and ``record(cid)``: the :class:`~dmg.registry.Registry`, the local or the HTTP client)
breadth first, many requests in flight, and returns an :class:`InMemoryProvider` the solver then reads without
waiting. :class:`InMemoryProvider` is also how tests and benchmarks describe a universe of packages. Each
resolution keeps its own state, so an async caller may run one in a worker thread (``asyncio.to_thread``).

Semantics
---------
- Ranges are the npm ranges of :mod:`dmg.core.semver`; a term is a set of versions of that algebra, so
  intersections, unions and complements are exact, prereleases included.
- The highest version the constraints allow is preferred. Packages with fewer versions are decided first (their
  conflicts surface early); API packages are decided after every module.
- Prereleases are candidates only when a range admits them (npm's rule: ``^2.0.0-beta`` admits ``2.0.0-beta.3``,
  ``^2`` admits no prerelease).
- A yanked version is a candidate only when a root requirement pins exactly that version (as ``dmg resolve
  name@1.2.3`` may return a yanked version). As in cargo and uv, no module's range reaches a yanked version, not
  even an exact one: installs that already use it keep working through their lockfile, and a person who really
  wants it pins it among the roots.
- ``apis.requires``: each API is a virtual package ``api:<dxn>`` whose one selected version is the version of that
  API the graph binds to. A module version requiring ``A R`` depends on ``api:A R``. The candidate versions of
  ``api:A`` are those the target host offers (``host_apis``, passed by the orchestrator) and those that modules
  the solver has read provide. A version the host offers needs nothing more; a version only modules provide holds
  only if one of them is in the graph (the incompatibility "A 1.0.0 is provided only by N1 or N2"). Versions
  available without adding a module (the host's, or a selected module's) are preferred; failing those, the solver
  adds a module it has read that provides the API. Knowledge of providers grows as records are read, so a failure
  that relied on it is retried with what is known by then (a rare restart, reported to the :class:`Reporter`).

What it does not do: fetch anything while solving, verify signatures or records (the client did that), or select
two versions of one module.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Protocol

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, NotFoundError, RangeError, RecordError, ResolutionError
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version

ROOT: Final = "(root)"
"""The package standing for the request itself: its one version depends on the root requirements."""

API_PREFIX: Final = "api:"
"""Names of virtual API packages start with this; a DXN never does."""

ANY_VERSION: Final = Range.any().union(Range.any().complement())
"""Every version, prereleases included (``Range.any()`` is npm's ``*``, which admits no prerelease)."""

_ROOT_VERSION: Final = Version(0, 0, 0)
_ZERO: Final = Version(0, 0, 0)
_LOWEST: Final = Version(0, 0, 0, (0,))
_parse_range = lru_cache(maxsize=8192)(Range.parse)


# --- what a provider answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dependency:
    """A wanted package and the versions wanted: ``spec`` as written (explanations quote it), ``range`` parsed."""

    name: str
    spec: str
    range: Range = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise RecordError(f"a dependency needs a package name, not {self.name!r}")
        if self.name == ROOT or self.name.startswith(API_PREFIX):
            raise RecordError(f"{self.name!r} is reserved for the resolver's own packages")
        if not isinstance(self.spec, str):
            raise RecordError(f"the range of {self.name} must be a string, not {type(self.spec).__name__}")
        object.__setattr__(self, "range", _parse_range(self.spec))

    @classmethod
    def from_dxn(cls, dxn: DXN) -> Dependency:
        """A root requirement from ``name[@selector]``: none or ``latest`` means ``*``, a version pins exactly."""
        selector = dxn.version_selector()
        if selector is None or selector == "latest":
            return cls(str(dxn.base), "*")
        if isinstance(selector, str):
            raise NotFoundError(f"unknown tag {selector!r} in {dxn}: only 'latest' is defined")
        assert dxn.selector is not None
        return cls(str(dxn.base), dxn.selector)

    def __str__(self) -> str:
        return f"{self.name}@{self.spec}"


def parse_host_api(text: str) -> tuple[str, Version]:
    """``(API name, version)`` from ``API@VERSION``: one API the target host offers, at an exact version."""
    dxn = DXN.parse(text)
    version = dxn.version_selector()
    if not isinstance(version, Version):
        raise RangeError(f"host API {text!r} must name the exact version the host offers, like {dxn.base}@1.0.0")
    return str(dxn.base), version


def _is_api_version(item: object) -> bool:
    """Whether ``item`` is an ``(API name, Version)`` pair, as metadata ``provides`` and host APIs hold."""
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and bool(item[0])
        and isinstance(item[1], Version)
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """One released version of a package, whether it is yanked, and (from a registry) its record's CID."""

    version: Version
    yanked: bool = False
    record: CID | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.version, Version):
            raise RecordError(f"a candidate's version must be a Version, not {type(self.version).__name__}")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What one version needs and offers: module dependencies, required APIs, provided APIs, and its bundle."""

    dependencies: tuple[Dependency, ...] = ()
    requires: tuple[Dependency, ...] = ()
    provides: tuple[tuple[str, Version], ...] = ()
    bundle: CID | None = None

    def __post_init__(self) -> None:
        for where in ("dependencies", "requires"):
            items = getattr(self, where)
            if not isinstance(items, tuple) or not all(isinstance(item, Dependency) for item in items):
                raise RecordError(f"metadata {where} must be a tuple of Dependency")
        for item in self.provides:
            if not _is_api_version(item):
                raise RecordError(f"metadata provides must hold (api name, Version) pairs, not {item!r}")

    @classmethod
    def from_record(cls, record: ModuleRecord) -> Metadata:
        return cls(
            dependencies=tuple(Dependency(str(item.dxn), item.spec) for item in record.dependencies),
            requires=tuple(Dependency(str(item.dxn), item.spec) for item in record.requires),
            provides=tuple((str(api), version) for api, version in record.provides),
            bundle=record.bundle,
        )


class Provider(Protocol):
    """Where the solver reads packages from. Both methods are called many times and should be cheap; the
    solver reads the metadata of every version of a package it decides (to state what neighbouring versions
    have in common), so a provider over a network should be filled ahead, as :func:`prefetch` does."""

    def candidates(self, name: str) -> Sequence[Candidate]:
        """Every released version of ``name``, yanked ones included, in any order; empty if there is none."""
        ...

    def metadata(self, name: str, version: Version) -> Metadata:
        """The metadata of a version :meth:`candidates` listed."""
        ...


class InMemoryProvider:
    """A :class:`Provider` over packages held in memory: test data, benchmarks, and what :func:`prefetch` read."""

    def __init__(self) -> None:
        self._packages: dict[str, dict[Version, tuple[Candidate, Metadata]]] = {}
        self._sorted: dict[str, tuple[Candidate, ...]] = {}

    def add(
        self,
        name: str,
        version: Version | str,
        metadata: Metadata | None = None,
        *,
        yanked: bool = False,
        record: CID | None = None,
    ) -> None:
        """Add one version; adding a version twice is a :class:`ConflictError`, as releasing it twice is."""
        if not isinstance(name, str) or not name:
            raise RecordError(f"a package needs a name, not {name!r}")
        parsed = Version.parse(version) if isinstance(version, str) else version
        versions = self._packages.setdefault(name, {})
        if parsed in versions:
            raise ConflictError(f"{name} {parsed} is added twice")
        versions[parsed] = (Candidate(parsed, yanked, record), metadata if metadata is not None else Metadata())
        self._sorted.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._packages)

    def candidates(self, name: str) -> Sequence[Candidate]:
        found = self._sorted.get(name)
        if found is None:
            versions = self._packages.get(name, {})
            found = tuple(versions[version][0] for version in sorted(versions))
            self._sorted[name] = found
        return found

    def metadata(self, name: str, version: Version) -> Metadata:
        entry = self._packages.get(name, {}).get(version)
        if entry is None:
            raise NotFoundError(f"{name} {version} is not a known version")
        return entry[1]


# --- reading a registry ahead of solving ------------------------------------------------------------------------


class ReleaseListing(Protocol):
    """One line of a registry's version list (:class:`~dmg.store.base.VersionInfo` is one)."""

    @property
    def version(self) -> str: ...

    @property
    def record(self) -> CID: ...

    @property
    def yanked(self) -> bool: ...


class RecordSource(Protocol):
    """What :func:`prefetch` reads: a registry, or a local or HTTP client of one."""

    async def versions(self, dxn: DXN) -> Sequence[ReleaseListing]: ...

    async def record(self, cid: CID) -> tuple[object, ModuleRecord]: ...


async def prefetch(
    source: RecordSource, names: Iterable[DXN | str], *, transitive: bool = True, concurrency: int = 16
) -> InMemoryProvider:
    """Read every version and record of ``names`` (and, when ``transitive``, of everything any of them depends
    on, breadth first) into an :class:`InMemoryProvider`, with up to ``concurrency`` requests in flight.

    A record that does not match the listing it came from (another DXN or version) is a :class:`RecordError`.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    provider = InMemoryProvider()
    limit = asyncio.Semaphore(concurrency)

    async def limited_versions(dxn: DXN) -> Sequence[ReleaseListing]:
        async with limit:
            return await source.versions(dxn)

    async def release(dxn: DXN, listing: ReleaseListing) -> ModuleRecord:
        async with limit:
            _, record = await source.record(listing.record)
        if record.dxn != dxn or record.version != Version.parse(listing.version):
            raise RecordError(f"the record listed as {dxn}@{listing.version} is for {record.dxn}@{record.version}")
        return record

    seen: set[str] = set()
    frontier = []
    for name in names:
        dxn = (DXN.parse(name) if isinstance(name, str) else name).base
        if str(dxn) not in seen:
            seen.add(str(dxn))
            frontier.append(dxn)
    while frontier:
        listings = await asyncio.gather(*(limited_versions(dxn) for dxn in frontier))
        pairs = [(dxn, listing) for dxn, found in zip(frontier, listings, strict=True) for listing in found]
        records = await asyncio.gather(*(release(dxn, listing) for dxn, listing in pairs))
        frontier = []
        for (_, listing), record in zip(pairs, records, strict=True):
            provider.add(str(record.dxn), record.version, Metadata.from_record(record), yanked=listing.yanked,
                         record=listing.record)  # fmt: skip
            for dependency in record.dependencies if transitive else ():
                if str(dependency.dxn) not in seen:
                    seen.add(str(dependency.dxn))
                    frontier.append(dependency.dxn)
    return provider


# --- terms and incompatibilities ------------------------------------------------------------------------------


class _Algebra:
    """Memoised range operations, one memo per resolution: the solver asks the same few questions about the
    same ranges many times.

    Entries are keyed by the identity of the operands (hashing a :class:`Range` costs more than most answers)
    and hold the operands, so an identity is never reused while its entry lives; results are interned so that
    equal ranges derived twice become one object and keep hitting the memo.
    """

    LIMIT: Final = 500_000

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int, int], tuple[Range, Range, object]] = {}
        self._interned: dict[Range, Range] = {}

    def _found(self, op: int, a: Range, b: Range) -> object:
        entry = self._memo.get((op, id(a), id(b)))
        if entry is not None and entry[0] is a and entry[1] is b:
            return entry[2]
        return None

    def _keep(self, op: int, a: Range, b: Range, value: object) -> object:
        if len(self._memo) > self.LIMIT:
            self._memo.clear()
            self._interned.clear()
        if isinstance(value, Range):
            value = self._interned.setdefault(value, value)
        self._memo[(op, id(a), id(b))] = (a, b, value)
        return value

    def intersect(self, a: Range, b: Range) -> Range:
        found = self._found(0, a, b)
        return found if found is not None else self._keep(0, a, b, a.intersect(b))  # type: ignore[return-value]

    def union(self, a: Range, b: Range) -> Range:
        found = self._found(1, a, b)
        return found if found is not None else self._keep(1, a, b, a.union(b))  # type: ignore[return-value]

    def difference(self, a: Range, b: Range) -> Range:
        found = self._found(2, a, b)
        return found if found is not None else self._keep(2, a, b, a.difference(b))  # type: ignore[return-value]

    def subset(self, a: Range, b: Range) -> bool:
        """Every version of ``a`` is in ``b``."""
        found = self._found(3, a, b)
        return found if found is not None else self._keep(3, a, b, b.allows_all(a))  # type: ignore[return-value]

    def disjoint(self, a: Range, b: Range) -> bool:
        found = self._found(4, a, b)
        return found if found is not None else self._keep(4, a, b, not a.allows_any(b))  # type: ignore[return-value]

    def meet(self, r1: Range, p1: bool, r2: Range, p2: bool) -> tuple[Range, bool]:
        """The intersection of two terms about the same package, as (range, positive)."""
        if p1 and p2:
            return self.intersect(r1, r2), True
        if p1:
            return self.difference(r1, r2), True
        if p2:
            return self.difference(r2, r1), True
        return self.union(r1, r2), False

    def within(self, r1: Range, p1: bool, r2: Range, p2: bool) -> bool:
        """Whether term 1 implies term 2 (its set of outcomes lies within term 2's; "not selected" is an outcome)."""
        if p1:
            return self.subset(r1, r2) if p2 else self.disjoint(r1, r2)
        return False if p2 else self.subset(r2, r1)


class Term:
    """A statement about one package: positive ``name range`` (selected, at a version in the range) or negative
    ``not name range`` (not selected, or selected at a version outside the range)."""

    __slots__ = ("name", "positive", "range")

    def __init__(self, name: str, versions: Range, positive: bool = True) -> None:
        self.name = name
        self.range = versions
        self.positive = positive

    def __repr__(self) -> str:
        return f"Term({'' if self.positive else 'not '}{self.name} {self.range})"


@dataclass(frozen=True, slots=True, eq=False)
class RootCause:
    """The request must be satisfied: the incompatibility ``{not root}``."""


@dataclass(frozen=True, slots=True, eq=False)
class DependencyCause:
    """Versions of ``depender`` depend on ``dependency`` (a module, or an API when ``api``)."""

    depender: str
    dependency: Dependency
    api: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class NoVersionsCause:
    """No selectable version lies in the term's range; ``yanked`` lists the yanked versions that do."""

    yanked: tuple[Version, ...] = ()
    exists: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class ProvidedByCause:
    """API ``api`` at ``version`` is provided, among modules the solver read, only by the negated terms' modules."""

    api: str
    version: Version


@dataclass(frozen=True, slots=True, eq=False)
class ConflictCause:
    """Derived during conflict resolution from two earlier incompatibilities."""

    first: Incompatibility
    second: Incompatibility


Cause = RootCause | DependencyCause | NoVersionsCause | ProvidedByCause | ConflictCause


class Incompatibility:
    """A set of terms that cannot all hold; at most one term per package (terms on one package are merged)."""

    __slots__ = ("cause", "terms")

    def __init__(self, terms: Iterable[Term], cause: Cause, algebra: _Algebra | None = None) -> None:
        merged: dict[str, Term] = {}
        for term in terms:
            earlier = merged.get(term.name)
            if earlier is None:
                merged[term.name] = term
            else:
                algebra = algebra or _Algebra()
                versions, positive = algebra.meet(earlier.range, earlier.positive, term.range, term.positive)
                merged[term.name] = Term(term.name, versions, positive)
        # The request always holds, so in a derived incompatibility a positive root term adds nothing but words.
        if len(merged) > 1 and isinstance(cause, ConflictCause):
            root = merged.get(ROOT)
            if root is not None and root.positive:
                del merged[ROOT]
        self.terms: tuple[Term, ...] = tuple(merged.values())
        self.cause = cause

    @property
    def is_derived(self) -> bool:
        return isinstance(self.cause, ConflictCause)

    @property
    def is_vacuous(self) -> bool:
        """True when a term can never hold (a positive term on no version), so the incompatibility says nothing."""
        return any(term.positive and term.range.is_empty for term in self.terms)

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(term) for term in self.terms) + "}"


# --- results and reporting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectedModule:
    """A module in the solution: its version, record CID (when the provider knows it) and metadata."""

    name: str
    version: Version
    record: CID | None
    metadata: Metadata
    yanked: bool = False


@dataclass(frozen=True)
class ApiBinding:
    """The version of an API the graph binds to, and who offers it: a selected module, or the host (None)."""

    name: str
    version: Version
    provider: str | None


@dataclass(frozen=True)
class Solution:
    """What :meth:`Resolver.resolve` found: modules and API bindings, keyed and ordered by name."""

    roots: tuple[Dependency, ...]
    modules: Mapping[str, SelectedModule]
    apis: Mapping[str, ApiBinding]
    host_apis: tuple[tuple[str, Version], ...] = ()

    @property
    def versions(self) -> dict[str, Version]:
        return {name: module.version for name, module in self.modules.items()}


class NoSolutionError(ResolutionError):
    """No versions satisfy the roots. ``explanation`` (also the message) says why; ``incompatibility`` is the
    root of the derivation it was written from."""

    def __init__(self, incompatibility: Incompatibility, explanation: str) -> None:
        super().__init__(explanation)
        self.incompatibility = incompatibility
        self.explanation = explanation


class Reporter:
    """Hooks the resolver calls while it works; this base class ignores them. Subclass it to log or show
    progress (like resolvelib's ``BaseReporter``)."""

    def starting(self, roots: Sequence[Dependency]) -> None:
        """Resolution begins (again, after a restart)."""

    def decided(self, name: str, version: Version) -> None:
        """A version was chosen for ``name`` (tentatively: a conflict may take it back)."""

    def conflict(self, incompatibility: Incompatibility) -> None:
        """The current choices satisfy every term of ``incompatibility``; conflict resolution starts."""

    def learned(self, incompatibility: Incompatibility) -> None:
        """Conflict resolution derived ``incompatibility`` and will not make the same mistake again."""

    def backtracked(self, level: int) -> None:
        """Choices above decision level ``level`` were undone."""

    def restarted(self, reason: str) -> None:
        """A failure relied on what was then known about API providers; solving restarts knowing more."""

    def ending(self, solution: Solution) -> None:
        """Resolution succeeded."""


# --- the solver -----------------------------------------------------------------------------------------------

_SATISFIED: Final = 0
_CONTRADICTED: Final = 1
_INCONCLUSIVE: Final = 2
_CONFLICT: Final = object()


class _Assignment:
    """A term in the partial solution: a decision (one version) or a derivation with the incompatibility behind it."""

    __slots__ = ("cause", "index", "is_decision", "level", "name", "positive", "range")

    def __init__(
        self, name: str, versions: Range, positive: bool, level: int, index: int, cause: Incompatibility | None
    ) -> None:
        self.name = name
        self.range = versions
        self.positive = positive
        self.level = level
        self.index = index
        self.cause = cause
        self.is_decision = cause is None


class _Knowledge:
    """What the provider answered, kept across restarts: candidates, metadata, which modules provide APIs, and
    the memo of range operations."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.algebra = _Algebra()
        self.candidates: dict[str, tuple[Candidate, ...]] = {}
        self.versions: dict[str, list[Version]] = {}
        self.metadata: dict[tuple[str, Version], Metadata] = {}
        self.wanted: dict[tuple[str, Version], dict[str, Range]] = {}
        self._runs: dict[str, list[dict[str, tuple[int, int]]]] = {}
        self._between: dict[tuple[str, int, int], Range] = {}
        self.provided: dict[str, dict[Version, set[tuple[str, Version]]]] = {}
        self.epoch: dict[str, int] = {}

    def package(self, name: str) -> tuple[Candidate, ...]:
        """Candidates of a module, highest version first."""
        found = self.candidates.get(name)
        if found is None:
            listed = sorted(self.provider.candidates(name), key=lambda candidate: candidate.version, reverse=True)
            found = self.candidates[name] = tuple(listed)
            self.versions[name] = [candidate.version for candidate in reversed(found)]
        return found

    def runs(self, name: str) -> list[dict[str, tuple[int, int]]]:
        """For each version of ``name`` (ascending) and each package it wants, the first and last index of the
        run of neighbouring versions that want the same range of it: pub's collapsing of dependencies."""
        found = self._runs.get(name)
        if found is None:
            versions = self.versions[name]
            wanted = []
            for version in versions:
                self.read(name, version)
                wanted.append(self.wanted[(name, version)])
            found = [{} for _ in versions]
            opened: dict[str, tuple[int, Range]] = {}
            for index, wants in enumerate([*wanted, {}]):
                for target, (start, versions_wanted) in list(opened.items()):
                    if wants.get(target) != versions_wanted:
                        for member in range(start, index):
                            found[member][target] = (start, index - 1)
                        del opened[target]
                for target, versions_wanted in wants.items():
                    if target not in opened:
                        opened[target] = (index, versions_wanted)
            self._runs[name] = found
        return found

    def between(self, name: str, low: int, high: int) -> Range:
        """The versions from the ``low``-th to the ``high``-th of ``name``, stretched to the neighbouring ones."""
        key = (name, low, high)
        found = self._between.get(key)
        if found is None:
            versions = self.versions[name]
            upper = versions[high + 1] if high + 1 < len(versions) else None
            found = self._between[key] = _between(versions[low] if low else None, upper)
        return found

    def read(self, name: str, version: Version) -> Metadata:
        key = (name, version)
        found = self.metadata.get(key)
        if found is None:
            found = self.metadata[key] = self.provider.metadata(name, version)
            wanted = {dependency.name: dependency.range for dependency in found.dependencies}
            wanted.update((API_PREFIX + requirement.name, requirement.range) for requirement in found.requires)
            self.wanted[key] = wanted
            for api, api_version in found.provides:
                providers = self.provided.setdefault(API_PREFIX + api, {}).setdefault(api_version, set())
                if key not in providers:
                    providers.add(key)
                    self.epoch[API_PREFIX + api] = self.epoch.get(API_PREFIX + api, 0) + 1
        return found


class _Failure(Exception):
    def __init__(self, incompatibility: Incompatibility) -> None:
        super().__init__("version solving failed")
        self.incompatibility = incompatibility


class _Solve:
    """One run of PubGrub: the partial solution, the incompatibilities, propagation, decisions, conflicts."""

    def __init__(
        self,
        knowledge: _Knowledge,
        roots: tuple[Dependency, ...],
        host: Mapping[str, frozenset[Version]],
        reporter: Reporter,
    ) -> None:
        self.knowledge = knowledge
        self.algebra = knowledge.algebra
        self.roots = roots
        self.host = host
        self.reporter = reporter
        self.pins: dict[str, set[Version]] = {}
        for root in roots:
            exact = root.range.exact_version
            if exact is not None:
                self.pins.setdefault(root.name, set()).add(exact)
        self.labels: dict[Range, str] = {}
        self.incompatibilities: dict[str, list[Incompatibility]] = {}
        self.added: set[tuple[object, ...]] = set()
        self.provision: dict[tuple[str, Version], Incompatibility] = {}
        self.api_epochs: dict[str, int] = {}
        # The partial solution.
        self.assignments: list[_Assignment] = []
        self.by_name: dict[str, list[_Assignment]] = {}
        self.decisions: dict[str, Version] = {}
        self.positive: dict[str, Range] = {}
        self.negative: dict[str, Range] = {}
        # Packages waiting for a decision, by priority.
        self.queue: list[tuple[tuple[int, int, int], str]] = []
        self.queued: set[str] = set()
        self.discovered: dict[str, int] = {}

    # --- main loop

    def run(self) -> dict[str, Version]:
        self.add(Incompatibility([Term(ROOT, ANY_VERSION, False)], RootCause()))
        changed: list[str] | None = [ROOT]
        while changed is not None:
            for name in changed:
                self.propagate(name)
            changed = self.choose()
        return dict(self.decisions)

    # --- the partial solution

    def relation(self, term: Term) -> int:
        positive = self.positive.get(term.name)
        if positive is not None:
            if term.positive:
                if self.algebra.subset(positive, term.range):
                    return _SATISFIED
                return _CONTRADICTED if self.algebra.disjoint(positive, term.range) else _INCONCLUSIVE
            if self.algebra.disjoint(positive, term.range):
                return _SATISFIED
            return _CONTRADICTED if self.algebra.subset(positive, term.range) else _INCONCLUSIVE
        negative = self.negative.get(term.name)
        if negative is None or not self.algebra.subset(term.range, negative):
            return _INCONCLUSIVE
        return _CONTRADICTED if term.positive else _SATISFIED

    def assign(self, name: str, versions: Range, positive: bool, cause: Incompatibility | None) -> None:
        assignment = _Assignment(name, versions, positive, len(self.decisions), len(self.assignments), cause)
        self.assignments.append(assignment)
        self.by_name.setdefault(name, []).append(assignment)
        self._accumulate(assignment)
        self.enqueue(name)

    def _accumulate(self, assignment: _Assignment) -> None:
        name = assignment.name
        positive = self.positive.get(name)
        if positive is not None:
            self.positive[name] = self.algebra.meet(positive, True, assignment.range, assignment.positive)[0]
            return
        negative = self.negative.get(name)
        if assignment.positive:
            self.positive[name] = (
                assignment.range if negative is None else self.algebra.difference(assignment.range, negative)
            )
            self.negative.pop(name, None)
        else:
            self.negative[name] = (
                assignment.range if negative is None else self.algebra.union(negative, assignment.range)
            )

    def decide(self, name: str, version: Version) -> None:
        self.decisions[name] = version
        self.assign(name, Range.exact(version), True, None)
        self.reporter.decided(name, version)

    def backtrack(self, level: int) -> None:
        touched: set[str] = set()
        while self.assignments and self.assignments[-1].level > level:
            assignment = self.assignments.pop()
            self.by_name[assignment.name].pop()
            touched.add(assignment.name)
            if assignment.is_decision:
                del self.decisions[assignment.name]
        for name in touched:
            self.positive.pop(name, None)
            self.negative.pop(name, None)
            for assignment in self.by_name[name]:
                self._accumulate(assignment)
            self.enqueue(name)
        self.reporter.backtracked(level)

    def satisfier(self, term: Term) -> _Assignment:
        """The earliest assignment after which the partial solution satisfies ``term``."""
        versions: Range | None = None
        positive = True
        for assignment in self.by_name.get(term.name, ()):
            if versions is None:
                versions, positive = assignment.range, assignment.positive
            else:
                versions, positive = self.algebra.meet(versions, positive, assignment.range, assignment.positive)
            if self.algebra.within(versions, positive, term.range, term.positive):
                return assignment
        raise AssertionError(f"{term!r} is not satisfied by the partial solution")

    # --- incompatibilities and unit propagation

    def add(self, incompatibility: Incompatibility) -> None:
        for term in incompatibility.terms:
            self.incompatibilities.setdefault(term.name, []).append(incompatibility)

    def propagate(self, start: str) -> None:
        changed = {start}
        while changed:
            name = changed.pop()
            candidates = self.incompatibilities.get(name, [])
            for index in range(len(candidates) - 1, -1, -1):
                incompatibility = candidates[index]
                result = self.propagate_one(incompatibility)
                if result is _CONFLICT:
                    cause = self.resolve_conflict(incompatibility)
                    derived = self.propagate_one(cause)
                    assert isinstance(derived, str), "a learned incompatibility is almost satisfied"
                    changed = {derived}
                    break
                if result is not None:
                    changed.add(result)  # type: ignore[arg-type]

    def propagate_one(self, incompatibility: Incompatibility) -> object:
        """Derive the negation of the one undecided term, report a conflict, or do nothing; returns the name
        derived about, ``_CONFLICT`` or None."""
        unsatisfied: Term | None = None
        for term in incompatibility.terms:
            relation = self.relation(term)
            if relation == _CONTRADICTED:
                return None
            if relation == _INCONCLUSIVE:
                if unsatisfied is not None:
                    return None
                unsatisfied = term
        if unsatisfied is None:
            return _CONFLICT
        self.assign(unsatisfied.name, unsatisfied.range, not unsatisfied.positive, incompatibility)
        return unsatisfied.name

    def resolve_conflict(self, incompatibility: Incompatibility) -> Incompatibility:
        """Find the root cause of a conflict, backjump, and return an incompatibility that is almost satisfied."""
        self.reporter.conflict(incompatibility)
        learned = False
        while not self._is_failure(incompatibility):
            latest_term: Term | None = None
            latest: _Assignment | None = None
            difference: tuple[Range, bool] | None = None
            previous_level = 1
            for term in incompatibility.terms:
                satisfier = self.satisfier(term)
                if latest is None or latest.index < satisfier.index:
                    if latest is not None:
                        previous_level = max(previous_level, latest.level)
                    latest, latest_term, difference = satisfier, term, None
                    remainder = self.algebra.meet(satisfier.range, satisfier.positive, term.range, not term.positive)
                    if not remainder[1] or not remainder[0].is_empty:
                        # The satisfier alone does not satisfy the term: the rest came from earlier assignments.
                        difference = remainder
                        earlier = self.satisfier(Term(term.name, remainder[0], not remainder[1]))
                        previous_level = max(previous_level, earlier.level)
                else:
                    previous_level = max(previous_level, satisfier.level)
            assert latest is not None and latest_term is not None
            if latest.is_decision or previous_level != latest.level:
                if learned:
                    self.add(incompatibility)
                    self.reporter.learned(incompatibility)
                self.backtrack(previous_level)
                return incompatibility
            assert latest.cause is not None
            terms = [term for term in incompatibility.terms if term is not latest_term]
            terms += [term for term in latest.cause.terms if term.name != latest.name]
            if difference is not None:
                terms.append(Term(latest.name, difference[0], not difference[1]))
            incompatibility = Incompatibility(terms, ConflictCause(incompatibility, latest.cause), self.algebra)
            learned = True
        raise _Failure(incompatibility)

    @staticmethod
    def _is_failure(incompatibility: Incompatibility) -> bool:
        terms = incompatibility.terms
        return not terms or (len(terms) == 1 and terms[0].positive and terms[0].name == ROOT)

    # --- decisions

    def enqueue(self, name: str) -> None:
        if name in self.queued or name in self.decisions or name not in self.positive:
            return
        order = self.discovered.setdefault(name, len(self.discovered))
        if name.startswith(API_PREFIX):
            priority = (1, 0, order)
        elif name == ROOT:
            priority = (0, 0, order)
        else:
            priority = (0, len(self.knowledge.package(name)), order)
        heapq.heappush(self.queue, (priority, name))
        self.queued.add(name)

    def next_package(self) -> tuple[str, Range] | None:
        """The next package to decide and the versions it may take."""
        while self.queue:
            _, name = heapq.heappop(self.queue)
            self.queued.discard(name)
            if name in self.positive and name not in self.decisions:
                return name, self.positive[name]
        return self.unprovided_api_module()

    def choose(self) -> list[str] | None:
        """Decide a version of the next package; returns the packages to propagate from, None when done."""
        chosen = self.next_package()
        if chosen is None:
            return None
        name, allowed = chosen
        if name.startswith(API_PREFIX):
            version = self.best_api_version(name, allowed)
        else:
            version = self.best_version(name, allowed)
        if version is None:
            self.add(self.no_versions(name, allowed))
            return [name]
        conflict = False
        changed = [name]
        for incompatibility in self.incompatibilities_of(name, version):
            self.add(incompatibility)
            conflict = conflict or self.would_conflict(incompatibility, name, version)
            cause = incompatibility.cause
            if isinstance(cause, DependencyCause) and not cause.api and name != ROOT:
                # Looking one step ahead: a dependency no version can meet rules this version out now, rather
                # than after deciding it, when the learned fact would undo every decision made since.
                target = cause.dependency
                if self.best_version(target.name, target.range) is None and self.once(target.name, target.range):
                    self.add(self.no_versions(target.name, target.range))
                    changed.append(target.name)
                    conflict = True
        if conflict:
            self.enqueue(name)
        else:
            self.decide(name, version)
        return changed

    def would_conflict(self, incompatibility: Incompatibility, name: str, version: Version) -> bool:
        for term in incompatibility.terms:
            if term.name == name:
                if term.range.contains(version) != term.positive:
                    return False
            elif self.relation(term) != _SATISFIED:
                return False
        return True

    def best_version(self, name: str, allowed: Range) -> Version | None:
        if name == ROOT:
            return _ROOT_VERSION
        pins = self.pins.get(name, ())
        for candidate in self.knowledge.package(name):
            if (not candidate.yanked or candidate.version in pins) and allowed.contains(candidate.version):
                return candidate.version
        return None

    def no_versions(self, name: str, allowed: Range) -> Incompatibility:
        if name.startswith(API_PREFIX):
            self.api_epochs[name] = self.knowledge.epoch.get(name, 0)
            cause = NoVersionsCause(exists=bool(self.api_versions(name)))
        else:
            candidates = self.knowledge.package(name)
            pins = self.pins.get(name, ())
            yanked = tuple(
                sorted(
                    candidate.version
                    for candidate in candidates
                    if candidate.yanked and candidate.version not in pins and allowed.contains(candidate.version)
                )
            )
            cause = NoVersionsCause(yanked, exists=bool(candidates))
        return Incompatibility([Term(name, allowed, True)], cause)

    def incompatibilities_of(self, name: str, version: Version) -> list[Incompatibility]:
        """The new incompatibilities choosing ``version`` brings: its dependencies, each stretched over the
        neighbouring versions that depend on the same thing (pub's collapsing), or what backs an API version."""
        if name == ROOT:
            return [self.dependency(ROOT, ANY_VERSION, root, False) for root in self.roots if self.once(ROOT, root)]
        if name.startswith(API_PREFIX):
            return self.api_backing(name, version)
        metadata = self.knowledge.read(name, version)
        versions = self.knowledge.versions[name]
        runs = self.knowledge.runs(name)[versions.index(version)]
        found = []
        for dependency, is_api in [(d, False) for d in metadata.dependencies] + [(d, True) for d in metadata.requires]:
            target = API_PREFIX + dependency.name if is_api else dependency.name
            low, high = runs[target]
            if not self.once(name, low, high, target):
                continue
            incompatibility = self.dependency(name, self.knowledge.between(name, low, high), dependency, is_api)
            if not incompatibility.is_vacuous:
                found.append(incompatibility)
        return found

    def once(self, *key: object) -> bool:
        if key in self.added:
            return False
        self.added.add(key)
        return True

    def dependency(self, name: str, depender: Range, dependency: Dependency, is_api: bool) -> Incompatibility:
        self.labels.setdefault(dependency.range, dependency.spec)
        target = API_PREFIX + dependency.name if is_api else dependency.name
        return Incompatibility(
            [Term(name, depender, True), Term(target, dependency.range, False)],
            DependencyCause(name, dependency, is_api),
        )

    # --- APIs

    def api_versions(self, name: str) -> list[Version]:
        offered = set(self.host.get(name, ())) | set(self.knowledge.provided.get(name, {}))
        return sorted(offered, reverse=True)

    def _available(self, name: str, version: Version) -> bool:
        """Whether the host or an already selected module offers this API version (nothing to add)."""
        if version in self.host.get(name, ()):
            return True
        providers = self.knowledge.provided.get(name, {}).get(version, ())
        return any(self.decisions.get(module) == module_version for module, module_version in providers)

    def best_api_version(self, name: str, allowed: Range) -> Version | None:
        admitted = [version for version in self.api_versions(name) if allowed.contains(version)]
        available = [version for version in admitted if self._available(name, version)]
        return (available or admitted or [None])[0]

    def api_backing(self, name: str, version: Version) -> list[Incompatibility]:
        if version in self.host.get(name, ()):
            return []
        self.api_epochs[name] = self.knowledge.epoch.get(name, 0)
        key = (name, version)
        known = self.provision.get(key)
        providers = self.knowledge.provided.get(name, {}).get(version, set())
        if known is not None and len(known.terms) == len({module for module, _ in providers}) + 1:
            return []
        by_module: dict[str, Range] = {}
        for module, module_version in sorted(providers):
            exact = Range.exact(module_version)
            by_module[module] = exact if module not in by_module else by_module[module].union(exact)
        terms = [Term(name, Range.exact(version), True)]
        terms += [Term(module, versions, False) for module, versions in by_module.items()]
        incompatibility = Incompatibility(terms, ProvidedByCause(name, version))
        self.provision[key] = incompatibility
        return [incompatibility]

    def unprovided_api_module(self) -> tuple[str, Range] | None:
        """With every package decided: a module to add, and the versions of it that would do, because a chosen
        API version has no provider in the graph yet (its "provided only by" incompatibility names several
        modules, so propagation could not pick one)."""
        for (name, version), incompatibility in sorted(self.provision.items(), key=lambda item: item[0]):
            if self.decisions.get(name) != version:
                continue
            providers = incompatibility.terms[1:]
            if any(self.relation(term) == _CONTRADICTED for term in providers):
                continue
            for term in providers:
                if self.relation(term) == _INCONCLUSIVE and term.name not in self.decisions:
                    excluded = self.negative.get(term.name)
                    return term.name, term.range if excluded is None else self.algebra.difference(term.range, excluded)
        return None

    def stale(self) -> bool:
        """Whether some API's providers became known after a conclusion about that API was drawn."""
        return any(self.knowledge.epoch.get(name, 0) > epoch for name, epoch in self.api_epochs.items())


def _between(low: Version | None, high: Version | None) -> Range:
    """Every version ``>= low`` and ``< high``, prereleases included (None: unbounded on that side)."""
    if low is None and high is None:
        return ANY_VERSION
    return Range(releases=[(low or _ZERO, high)], prereleases=[(low or _LOWEST, high)])


class Resolver:
    """Resolves root requirements against a :class:`Provider`; see the module docstring for the semantics.

    ``root_label`` names the request in explanations (``"Because the request depends on ..."``).
    """

    MAX_RESTARTS: Final = 64

    def __init__(
        self, provider: Provider, reporter: Reporter | None = None, *, root_label: str = "the request"
    ) -> None:
        self.provider = provider
        self.reporter = reporter or Reporter()
        self.root_label = root_label

    def resolve(self, roots: Iterable[Dependency], host_apis: Iterable[tuple[str, Version]] = ()) -> Solution:
        """Pick versions for ``roots`` and everything they need; raises :class:`NoSolutionError` if impossible.

        ``host_apis`` are the ``(api DXN, version)`` pairs the target host offers.
        """
        root_list = tuple(roots)
        for root in root_list:
            if not isinstance(root, Dependency):
                raise RecordError(f"a root requirement must be a Dependency, not {type(root).__name__}")
        host_list = tuple(host_apis)
        host: dict[str, set[Version]] = {}
        for item in host_list:
            if not _is_api_version(item):
                raise RecordError(f"a host API must be an (api name, Version) pair, not {item!r}")
            host.setdefault(API_PREFIX + item[0], set()).add(item[1])
        frozen = {name: frozenset(versions) for name, versions in host.items()}
        knowledge = _Knowledge(self.provider)
        for _ in range(self.MAX_RESTARTS):
            self.reporter.starting(root_list)
            solve = _Solve(knowledge, root_list, frozen, self.reporter)
            try:
                decisions = solve.run()
            except _Failure as failure:
                if solve.stale():
                    self.reporter.restarted("modules providing a required API became known during the search")
                    continue
                explainer = _Explainer(knowledge, solve.labels, self.root_label, frozen)
                explanation = explainer.explain(failure.incompatibility)
                raise NoSolutionError(failure.incompatibility, explanation) from None
            solution = self._solution(knowledge, root_list, host_list, frozen, decisions)
            self.reporter.ending(solution)
            return solution
        raise ResolutionError(f"gave up after {self.MAX_RESTARTS} restarts while learning which modules provide APIs")

    @staticmethod
    def _solution(
        knowledge: _Knowledge,
        roots: tuple[Dependency, ...],
        host_list: tuple[tuple[str, Version], ...],
        host: Mapping[str, frozenset[Version]],
        decisions: Mapping[str, Version],
    ) -> Solution:
        modules = {}
        for name in sorted(decisions):
            if name == ROOT or name.startswith(API_PREFIX):
                continue
            version = decisions[name]
            candidate = next(c for c in knowledge.package(name) if c.version == version)
            modules[name] = SelectedModule(
                name, version, candidate.record, knowledge.read(name, version), candidate.yanked
            )
        apis = {}
        for name in sorted(decisions):
            if not name.startswith(API_PREFIX):
                continue
            version = decisions[name]
            provider = None
            if version not in host.get(name, ()):
                providers = knowledge.provided.get(name, {}).get(version, set())
                selected = [module for module, module_version in providers if decisions.get(module) == module_version]
                provider = min(selected)
            api = name.removeprefix(API_PREFIX)
            apis[api] = ApiBinding(api, version, provider)
        return Solution(roots, modules, apis, host_list)


def resolve(
    provider: Provider,
    roots: Iterable[Dependency],
    host_apis: Iterable[tuple[str, Version]] = (),
    *,
    reporter: Reporter | None = None,
) -> Solution:
    """Shorthand for ``Resolver(provider, reporter).resolve(roots, host_apis)``."""
    return Resolver(provider, reporter).resolve(roots, host_apis)


# --- explanations ---------------------------------------------------------------------------------------------


class _Explainer:
    """Writes the derivation of a failure as numbered sentences, following pub's error-reporting algorithm.

    Each derived incompatibility becomes one line saying which two facts imply it; lines are numbered only when a
    later line refers back to them. Ranges print as the dependency specs wrote them when one did, and a term
    covering exactly one existing version names that version (``app 1.0.0`` rather than ``app <2.0.0``).
    """

    def __init__(
        self,
        knowledge: _Knowledge,
        labels: Mapping[Range, str],
        root_label: str,
        host: Mapping[str, frozenset[Version]] | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.labels = labels
        self.host = host or {}
        self.root_label = root_label
        self.lines: list[tuple[str, int | None]] = []
        self.numbers: dict[int, int] = {}
        self.uses: dict[int, int] = {}

    def explain(self, root: Incompatibility) -> str:
        if not root.is_derived:
            return self.describe(root) + "."
        self._count(root)
        self._visit(root, conclusion=True)
        width = len(f"({len(self.numbers)}) ") if self.numbers else 0
        text = []
        for line, number in self.lines:
            text.append((f"({number}) " if number else "").ljust(width) + line if line else "")
        return "\n".join(text)

    def _count(self, root: Incompatibility) -> None:
        seen: set[int] = set()
        stack = [root]
        while stack:
            incompatibility = stack.pop()
            if id(incompatibility) in seen or not isinstance(incompatibility.cause, ConflictCause):
                continue
            seen.add(id(incompatibility))
            for cause in (incompatibility.cause.first, incompatibility.cause.second):
                self.uses[id(cause)] = self.uses.get(id(cause), 0) + 1
                stack.append(cause)

    def _write(self, incompatibility: Incompatibility, text: str, numbered: bool) -> None:
        if numbered:
            number = len(self.numbers) + 1
            self.numbers[id(incompatibility)] = number
            self.lines.append((text, number))
        else:
            self.lines.append((text, None))

    def _visit(self, incompatibility: Incompatibility, conclusion: bool = False, numbered: bool = False) -> None:
        assert isinstance(incompatibility.cause, ConflictCause)
        numbered = numbered or self.uses.get(id(incompatibility), 0) > 1
        conjunction = "So," if conclusion else "And"
        text = self.describe(incompatibility)
        first, second = incompatibility.cause.first, incompatibility.cause.second
        if first.is_derived and second.is_derived:
            first_line, second_line = self.numbers.get(id(first)), self.numbers.get(id(second))
            if first_line and second_line:
                because = f"{self.describe(first)} ({first_line}) and {self.describe(second)} ({second_line})"
                self._write(incompatibility, f"Because {because}, {text}.", numbered)
            elif first_line or second_line:
                with_line, without_line = (first, second) if first_line else (second, first)
                self._visit(without_line)
                line = self.numbers[id(with_line)]
                self._write(
                    incompatibility, f"{conjunction} because {self.describe(with_line)} ({line}), {text}.", numbered
                )
            elif self._single_line(first) or self._single_line(second):
                simple, complex_ = (first, second) if self._single_line(first) else (second, first)
                self._visit(complex_)
                self._visit(simple)
                self._write(incompatibility, f"Thus, {text}.", numbered)
            else:
                self._visit(first, conclusion=True, numbered=True)
                self.lines.append(("", None))
                self._visit(second)
                line = self.numbers[id(first)]
                self._write(
                    incompatibility, f"{conjunction} because {self.describe(first)} ({line}), {text}.", numbered
                )
        elif first.is_derived or second.is_derived:
            derived, external = (first, second) if first.is_derived else (second, first)
            line = self.numbers.get(id(derived))
            if line:
                self._write(incompatibility, f"Because {self.both(external, derived, None, line)}, {text}.", numbered)
            elif self._collapsible(derived):
                assert isinstance(derived.cause, ConflictCause)
                inner_first, inner_second = derived.cause.first, derived.cause.second
                prior_derived, prior_external = (
                    (inner_first, inner_second) if inner_first.is_derived else (inner_second, inner_first)
                )
                self._visit(prior_derived)
                self._write(
                    incompatibility, f"{conjunction} because {self.both(prior_external, external)}, {text}.", numbered
                )
            else:
                self._visit(derived)
                self._write(incompatibility, f"{conjunction} because {self.describe(external)}, {text}.", numbered)
        else:
            self._write(incompatibility, f"Because {self.both(first, second)}, {text}.", numbered)

    @staticmethod
    def _single_line(incompatibility: Incompatibility) -> bool:
        cause = incompatibility.cause
        return isinstance(cause, ConflictCause) and not cause.first.is_derived and not cause.second.is_derived

    def _collapsible(self, derived: Incompatibility) -> bool:
        if self.uses.get(id(derived), 0) > 1:
            return False
        cause = derived.cause
        assert isinstance(cause, ConflictCause)
        if cause.first.is_derived == cause.second.is_derived:
            return False
        inner = cause.first if cause.first.is_derived else cause.second
        return id(inner) not in self.numbers

    # --- one incompatibility as a phrase

    def describe(self, incompatibility: Incompatibility) -> str:
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, DependencyCause) and len(terms) == 2:
            depender, target = (terms[0], terms[1]) if terms[0].positive else (terms[1], terms[0])
            verb = "requires" if cause.api else "depends on"
            return f"{self.subject(depender)} {verb} {self.target(target)}"
        if isinstance(cause, NoVersionsCause) and len(terms) == 1:
            return self._no_versions(terms[0], cause)
        if isinstance(cause, ProvidedByCause) and terms:
            providers = " or ".join(self.target(term) for term in terms[1:]) or "no module"
            return f"{self.subject(terms[0])} is provided only by {providers}"
        if isinstance(cause, RootCause):
            return f"{self.root_label} must be satisfied"
        return self._generic(terms)

    def _no_versions(self, term: Term, cause: NoVersionsCause) -> str:
        name = self.show(term.name)
        if term.name.startswith(API_PREFIX):
            return f"neither the host nor any module in the graph offers {self.target(term)}"
        if not cause.exists:
            return f"{name} doesn't exist"
        wanted = self.range_text(term.range)
        if cause.yanked:
            listed = ", ".join(str(version) for version in cause.yanked)
            verb = "is" if len(cause.yanked) == 1 else "are"
            return f"no versions of {name} match {wanted} ({listed} {verb} yanked)"
        return f"no versions of {name} match {wanted}"

    def _generic(self, terms: Sequence[Term]) -> str:
        if not terms:
            return "version solving failed"
        if len(terms) == 1:
            term = terms[0]
            if term.positive:
                return "version solving failed" if term.name == ROOT else f"{self.subject(term)} is forbidden"
            return f"{self.target(term)} is required"
        positives = [self.subject(term) for term in terms if term.positive]
        negatives = [self.target(term) for term in terms if not term.positive]
        if len(positives) == 1 and negatives:
            return f"{positives[0]} requires {_join(negatives, 'or')}"
        if not negatives:
            if len(positives) == 2:
                return f"{positives[0]} cannot be installed with {positives[1]}"
            return f"{_join(positives, 'and')} cannot all be installed together"
        if not positives:
            return f"{'either ' if len(negatives) == 2 else 'one of '}{_join(negatives, 'or')} is required"
        return f"{_join(positives, 'and')} together require {_join(negatives, 'or')}"

    # --- two incompatibilities joined, with pub's shortcuts

    def both(
        self,
        first: Incompatibility,
        second: Incompatibility,
        first_line: int | None = None,
        second_line: int | None = None,
    ) -> str:
        joined = (
            self._depends_on_both(first, second, first_line, second_line)
            or self._depends_through(first, second, first_line, second_line)
            or self._depends_on_forbidden(first, second, first_line, second_line)
        )
        if joined:
            return joined
        return f"{self.describe(first)}{_line(first_line)} and {self.describe(second)}{_line(second_line)}"

    @staticmethod
    def _edge(incompatibility: Incompatibility) -> tuple[Term, Term] | None:
        """The (positive, negative) terms of a two-term "requires" incompatibility."""
        terms = incompatibility.terms
        if len(terms) != 2 or terms[0].positive == terms[1].positive:
            return None
        return (terms[0], terms[1]) if terms[0].positive else (terms[1], terms[0])

    @staticmethod
    def _verb(incompatibility: Incompatibility) -> str:
        cause = incompatibility.cause
        return "depends on" if isinstance(cause, DependencyCause) and not cause.api else "requires"

    def _depends_on_both(
        self, first: Incompatibility, second: Incompatibility, first_line: int | None, second_line: int | None
    ) -> str | None:
        one, two = self._edge(first), self._edge(second)
        if one is None or two is None or one[0].name != two[0].name or one[0].range != two[0].range:
            return None
        verb = self._verb(first) if self._verb(first) == self._verb(second) else "requires"
        return (
            f"{self.subject(one[0])} {verb} both {self.target(one[1])}{_line(first_line)} "
            f"and {self.target(two[1])}{_line(second_line)}"
        )

    def _depends_through(
        self, first: Incompatibility, second: Incompatibility, first_line: int | None, second_line: int | None
    ) -> str | None:
        one, two = self._edge(first), self._edge(second)
        if one is None or two is None:
            return None
        if one[1].name == two[0].name and self.knowledge.algebra.subset(one[1].range, two[0].range):
            prior, prior_edge, prior_line, latter, latter_edge, latter_line = (
                first,
                one,
                first_line,
                second,
                two,
                second_line,
            )
        elif two[1].name == one[0].name and self.knowledge.algebra.subset(two[1].range, one[0].range):
            prior, prior_edge, prior_line, latter, latter_edge, latter_line = (
                second,
                two,
                second_line,
                first,
                one,
                first_line,
            )
        else:
            return None
        return (
            f"{self.subject(prior_edge[0])} {self._verb(prior)} {self.target(prior_edge[1])}{_line(prior_line)} "
            f"which {self._verb(latter)} {self.target(latter_edge[1])}{_line(latter_line)}"
        )

    def _depends_on_forbidden(
        self, first: Incompatibility, second: Incompatibility, first_line: int | None, second_line: int | None
    ) -> str | None:
        if len(second.terms) == 1 and len(first.terms) != 1:
            prior, prior_line, latter, latter_line = first, first_line, second, second_line
        elif len(first.terms) == 1 and len(second.terms) != 1:
            prior, prior_line, latter, latter_line = second, second_line, first, first_line
        else:
            return None
        edge = self._edge(prior)
        forbidden = latter.terms[0]
        if edge is None or not forbidden.positive or edge[1].name != forbidden.name:
            return None
        if not self.knowledge.algebra.subset(edge[1].range, forbidden.range):
            return None
        cause = latter.cause
        if isinstance(cause, NoVersionsCause) and not forbidden.name.startswith(API_PREFIX):
            if not cause.exists:
                reason = "which doesn't exist"
            elif cause.yanked:
                reason = "which matches only yanked versions"
            else:
                reason = "which doesn't match any versions"
        elif isinstance(cause, NoVersionsCause):
            reason = "which neither the host nor any module in the graph offers"
        else:
            reason = "which is forbidden"
        return (
            f"{self.subject(edge[0])} {self._verb(prior)} {self.target(edge[1])}{_line(prior_line)} "
            f"{reason}{_line(latter_line)}"
        )

    # --- terms as words

    def show(self, name: str) -> str:
        if name == ROOT:
            return self.root_label
        return name.removeprefix(API_PREFIX)

    def _existing(self, name: str) -> list[Version]:
        if name.startswith(API_PREFIX):
            return sorted(set(self.knowledge.provided.get(name, {})) | set(self.host.get(name, ())))
        return self.knowledge.versions.get(name, [])

    def subject(self, term: Term) -> str:
        """A positive term as the subject of a sentence: ``app 1.0.0``, ``every version of app``, ``app >=2``."""
        if term.name == ROOT:
            return self.root_label
        name = self.show(term.name)
        existing = self._existing(term.name)
        inside = [version for version in existing if term.range.contains(version)]
        if len(inside) == 1:
            return f"{name} {inside[0]}"
        if existing and len(inside) == len(existing):
            return f"every version of {name}"
        return f"{name} {self.range_text(term.range)}"

    def target(self, term: Term) -> str:
        """What a term asks for, as the object of "depends on" or "requires": ``b ^2``, or ``b`` for any."""
        if term.name == ROOT:
            return self.root_label
        name = self.show(term.name)
        label = self.labels.get(term.range)
        if label is None and term.range.is_any:
            return name
        text = label if label is not None else self.range_text(term.range)
        return name if text in ("*", "", "x", "X") else f"{name} {text}"

    def range_text(self, versions: Range) -> str:
        label = self.labels.get(versions)
        return label if label is not None else describe_range(versions)


def describe_range(versions: Range) -> str:
    """A short human form of a range: ``^1.2.0``, ``~1.2.0``, ``>=1.1.0``, ``<2.0.0``, ``1.2.3``, ``any``.

    Release bounds only: a range that also admits prereleases (as the solver's version spans do) is shown by
    its releases; a range of prereleases alone falls back to the normalised npm text.
    """
    if versions.is_any:
        return "any"
    exact = versions.exact_version
    if exact is not None:
        return str(exact)
    if not versions.releases:
        return str(versions)
    parts = []
    for low, high in versions.releases:
        if high is None:
            parts.append(">=" + str(low) if low != _ZERO else "*")
        elif high == Version(low.major, low.minor, low.patch + 1):
            parts.append(str(low))
        elif low == _ZERO:
            parts.append("<" + str(high))
        elif high == _caret_ceiling(low):
            parts.append("^" + str(low))
        elif high == Version(low.major, low.minor + 1, 0):
            parts.append("~" + str(low))
        else:
            parts.append(f">={low} <{high}")
    return " || ".join(parts)


def _caret_ceiling(low: Version) -> Version:
    """Where ``^low`` ends: the next major, or for ``0.x`` the next minor, or for ``0.0.x`` the next patch."""
    if low.major > 0:
        return Version(low.major + 1, 0, 0)
    if low.minor > 0:
        return Version(0, low.minor + 1, 0)
    return Version(0, 0, low.patch + 1)


def _line(number: int | None) -> str:
    return f" ({number})" if number else ""


def _join(items: Sequence[str], conjunction: str) -> str:
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
