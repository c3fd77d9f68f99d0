"""The PubGrub solve: :class:`Resolver` picks one version of every module a set of root requirements needs.

One resolution is one :class:`_Solve` (the partial solution, unit propagation, decisions, conflict resolution with
backjumping) over a :class:`_Knowledge` of what the provider answered, restarted when what was known about API
providers changed under a failure. The result is a :class:`Solution`; a failure is a :class:`NoSolutionError`
whose message :mod:`dmg.core.resolver.explanation` writes. The semantics are in :mod:`dmg.core.resolver`.

Every resolution has a budget of steps, :data:`DEFAULT_MAX_STEPS` unless the caller sets ``max_steps``: a step is
an incompatibility examined by unit propagation, a choice of the next package to decide, or one derivation of
conflict resolution, counted over all restarts. A search that would take more raises
:class:`ResolutionTooLargeError` (a :class:`~dmg.core.errors.TooLargeError`, code ``TOO_LARGE``), so no caller, a
server least of all, runs an unbounded solve. Resolutions that fit finish as they would without the budget.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from dmg.core.cid import CID
from dmg.core.errors import RecordError, ResolutionError, TooLargeError
from dmg.core.resolver.explanation import _Explainer
from dmg.core.resolver.provider import API_PREFIX, ROOT, Candidate, Dependency, Metadata, Provider, _is_api_version
from dmg.core.resolver.terms import (
    ANY_VERSION,
    ConflictCause,
    DependencyCause,
    Incompatibility,
    NoVersionsCause,
    ProvidedByCause,
    RootCause,
    Term,
    _Algebra,
    _between,
)
from dmg.core.semver import Range, Version

_ROOT_VERSION: Final = Version(0, 0, 0)


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


DEFAULT_MAX_STEPS: Final = 200_000
"""Steps one resolution may take unless told otherwise. The resolve benchmark takes 10,000 to 21,000 steps per
satisfiable root set (a few hundred modules of 2,000) and 51,000 for its unsatisfiable pigeonhole case (6 holes);
at about 2 to 7 microseconds a step, the budget bounds a solve to about a second. The next pigeonhole (7 holes,
some 300,000 steps) is refused."""


class ResolutionTooLargeError(TooLargeError):
    """The resolution needed more than ``max_steps`` steps; it was stopped before finding a solution or a reason."""

    def __init__(self, max_steps: int) -> None:
        super().__init__(
            f"resolving these roots takes more than {max_steps} steps (decisions, propagations and conflict "
            "resolutions), this resolver's budget: ask for less, with fewer roots, narrower ranges or exact versions"
        )
        self.max_steps = max_steps


class _Budget:
    """The steps one resolution may still take, shared by its restarts."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.spent = 0

    def spend(self, steps: int) -> None:
        self.spent += steps
        if self.spent > self.max_steps:
            raise ResolutionTooLargeError(self.max_steps)


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
        budget: _Budget,
    ) -> None:
        self.knowledge = knowledge
        self.algebra = knowledge.algebra
        self.roots = roots
        self.host = host
        self.reporter = reporter
        self.budget = budget
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
            self.budget.spend(len(candidates))
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
            self.budget.spend(1)
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
        self.budget.spend(1)
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
        candidates = available or admitted
        return candidates[0] if candidates else None

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


class Resolver:
    """Resolves root requirements against a :class:`Provider`; see the module docstring for the semantics.

    ``root_label`` names the request in explanations (``"Because the request depends on ..."``); ``max_steps``
    bounds the work of each :meth:`resolve` (None: :data:`DEFAULT_MAX_STEPS`).
    """

    MAX_RESTARTS: Final = 64

    def __init__(
        self,
        provider: Provider,
        reporter: Reporter | None = None,
        *,
        root_label: str = "the request",
        max_steps: int | None = None,
    ) -> None:
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be a positive integer, not {max_steps!r}")
        self.provider = provider
        self.reporter = reporter or Reporter()
        self.root_label = root_label
        self.max_steps = DEFAULT_MAX_STEPS if max_steps is None else max_steps

    def resolve(self, roots: Iterable[Dependency], host_apis: Iterable[tuple[str, Version]] = ()) -> Solution:
        """Pick versions for ``roots`` and everything they need; raises :class:`NoSolutionError` if impossible,
        :class:`ResolutionTooLargeError` if finding out takes more than ``max_steps``.

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
        budget = _Budget(self.max_steps)
        for _ in range(self.MAX_RESTARTS):
            self.reporter.starting(root_list)
            solve = _Solve(knowledge, root_list, frozen, self.reporter, budget)
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
    max_steps: int | None = None,
) -> Solution:
    """Shorthand for ``Resolver(provider, reporter, max_steps=max_steps).resolve(roots, host_apis)``."""
    return Resolver(provider, reporter, max_steps=max_steps).resolve(roots, host_apis)
