"""Explaining a failed resolution in sentences, following pub's error-reporting algorithm.

:class:`_Explainer` writes the derivation behind a :class:`~dmg.core.resolver.solver.NoSolutionError` as numbered
lines, each saying which two facts imply the next; :func:`describe_range` prints a range the short way people
write it. Nothing here solves anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dmg.core.resolver.provider import API_PREFIX, ROOT
from dmg.core.resolver.terms import (
    _ZERO,
    ConflictCause,
    DependencyCause,
    Incompatibility,
    NoVersionsCause,
    ProvidedByCause,
    RootCause,
    Term,
)
from dmg.core.semver import Range, Version

if TYPE_CHECKING:
    from dmg.core.resolver.solver import _Knowledge


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
            derived_line = self.numbers.get(id(derived))
            if derived_line:
                self._write(
                    incompatibility, f"Because {self.both(external, derived, None, derived_line)}, {text}.", numbered
                )
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
