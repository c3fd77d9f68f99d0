"""DXN names: ``[dxn:]<authority>/<kind>/<name...>[@<version|range|tag>]``.

A DXN names a module in a namespace, e.g. ``org.dxos/function/universal-indexer@^1.2``:

- the authority is reverse DNS: dot-separated segments of 1–63 characters of ``[a-z0-9-]`` without a leading
  or trailing ``-``, at most 253 characters in all; it is case-insensitive and normalised to lowercase;
- the path has at least two segments: the kind (``function``, ``type``, ``app``, ``service``, ``api``, ... an
  open set) and one or more name segments, each 1–63 characters of ``[a-z0-9-]`` without a leading or trailing
  ``-``; names are lowercase and an uppercase letter is an error, not something to normalise;
- the optional selector after ``@`` is a version, an npm range or a tag, as :func:`parse_selector` reads it.

This module parses, validates and prints names. It does not resolve selectors against releases (that is the
resolver's and the store's job). The selector keeps the text it was written with; it is checked when the DXN
is built and parsed again by :meth:`DXN.version_selector` on demand.

Every error is a :class:`DXNError` shaped ``invalid DXN '<text>': <what> at <offset>``, the offset being the
0-based index in the text where the problem is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from dmg.core.errors import DXNError, RangeError
from dmg.core.semver import ParseProblem, Range, Version, parse_selector

SCHEME: Final = "dxn"
MAX_SEGMENT_LENGTH: Final = 63
MAX_AUTHORITY_LENGTH: Final = 253

_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class _Problem(Exception):
    def __init__(self, reason: str, position: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


@dataclass(frozen=True, slots=True, repr=False)
class DXN:
    """A validated DXN. ``str(dxn)`` is the canonical form, without the ``dxn:`` prefix."""

    authority: str
    path: tuple[str, ...]
    selector: str | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.authority, str):
            raise DXNError(f"invalid DXN: authority must be a string, not {type(self.authority).__name__}")
        if not isinstance(self.path, tuple | list) or not all(isinstance(segment, str) for segment in self.path):
            raise DXNError(f"invalid DXN: path must be a tuple of strings, not {self.path!r}")
        if self.selector is not None and not isinstance(self.selector, str):
            raise DXNError(f"invalid DXN: selector must be a string or None, not {type(self.selector).__name__}")
        object.__setattr__(self, "path", tuple(self.path))
        text = _join(self.authority, self.path, self.selector)
        try:
            authority = _check_authority(text, 0, len(self.authority))
            offset = len(self.authority) + 1
            for segment in self.path:
                _check_path_segment(text, offset, offset + len(segment))
                offset += len(segment) + 1
            if len(self.path) < 2:
                raise _Problem("missing name" if self.path else "missing path", offset - 1)
            if self.selector is not None:
                _check_selector(text, offset)
        except _Problem as problem:
            raise DXNError(f"invalid DXN {text!r}: {problem.reason} at {problem.position}") from None
        object.__setattr__(self, "authority", authority)

    @classmethod
    def parse(cls, text: str) -> DXN:
        """Parse ``[dxn:]authority/kind/name...[@selector]``; the authority may be in any case."""
        if not isinstance(text, str):
            raise DXNError(f"a DXN must be a string, not {type(text).__name__}")
        try:
            authority, path, selector = _parse(text)
        except _Problem as problem:
            raise DXNError(f"invalid DXN {text!r}: {problem.reason} at {problem.position}") from None
        return cls._trusted(authority, path, selector)

    @classmethod
    def _trusted(cls, authority: str, path: tuple[str, ...], selector: str | None) -> DXN:
        """Build from parts :func:`_parse` has already validated, so parsing does not validate twice."""
        dxn = object.__new__(cls)
        object.__setattr__(dxn, "authority", authority)
        object.__setattr__(dxn, "path", path)
        object.__setattr__(dxn, "selector", selector)
        return dxn

    @property
    def kind(self) -> str:
        return self.path[0]

    @property
    def name(self) -> str:
        """The path after the kind, joined by ``/``."""
        return "/".join(self.path[1:])

    @property
    def namespace(self) -> str:
        return self.authority

    @property
    def base(self) -> DXN:
        """This DXN without its selector."""
        return self if self.selector is None else DXN._trusted(self.authority, self.path, None)

    def with_selector(self, selector: str | Version | Range | None) -> DXN:
        """This DXN with ``selector`` (text, a version or a range) after ``@``, or with none."""
        if selector is None:
            return self.base
        if isinstance(selector, Version | Range):
            selector = str(selector)
        return DXN(self.authority, self.path, selector)

    def version_selector(self) -> Version | Range | str | None:
        """The selector parsed: a :class:`Version`, a :class:`Range`, a tag, or None when there is none."""
        return None if self.selector is None else parse_selector(self.selector)

    def __str__(self) -> str:
        return _join(self.authority, self.path, self.selector)

    def __repr__(self) -> str:
        return f"DXN({str(self)!r})"


def is_authority(name: str) -> bool:
    """Whether ``name`` is a DXN authority (a namespace such as ``com.example``) written in its canonical lowercase."""
    try:
        return DXN(name, ("kind", "name")).authority == name
    except DXNError:
        return False


def _join(authority: str, path: tuple[str, ...], selector: str | None) -> str:
    text = authority + "/" + "/".join(path)
    return text if selector is None else f"{text}@{selector}"


def _parse(text: str) -> tuple[str, tuple[str, ...], str | None]:
    if not text:
        raise _Problem("empty input", 0)
    start = _skip_scheme(text)
    at = text.find("@", start)
    end = len(text) if at == -1 else at
    slash = text.find("/", start, end)
    if slash == -1:
        _check_authority(text, start, end)
        raise _Problem("missing path", end)
    authority = _check_authority(text, start, slash)
    path = []
    segment_start = slash + 1
    while True:
        segment_end = text.find("/", segment_start, end)
        if segment_end == -1:
            segment_end = end
        path.append(_check_path_segment(text, segment_start, segment_end))
        if segment_end == end:
            break
        segment_start = segment_end + 1
    if len(path) < 2:
        raise _Problem("missing name", end)
    selector = None if at == -1 else _check_selector(text, at + 1)
    return authority, tuple(path), selector


def _skip_scheme(text: str) -> int:
    """Index after a ``dxn:`` prefix (in any case), 0 without one; any other scheme is an error."""
    colon = text.find(":")
    if colon == -1:
        return 0
    before_colon = text[:colon]
    if "/" in before_colon or "@" in before_colon:
        return 0
    if before_colon.lower() != SCHEME:
        raise _Problem(f"unknown scheme {before_colon + ':'!r}", 0)
    return colon + 1


def _check_authority(text: str, start: int, end: int) -> str:
    if start == end:
        raise _Problem("empty authority", start)
    segment_start = start
    for index in range(start, end + 1):
        if index == end or text[index] == ".":
            _check_segment(text, segment_start, index, "authority segment", lowercase_only=False)
            segment_start = index + 1
    if end - start > MAX_AUTHORITY_LENGTH:
        raise _Problem(f"authority longer than {MAX_AUTHORITY_LENGTH} characters", start)
    return text[start:end].lower()


def _check_path_segment(text: str, start: int, end: int) -> str:
    _check_segment(text, start, end, "path segment", lowercase_only=True)
    return text[start:end]


def _check_segment(text: str, start: int, end: int, what: str, *, lowercase_only: bool) -> None:
    if start == end:
        raise _Problem(f"empty {what}", start)
    if text[start] == "-":
        raise _Problem(f"{what} starts with '-'", start)
    for index in range(start, end):
        char = text[index]
        if char in _LOWER:
            continue
        if char in _UPPER:
            if lowercase_only:
                raise _Problem(f"uppercase {char!r} in path, names are lowercase", index)
            continue
        raise _Problem(f"invalid character {char!r}", index)
    if text[end - 1] == "-":
        raise _Problem(f"{what} ends with '-'", end - 1)
    if end - start > MAX_SEGMENT_LENGTH:
        raise _Problem(f"{what} longer than {MAX_SEGMENT_LENGTH} characters", start)


def _check_selector(text: str, start: int) -> str:
    selector = text[start:]
    if not selector:
        raise _Problem("empty selector", start)
    # A range may be padded with whitespace, but a name carrying it would print and compare unexpectedly.
    if selector[0].isspace():
        raise _Problem("whitespace before selector", start)
    if selector[-1].isspace():
        raise _Problem("whitespace after selector", start + len(selector) - 1)
    try:
        parse_selector(selector)
    except RangeError as error:
        cause = error.__cause__
        if isinstance(cause, ParseProblem):
            raise _Problem(f"bad selector, {cause.reason}", start + cause.position) from None
        raise _Problem(f"bad selector, {error}", start) from None
    return selector
