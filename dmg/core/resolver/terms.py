"""The solver's algebra: terms (statements about one package's version), incompatibilities (sets of terms that
cannot all hold) and their causes, and the memoised range operations they are computed with.

Versions are the npm ranges of :mod:`dmg.core.semver`, so intersections, unions and complements are exact,
prereleases included. This module states facts; deriving them is :mod:`dmg.core.resolver.solver`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from dmg.core.resolver.provider import ROOT, Dependency
from dmg.core.semver import Range, Version

ANY_VERSION: Final = Range.any().union(Range.any().complement())
"""Every version, prereleases included (``Range.any()`` is npm's ``*``, which admits no prerelease)."""

_ZERO: Final = Version(0, 0, 0)
_LOWEST: Final = Version(0, 0, 0, (0,))


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


def _between(low: Version | None, high: Version | None) -> Range:
    """Every version ``>= low`` and ``< high``, prereleases included (None: unbounded on that side)."""
    if low is None and high is None:
        return ANY_VERSION
    return Range(releases=[(low or _ZERO, high)], prereleases=[(low or _LOWEST, high)])
