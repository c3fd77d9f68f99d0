"""SemVer 2.0 versions, npm version ranges, and the set algebra a dependency resolver needs.

What this module does:

- :class:`Version` parses and prints strict SemVer 2.0 (no ``v`` prefix, no leading zeros, non-empty
  identifiers of ``[0-9A-Za-z-]``) and orders versions by SemVer precedence. Build metadata is kept and printed
  but ignored for ordering *and* equality, so ``1.0.0+a == 1.0.0+b``.
- :class:`Range` parses the npm ``node-semver`` range grammar (``^``, ``~``, x-ranges, partial versions, hyphen
  ranges, ``<``/``<=``/``>``/``>=``/``=`` comparators, whitespace for AND, ``||`` for OR) with npm's desugaring
  (``^0.0.3`` is ``>=0.0.3 <0.0.4-0``, ``<=1.2`` is ``<1.3.0-0``, ``>1.2`` is ``>=1.3.0``, ...), answers
  membership with npm's prerelease rule, and supports intersection, union, complement and difference.
- :func:`parse_selector` reads what may follow ``@`` in a DXN: a version, a range or a tag.

What it does not do: npm's ``loose`` mode, the ``v`` and ``~>`` spellings, a prerelease on a wildcard version
(``1.2.x-beta``) or a number after a wildcard (``1.x.3``) (npm accepts and ignores these; here they are errors),
coercion, incrementing, or npm's ``includePrerelease`` *re-desugaring* (see below). Numbers are unbounded but a
version is at most 256 characters and a range at most 1024.

Prereleases and the algebra
---------------------------
The total order of versions interleaves the prereleases of ``x.y.z`` just below ``x.y.z``: they fill the
half-open "band" ``[x.y.z-0, x.y.z)``, ``x.y.z-0`` being the smallest version above every version of lower
precedence. npm's default rule admits a prerelease only when it lies inside a comparator set that also has a
comparator on the same ``major.minor.patch`` with a prerelease: ``>=1.2.3-beta <2.0.0`` admits ``1.2.3-rc`` but
not ``1.5.0-rc``. This rule is per comparator set, so it cannot be recovered from a single union of intervals
plus a set of opted-in ``major.minor.patch`` triples.

A :class:`Range` therefore represents exactly the set of versions npm's default rule admits, as two sorted
unions of disjoint half-open spans ``[low, high)`` over the total order (``high`` ``None`` meaning unbounded):

- ``releases``: read only at release versions: a release is admitted iff it lies in one of these spans;
- ``prereleases``: read only at prerelease versions: a prerelease is admitted iff it lies in one of these.

Both are kept canonical (release spans have release bounds, prerelease spans prerelease bounds; spans merged),
so equal sets have equal representations. Because the two parts never interact, intersection, union,
complement and difference act on each part independently and are exact: ``a.intersect(b).contains(v) ==
a.contains(v) and b.contains(v)`` for every version, and likewise for the other operations. ``==``, ``hash``,
:attr:`Range.is_empty`, :meth:`Range.allows_all` and :meth:`Range.allows_any` all speak of this set.

Consequences worth knowing:

- The complement is taken within *all* versions, so ``Range.any().complement()`` (``*`` admits every release
  and no prerelease) is the set of all prereleases, not empty. :attr:`Range.is_any` is true when every release
  is admitted, whatever the prereleases.
- ``contains(v, include_prerelease=True)`` widens the default rule for reading only, and is not part of the
  algebra: a prerelease is then also admitted when it lies within a run of admitted releases (after an
  admitted release and before the next excluded one; a run starting at ``0.0.0`` also covers ``0.0.0``'s own
  prereleases). So ``^1.2.3`` then admits ``1.5.0-rc`` but neither ``1.2.3-rc`` nor ``2.0.0-rc``. npm instead
  re-desugars some ranges when ``includePrerelease`` is set (``2.x`` becomes ``>=2.0.0-0 <3.0.0-0`` and admits
  ``2.0.0-rc``); this module does not.
- The widened view is computed from the same two span lists, so equal ranges agree in both views:
  ``^1.2.3 == >=1.2.3 <2.0.0`` (npm itself tells these apart only under ``includePrerelease``).
- A resolver should choose candidates with :meth:`Range.contains` / :meth:`Range.max_satisfying` (default
  rule) and reason with the algebra; both describe the same set.
- ``str(range)`` is a normalised npm range that parses back to an equal range, written with ``>=``, ``<``,
  exact versions, ``*`` and ``||`` only: ``^1.2.3`` prints as ``>=1.2.3 <2.0.0-0``, ``^0.0.3`` as ``0.0.3``
  (the one release it admits), the empty range as ``<0.0.0-0``. Only complements (and spans handed to the
  constructor) can hold prereleases of unboundedly many releases, say all prereleases above ``2.0.0``, which
  npm's grammar cannot express; ``str`` shows such parts as ``(prereleases >=2.0.1-0)``, which does not parse.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, TypeGuard

from dmg.core.errors import RangeError, VersionError

MAX_VERSION_LENGTH: Final = 256
MAX_RANGE_LENGTH: Final = 1024

Identifier = int | str
Span = tuple["Version", "Version | None"]
_BoundedSpan = tuple["Version", "Version"]
_PrecedenceKey = tuple[int, int, int, int, tuple[tuple[int, Identifier], ...]]

_IDENTIFIER_CHARS: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")
_DIGITS: Final = frozenset("0123456789")
_WILDCARDS: Final = frozenset("xX*")
_SPACE: Final = frozenset(" \t")
_TAG: Final = re.compile(r"[a-z][a-z0-9-]{0,62}")
_NUMBER = r"(?:0|[1-9][0-9]*)"
_PRERELEASE_IDENTIFIER = rf"(?:{_NUMBER}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
# The whole strict grammar as one regex: the fast path for valid text. Invalid text goes through the scanner,
# which says what is wrong and where.
_STRICT_VERSION: Final = re.compile(
    rf"({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-({_PRERELEASE_IDENTIFIER}(?:\.{_PRERELEASE_IDENTIFIER})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_TAG_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# Printing a prerelease span band by band stays readable only for a handful of releases; beyond this the span
# is shown with the unparseable "(prereleases ...)" notation rather than as thousands of comparator sets.
_MAX_PRINTED_BANDS: Final = 64


class ParseProblem(Exception):
    """Why and where a version, range or tag failed to parse.

    Raised internally and chained as ``__cause__`` of the :class:`VersionError` or :class:`RangeError` the
    public functions raise, so a caller embedding the text in something larger (a DXN) can relocate the
    position. ``located`` is false for problems that the reason alone pins down (``leading zero in major``).
    """

    def __init__(self, reason: str, position: int, *, located: bool = True) -> None:
        super().__init__(f"{reason} at {position}")
        self.reason = reason
        self.position = position
        self.located = located


# --- versions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Version:
    """A SemVer 2.0 version, ordered by precedence; build metadata is ignored by ``==``, ``<`` and ``hash``."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...] = ()
    build: tuple[str, ...] = ()
    _key: _PrecedenceKey = field(init=False, compare=False)

    def __post_init__(self) -> None:
        for part in ("major", "minor", "patch"):
            value = getattr(self, part)
            if not _is_natural(value):
                raise VersionError(f"invalid version: {part} must be a non-negative int, not {value!r}")
        if not isinstance(self.prerelease, tuple) or not isinstance(self.build, tuple):
            raise VersionError("invalid version: prerelease and build must be tuples")
        for identifier in self.prerelease:
            if _is_natural(identifier):
                continue
            if not _is_word(identifier) or identifier.isdigit():
                raise VersionError(
                    f"invalid version: prerelease identifier {identifier!r} must be a non-negative int or a "
                    "non-numeric string of [0-9A-Za-z-]"
                )
        for identifier in self.build:
            if not _is_word(identifier):
                raise VersionError(f"invalid version: build identifier {identifier!r} must be a string of [0-9A-Za-z-]")
        object.__setattr__(self, "_key", _precedence_key(self.major, self.minor, self.patch, self.prerelease))

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse strict SemVer 2.0 text, e.g. ``1.0.0-rc.1+build.5``."""
        if not isinstance(text, str):
            raise VersionError(f"a version must be a string, not {type(text).__name__}")
        if len(text) > MAX_VERSION_LENGTH:
            raise VersionError(f"invalid version {text[:32]!r}...: longer than {MAX_VERSION_LENGTH} characters")
        match = _STRICT_VERSION.fullmatch(text)
        if match:
            return _from_match(match)
        scanner = _Scanner(text)
        try:
            version = scanner.version()
            if not scanner.at_end():
                raise scanner.unexpected()
        except ParseProblem as problem:
            where = f" at {problem.position}" if problem.located else ""
            raise VersionError(f"invalid version {text!r}: {problem.reason}{where}") from problem
        return version

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(identifier) for identifier in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key >= other._key


def _is_natural(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_word(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value) and all(char in _IDENTIFIER_CHARS for char in value)


def _precedence_key(major: int, minor: int, patch: int, prerelease: tuple[Identifier, ...]) -> _PrecedenceKey:
    # A release sorts after its prereleases (flag 1 > 0); numeric identifiers sort before alphanumeric ones
    # (tag 0 < 1); a shorter identifier list sorts first when it is a prefix, as tuple comparison does.
    if not prerelease:
        return (major, minor, patch, 1, ())
    return (
        major,
        minor,
        patch,
        0,
        tuple((0 if isinstance(identifier, int) else 1, identifier) for identifier in prerelease),
    )


def _make(major: int, minor: int, patch: int, prerelease: tuple[Identifier, ...] = ()) -> Version:
    """Build a Version from parts already known to be valid, skipping validation on the algebra's hot paths."""
    version = object.__new__(Version)
    object.__setattr__(version, "major", major)
    object.__setattr__(version, "minor", minor)
    object.__setattr__(version, "patch", patch)
    object.__setattr__(version, "prerelease", prerelease)
    object.__setattr__(version, "build", ())
    object.__setattr__(version, "_key", _precedence_key(major, minor, patch, prerelease))
    return version


def _from_match(match: re.Match[str]) -> Version:
    major, minor, patch, prerelease, build = match.groups()
    version = _make(
        int(major),
        int(minor),
        int(patch),
        () if prerelease is None else tuple(int(word) if word.isdigit() else word for word in prerelease.split(".")),
    )
    if build is not None:
        object.__setattr__(version, "build", tuple(build.split(".")))
    return version


_ZERO: Final = _make(0, 0, 0)
_LOWEST: Final = _make(0, 0, 0, (0,))


def _release_of(version: Version) -> Version:
    """The release a version is or is a prerelease of, without build metadata: the smallest release >= it."""
    return _make(version.major, version.minor, version.patch)


def _band_start(release: Version) -> Version:
    """The smallest prerelease of ``release``: every prerelease of it lies in ``[release-0, release)``."""
    return _make(release.major, release.minor, release.patch, (0,))


def _next_patch(version: Version) -> Version:
    return _make(version.major, version.minor, version.patch + 1)


def _successor(version: Version) -> Version:
    """The smallest version above ``version`` in the total order."""
    if version.prerelease:
        return _make(version.major, version.minor, version.patch, (*version.prerelease, 0))
    return _make(version.major, version.minor, version.patch + 1, (0,))


def _prerelease_ceiling(version: Version) -> Version:
    """The smallest prerelease at or above ``version``."""
    if version.prerelease:
        return _make(version.major, version.minor, version.patch, version.prerelease)
    return _make(version.major, version.minor, version.patch + 1, (0,))


# --- the scanner shared by versions and ranges --------------------------------------------------------------


@dataclass(slots=True)
class _Partial:
    """A possibly partial version as written in a range; ``None`` parts are wildcards or missing."""

    major: int | None
    minor: int | None
    patch: int | None
    prerelease: tuple[Identifier, ...] = ()

    def version(self) -> Version:
        assert self.major is not None and self.minor is not None and self.patch is not None
        return _make(self.major, self.minor, self.patch, self.prerelease)


class _Scanner:
    """A cursor over version or range text that raises :class:`ParseProblem` with absolute positions."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def found(self) -> str:
        char = self.peek()
        return f"found {char!r}" if char else "found end of text"

    def unexpected(self) -> ParseProblem:
        char = self.peek()
        return ParseProblem(f"unexpected {char!r}" if char else "unexpected end of text", self.pos)

    def skip_space(self) -> bool:
        start = self.pos
        while self.peek() in _SPACE:
            self.pos += 1
        return self.pos > start

    def number(self, part: str) -> int:
        start = self.pos
        while self.peek() in _DIGITS:
            self.pos += 1
        digits = self.text[start : self.pos]
        if not digits:
            raise ParseProblem(f"expected {part} number, {self.found()}", self.pos)
        if len(digits) > 1 and digits[0] == "0":
            raise ParseProblem(f"leading zero in {part}", start, located=False)
        return int(digits)

    def dot(self, after: str) -> None:
        if self.peek() != ".":
            raise ParseProblem(f"expected '.' after {after}, {self.found()}", self.pos)
        self.pos += 1

    def identifiers(self, kind: str) -> tuple[Identifier, ...]:
        """Dot-separated identifiers after a ``-`` (prerelease) or ``+`` (build)."""
        identifiers: list[Identifier] = []
        while True:
            start = self.pos
            while self.peek() in _IDENTIFIER_CHARS:
                self.pos += 1
            word = self.text[start : self.pos]
            if not word:
                raise ParseProblem(f"empty {kind} identifier", start)
            if kind == "prerelease" and word.isdigit():
                if len(word) > 1 and word[0] == "0":
                    raise ParseProblem(f"leading zero in prerelease identifier {word!r}", start, located=False)
                identifiers.append(int(word))
            else:
                identifiers.append(word)
            if self.peek() != ".":
                return tuple(identifiers)
            self.pos += 1

    def no_v_prefix(self) -> None:
        if self.peek() in "vV" and self.peek() and self.peek(1) in _DIGITS and self.peek(1):
            raise ParseProblem("a 'v' prefix is not allowed", self.pos)

    def version(self) -> Version:
        self.no_v_prefix()
        major = self.number("major")
        self.dot("major")
        minor = self.number("minor")
        self.dot("minor")
        patch = self.number("patch")
        prerelease, build = self.qualifiers()
        return Version(major, minor, patch, prerelease, build)

    def qualifiers(self) -> tuple[tuple[Identifier, ...], tuple[str, ...]]:
        """An optional ``-prerelease`` and then an optional ``+build``, each empty when absent."""
        prerelease: tuple[Identifier, ...] = ()
        build: tuple[str, ...] = ()
        if self.peek() == "-":
            self.pos += 1
            prerelease = self.identifiers("prerelease")
        if self.peek() == "+":
            self.pos += 1
            build = tuple(str(identifier) for identifier in self.identifiers("build"))
        return prerelease, build

    def partial(self) -> _Partial:
        """``xr ( . xr ( . xr qualifier? )? )?`` where ``xr`` is a number or one of ``x X *``."""
        self.no_v_prefix()
        if self.peek() not in _DIGITS and self.peek() not in _WILDCARDS:
            raise ParseProblem(f"expected a version, {self.found()}", self.pos)
        parts: list[int | None] = [self.part("major", wildcard_before=False)]
        for name in ("minor", "patch"):
            if self.peek() != ".":
                break
            self.pos += 1
            parts.append(self.part(name, wildcard_before=parts[-1] is None))
        major, minor, patch = (*parts, None, None)[:3]
        if self.peek() in "-+" and self.peek():
            if patch is None:
                raise ParseProblem("a prerelease or build needs a full major.minor.patch version", self.pos)
            prerelease, _ = self.qualifiers()
            return _Partial(major, minor, patch, prerelease)
        return _Partial(major, minor, patch)

    def part(self, name: str, *, wildcard_before: bool) -> int | None:
        if self.peek() in _WILDCARDS:
            self.pos += 1
            return None
        if wildcard_before:
            raise ParseProblem(f"expected a wildcard for {name} after a wildcard, {self.found()}", self.pos)
        return self.number(name)


# --- ranges: parsing and desugaring -------------------------------------------------------------------------

Comparator = tuple[str, Version]
_NOTHING: Final[list[Comparator]] = [("<", _LOWEST)]
_OPERATORS: Final = (">=", "<=", ">", "<", "=", "~", "^")


class _RangeParser(_Scanner):
    """Parses range text into comparator sets (lists of ``(op, version)``), desugared the way npm does."""

    __slots__ = ()

    def comparator_sets(self) -> list[list[Comparator]]:
        sets = [self.comparator_set()]
        while not self.at_end():
            self.pos += 2  # comparator_set stops only at the end or at "||"
            sets.append(self.comparator_set())
        return sets

    def at_or(self) -> bool:
        return self.text.startswith("||", self.pos)

    def comparator_set(self) -> list[Comparator]:
        comparators: list[Comparator] = []
        self.skip_space()
        first = True
        while not self.at_end() and not self.at_or():
            operator = self.operator()
            partial = self.partial()
            if first and not operator and self.hyphen_follows():
                comparators += self.hyphen(partial)
            else:
                comparators += _desugar(operator, partial)
            spaced = self.skip_space()
            if self.at_end() or self.at_or():
                break
            if not spaced:
                raise self.unexpected()
            first = False
        return comparators

    def operator(self) -> str:
        if self.text.startswith("~>", self.pos):
            raise ParseProblem("'~>' is not supported, use '~'", self.pos)
        for operator in _OPERATORS:
            if self.text.startswith(operator, self.pos):
                self.pos += len(operator)
                self.skip_space()
                return operator
        return ""

    def hyphen_follows(self) -> bool:
        """True, and positioned after ``" - "``, when a hyphen range continues here."""
        start = self.pos
        if self.skip_space() and self.peek() == "-" and self.peek(1) in _SPACE and self.peek(1):
            self.pos += 1
            self.skip_space()
            return True
        self.pos = start
        return False

    def hyphen(self, low: _Partial) -> list[Comparator]:
        if self.peek() in "<>=~^" and self.peek():
            raise ParseProblem("an operator cannot appear in a hyphen range", self.pos)
        high = self.partial()
        end = self.pos
        self.skip_space()
        if not self.at_end() and not self.at_or():
            raise ParseProblem("a hyphen range cannot be combined with other comparators", end)
        return _desugar_hyphen(low, high)


def _desugar(operator: str, partial: _Partial) -> list[Comparator]:
    if operator == "~":
        return _desugar_tilde(partial)
    if operator == "^":
        return _desugar_caret(partial)
    return _desugar_x_range(operator, partial)


def _desugar_x_range(operator: str, p: _Partial) -> list[Comparator]:
    if p.major is None:
        return list(_NOTHING) if operator in ("<", ">") else []
    if p.patch is not None:
        return [(operator or "=", p.version())]
    major, minor = p.major, p.minor
    if operator in ("", "="):
        if minor is None:
            return [(">=", _make(major, 0, 0)), ("<", _make(major + 1, 0, 0, (0,)))]
        return [(">=", _make(major, minor, 0)), ("<", _make(major, minor + 1, 0, (0,)))]
    if operator == ">":
        return [(">=", _make(major + 1, 0, 0) if minor is None else _make(major, minor + 1, 0))]
    if operator == "<=":
        return [("<", _make(major + 1, 0, 0, (0,)) if minor is None else _make(major, minor + 1, 0, (0,)))]
    if operator == "<":
        return [("<", _make(major, minor or 0, 0, (0,)))]
    return [(">=", _make(major, minor or 0, 0))]


def _desugar_tilde(p: _Partial) -> list[Comparator]:
    if p.major is None:
        return []
    if p.minor is None:
        return [(">=", _make(p.major, 0, 0)), ("<", _make(p.major + 1, 0, 0, (0,)))]
    upper = ("<", _make(p.major, p.minor + 1, 0, (0,)))
    if p.patch is None:
        return [(">=", _make(p.major, p.minor, 0)), upper]
    return [(">=", p.version()), upper]


def _desugar_caret(p: _Partial) -> list[Comparator]:
    if p.major is None:
        return []
    if p.minor is None:
        return [(">=", _make(p.major, 0, 0)), ("<", _make(p.major + 1, 0, 0, (0,)))]
    if p.patch is None:
        if p.major == 0:
            return [(">=", _make(0, p.minor, 0)), ("<", _make(0, p.minor + 1, 0, (0,)))]
        return [(">=", _make(p.major, p.minor, 0)), ("<", _make(p.major + 1, 0, 0, (0,)))]
    if p.major != 0:
        upper = _make(p.major + 1, 0, 0, (0,))
    elif p.minor != 0:
        upper = _make(0, p.minor + 1, 0, (0,))
    else:
        upper = _make(0, 0, p.patch + 1, (0,))
    return [(">=", p.version()), ("<", upper)]


def _desugar_hyphen(low: _Partial, high: _Partial) -> list[Comparator]:
    comparators: list[Comparator] = []
    if low.major is not None:
        comparators.append((">=", _make(low.major, low.minor or 0, low.patch or 0, low.prerelease)))
    if high.major is None:
        return comparators
    if high.minor is None:
        comparators.append(("<", _make(high.major + 1, 0, 0, (0,))))
    elif high.patch is None:
        comparators.append(("<", _make(high.major, high.minor + 1, 0, (0,))))
    else:
        comparators.append(("<=", high.version()))
    return comparators


# --- ranges: spans ------------------------------------------------------------------------------------------


def _normalise(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sort spans, drop empty ones, and merge those that overlap or touch."""
    ordered = sorted((span for span in spans if span[1] is None or span[0] < span[1]), key=lambda span: span[0])
    merged: list[Span] = []
    for low, high in ordered:
        if merged and (merged[-1][1] is None or low <= merged[-1][1]):
            previous_low, previous_high = merged[-1]
            merged[-1] = (previous_low, None if previous_high is None or high is None else max(previous_high, high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _high_at_most(a: Version | None, b: Version | None) -> bool:
    return b is None or (a is not None and a <= b)


def _intersect(a: tuple[Span, ...], b: tuple[Span, ...]) -> tuple[Span, ...]:
    result: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        low = max(a[i][0], b[j][0])
        high = a[i][1] if _high_at_most(a[i][1], b[j][1]) else b[j][1]
        if high is None or low < high:
            result.append((low, high))
        if _high_at_most(a[i][1], b[j][1]):
            i += 1
        else:
            j += 1
    return tuple(result)


def _complement(spans: tuple[Span, ...], bottom: Version) -> tuple[Span, ...]:
    result: list[Span] = []
    cursor: Version = bottom
    for low, high in spans:
        if cursor < low:
            result.append((cursor, low))
        if high is None:
            return tuple(result)
        cursor = high
    result.append((cursor, None))
    return tuple(result)


def _span_containing(spans: tuple[Span, ...], version: Version) -> Span | None:
    index = bisect_right(spans, version, key=lambda span: span[0]) - 1
    if index >= 0:
        span = spans[index]
        if span[1] is None or version < span[1]:
            return span
    return None


def _comparator_set_parts(comparators: list[Comparator]) -> tuple[Span, list[Span]]:
    """The release span and prerelease spans that npm's rule admits for one comparator set."""
    low: Version = _LOWEST
    high: Version | None = None
    opted_in: set[Version] = set()
    for operator, version in comparators:
        if operator in (">=", "="):
            low = max(low, version)
        elif operator == ">":
            low = max(low, _successor(version))
        if operator in ("<=", "="):
            bound = _successor(version)
            high = bound if high is None else min(high, bound)
        elif operator == "<":
            high = version if high is None else min(high, version)
        if version.prerelease:
            opted_in.add(_release_of(version))
    releases = (_release_of(low), None if high is None else _release_of(high))
    prereleases: list[Span] = []
    for release in opted_in:
        band_high = release if high is None else min(high, release)
        prereleases.append((_prerelease_ceiling(max(low, _band_start(release))), _prerelease_ceiling(band_high)))
    return releases, prereleases


# --- ranges -------------------------------------------------------------------------------------------------


class Range:
    """An immutable set of versions, as npm range syntax admits them; see the module docstring for the model.

    ``Range(releases=..., prereleases=...)`` builds a range from spans ``(low, high)`` meaning ``low <= v <
    high`` (``high`` ``None`` for unbounded); bounds are snapped to the canonical form. Most callers want
    :meth:`parse`, :meth:`any`, :meth:`empty` or :meth:`exact`.
    """

    __slots__ = ("_hash", "_prereleases", "_releases", "_text")

    _releases: tuple[Span, ...]
    _prereleases: tuple[Span, ...]
    _hash: int
    _text: str | None

    def __init__(self, releases: Iterable[Span] = (), prereleases: Iterable[Span] = ()) -> None:
        snapped_releases = []
        for low, high in _checked_spans(releases):
            snapped_releases.append((_release_of(low), None if high is None else _release_of(high)))
        snapped_prereleases = []
        for low, high in _checked_spans(prereleases):
            snapped_prereleases.append((_prerelease_ceiling(low), None if high is None else _prerelease_ceiling(high)))
        self._set(_normalise(snapped_releases), _normalise(snapped_prereleases))

    def _set(self, releases: tuple[Span, ...], prereleases: tuple[Span, ...]) -> None:
        object.__setattr__(self, "_releases", releases)
        object.__setattr__(self, "_prereleases", prereleases)
        object.__setattr__(self, "_hash", hash((releases, prereleases)))
        object.__setattr__(self, "_text", None)

    @classmethod
    def _canonical(cls, releases: tuple[Span, ...], prereleases: tuple[Span, ...]) -> Range:
        """Wrap spans that are already canonical (results of the algebra on canonical spans)."""
        result = object.__new__(cls)
        result._set(releases, prereleases)
        return result

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Range is immutable")

    def __reduce__(self) -> tuple[type[Range], tuple[tuple[Span, ...], tuple[Span, ...]]]:
        # Slots plus the __setattr__ guard defeat pickle's default; rebuilding through the constructor does not.
        return (Range, (self._releases, self._prereleases))

    # --- construction

    @classmethod
    def parse(cls, text: str) -> Range:
        """Parse npm range syntax, e.g. ``^1.2``, ``>=1 <2 || 3.x``, ``1.2.3 - 2``; ``""`` and ``*`` mean any."""
        if not isinstance(text, str):
            raise RangeError(f"a range must be a string, not {type(text).__name__}")
        parser = _RangeParser(text)
        try:
            if len(text) > MAX_RANGE_LENGTH:
                raise ParseProblem(f"longer than {MAX_RANGE_LENGTH} characters", MAX_RANGE_LENGTH)
            comparator_sets = parser.comparator_sets()
        except ParseProblem as problem:
            raise RangeError(f"invalid range {text!r}: {problem.reason} at {problem.position}") from problem
        releases: list[Span] = []
        prereleases: list[Span] = []
        for comparators in comparator_sets:
            release_span, prerelease_spans = _comparator_set_parts(comparators)
            releases.append(release_span)
            prereleases += prerelease_spans
        return cls._canonical(_normalise(releases), _normalise(prereleases))

    @classmethod
    def any(cls) -> Range:
        """``*``: every release and no prerelease (npm's meaning)."""
        return cls._canonical(((_ZERO, None),), ())

    @classmethod
    def empty(cls) -> Range:
        return cls._canonical((), ())

    @classmethod
    def exact(cls, version: Version) -> Range:
        """The range admitting ``version`` only (its build metadata is dropped)."""
        if not isinstance(version, Version):
            raise RangeError(f"Range.exact needs a Version, not {type(version).__name__}")
        if version.prerelease:
            low = _make(version.major, version.minor, version.patch, version.prerelease)
            return cls._canonical((), ((low, _successor(low)),))
        low = _release_of(version)
        return cls._canonical(((low, _next_patch(low)),), ())

    # --- the canonical representation

    @property
    def releases(self) -> tuple[Span, ...]:
        """Sorted disjoint spans ``[low, high)`` with release bounds: the releases admitted."""
        return self._releases

    @property
    def prereleases(self) -> tuple[Span, ...]:
        """Sorted disjoint spans ``[low, high)`` with prerelease bounds: the prereleases admitted."""
        return self._prereleases

    # --- membership

    def contains(self, version: Version, include_prerelease: bool = False) -> bool:
        """Whether ``version`` is admitted; ``include_prerelease`` widens the prerelease rule (module docstring)."""
        if not version.prerelease:
            return _span_containing(self._releases, version) is not None
        if _span_containing(self._prereleases, version) is not None:
            return True
        if not include_prerelease:
            return False
        release = _release_of(version)
        span = _span_containing(self._releases, release)
        return span is not None and (span[0] < release or span[0] == _ZERO)

    def __contains__(self, version: Version) -> bool:
        return self.contains(version)

    def max_satisfying(self, versions: Iterable[Version], include_prerelease: bool = False) -> Version | None:
        """The highest of ``versions`` this range admits, or None."""
        best: Version | None = None
        for version in versions:
            if (best is None or version > best) and self.contains(version, include_prerelease):
                best = version
        return best

    @property
    def exact_version(self) -> Version | None:
        """The one version this range admits, if it admits exactly one."""
        if not self._prereleases and len(self._releases) == 1:
            low, high = self._releases[0]
            if high is not None and high == _next_patch(low):
                return low
        if not self._releases and len(self._prereleases) == 1:
            low, high = self._prereleases[0]
            if high is not None and high == _successor(low):
                return low
        return None

    # --- algebra

    def intersect(self, other: Range) -> Range:
        return Range._canonical(
            _intersect(self._releases, other._releases), _intersect(self._prereleases, other._prereleases)
        )

    def union(self, other: Range) -> Range:
        return Range._canonical(
            _normalise(self._releases + other._releases), _normalise(self._prereleases + other._prereleases)
        )

    def complement(self) -> Range:
        """Every version this range does not admit, prereleases included."""
        return Range._canonical(_complement(self._releases, _ZERO), _complement(self._prereleases, _LOWEST))

    def difference(self, other: Range) -> Range:
        return self.intersect(other.complement())

    @property
    def is_empty(self) -> bool:
        return not self._releases and not self._prereleases

    @property
    def is_any(self) -> bool:
        """Every release is admitted (what ``*`` means); prereleases are not considered."""
        return self._releases == ((_ZERO, None),)

    def allows_all(self, other: Range) -> bool:
        """Every version ``other`` admits, this range admits too."""
        return other.difference(self).is_empty

    def allows_any(self, other: Range) -> bool:
        """Some version is admitted by both ranges."""
        return not self.intersect(other).is_empty

    # --- identity and text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._releases == other._releases and self._prereleases == other._prereleases

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = _format(self._releases, self._prereleases)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        return f"Range({str(self)!r})"


def _checked_spans(spans: Iterable[Span]) -> list[Span]:
    checked = []
    for span in spans:
        if (
            not isinstance(span, tuple)
            or len(span) != 2
            or not isinstance(span[0], Version)
            or not (span[1] is None or isinstance(span[1], Version))
        ):
            raise RangeError(f"a span must be a (Version, Version | None) pair, not {span!r}")
        checked.append(span)
    return checked


# --- ranges: printing ---------------------------------------------------------------------------------------


def _format(releases: tuple[Span, ...], prereleases: tuple[Span, ...]) -> str:
    """Normalised npm text for the two span lists (see the module docstring for the one exception)."""
    if not releases and not prereleases:
        return "<0.0.0-0"
    pieces, unprintable = _split_into_bands(prereleases)
    # A prerelease piece touching a release span joins its comparator set: a piece ending at release r
    # extends a span starting at r downwards; a piece starting at r-0 and ending on a prerelease extends a
    # span ending at r upwards (its prerelease upper bound keeps r's band opted in).
    ending_at = {high: (low, high) for low, high in pieces if not high.prerelease}
    starting_at = {_release_of(low): (low, high) for low, high in pieces if high.prerelease and low.prerelease == (0,)}
    sets: list[tuple[Version, str]] = []
    for low, high in releases:
        below = ending_at.pop(low, None)
        above = starting_at.pop(high, None) if high is not None else None
        if below is not None:
            pieces.remove(below)
        if above is not None:
            pieces.remove(above)
        if below is None and above is None and high is not None and high == _next_patch(low):
            sets.append((low, str(low)))
            continue
        lower = f">={below[0]}" if below is not None else ("" if low == _ZERO else f">={low}")
        upper = f"<{above[1]}" if above is not None else ("" if high is None else f"<{_band_start(high)}")
        sets.append((below[0] if below is not None else low, " ".join(part for part in (lower, upper) if part) or "*"))
    for low, high in pieces:
        sets.append((low, str(low) if high == _successor(low) else f">={low} <{high}"))
    for low, high in unprintable:
        sets.append((low, f"(prereleases >={low}" + ("" if high is None else f" <{high}") + ")"))
    sets.sort(key=lambda item: item[0])
    return " || ".join(text for _, text in sets)


def _split_into_bands(prereleases: tuple[Span, ...]) -> tuple[list[_BoundedSpan], list[Span]]:
    """Cut prerelease spans into pieces within one release's band each, ``[low, high)`` with ``high`` a
    prerelease of the same release or the release itself; spans over too many bands are returned apart."""
    pieces: list[_BoundedSpan] = []
    unprintable: list[Span] = []
    for low, high in prereleases:
        if high is None:
            unprintable.append((low, high))
            continue
        first, last = _release_of(low), _release_of(high)
        if (last.major, last.minor) != (first.major, first.minor) or last.patch - first.patch > _MAX_PRINTED_BANDS:
            unprintable.append((low, high))
            continue
        for patch in range(first.patch, last.patch + 1):
            release = _make(first.major, first.minor, patch)
            piece_low = max(low, _band_start(release))
            piece_high = min(high, release)
            if piece_low < piece_high:
                pieces.append((piece_low, piece_high))
    return pieces, unprintable


# --- selectors ----------------------------------------------------------------------------------------------


def parse_selector(text: str) -> Version | Range | str:
    """What may follow ``@`` in a DXN: an exact version, a range, or a tag like ``latest`` or ``beta``.

    A full version without an operator is a :class:`Version`; ``x`` is the any-range, not a tag, and like npm
    a tag may not look like a version with a ``v`` prefix (``v1`` is an error). Errors are
    :class:`RangeError` with a :class:`ParseProblem` as ``__cause__``.
    """
    if not isinstance(text, str):
        raise RangeError(f"a selector must be a string, not {type(text).__name__}")
    if not text:
        raise RangeError("invalid selector '': empty") from ParseProblem("empty selector", 0)
    looks_like_version = text[0] in "vV" and text[1:2].isdigit()
    if text != "x" and not looks_like_version and _TAG.fullmatch(text):
        return text
    first = text[0]
    if first.isascii() and first.isalpha() and first not in "xX" and not looks_like_version:
        problem = _tag_problem(text)
        raise RangeError(f"invalid tag {text!r}: {problem.reason} at {problem.position}") from problem
    if len(text) <= MAX_VERSION_LENGTH and (match := _STRICT_VERSION.fullmatch(text)):
        return _from_match(match)
    return Range.parse(text)


def _tag_problem(text: str) -> ParseProblem:
    for index, char in enumerate(text):
        if char.isascii() and char.isupper():
            return ParseProblem(f"tags are lowercase, found {char!r}", index)
        if char not in _TAG_CHARS:
            return ParseProblem(f"unexpected {char!r} in tag", index)
    return ParseProblem("a tag is at most 63 characters", 63)
