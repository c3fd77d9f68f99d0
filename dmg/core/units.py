"""Sizes and durations as people write them (``32MiB``, ``16MB``, ``5s``) and as DMG prints them.

Parsing accepts a non-negative integer (bytes, or milliseconds) or a number with a unit; a malformed value raises
:class:`~dmg.core.errors.UnitError` naming the setting it came from, so the manifest, the orchestrator's policy and
its settings each report it in their own terms. Formatting is exact and keeps the unit family a value was written
in: a whole number of binary units prints as ``KiB``/``MiB``/``GiB``, of decimal ones as ``kB``/``MB``/``GB``
(``16MB`` stays ``16 MB``, not ``15625 KiB``), anything else in bytes.
"""

from __future__ import annotations

import re
from typing import Any, Final

from dmg.core.errors import UnitError

KiB: Final = 1 << 10
MiB: Final = 1 << 20
GiB: Final = 1 << 30

_SIZE_UNITS: Final = {
    "": 1,
    "b": 1,
    "kib": KiB,
    "mib": MiB,
    "gib": GiB,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
}
_DURATION_UNITS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_SIZE: Final = re.compile(r"\s*([0-9]+)\s*([a-zA-Z]*)\s*\Z")
_DURATION: Final = re.compile(r"\s*([0-9]+)\s*(ms|s|m|h)\s*\Z")
_MAX_TEXT: Final = 64
"""Longer texts are not sizes or durations; they are refused before any regular expression reads them."""

_PRINTED_SIZES: Final = (("GiB", GiB), ("MiB", MiB), ("KiB", KiB), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else f"{text[:_MAX_TEXT]}..."


def parse_size(value: Any, key: str) -> int:
    """``32MiB`` → 33554432, ``16MB`` → 16000000; a bare integer is bytes."""
    count = _count(value)
    if count is not None:
        return count
    match = _SIZE.match(value) if isinstance(value, str) and len(value) <= _MAX_TEXT else None
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise UnitError(f"{key}: {_quoted(value)} is not a size (use e.g. 512KiB, 32MiB, 1GiB)")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def parse_duration(value: Any, key: str) -> int:
    """``5s`` → 5000 milliseconds; a bare integer is milliseconds."""
    count = _count(value)
    if count is not None:
        return count
    match = _DURATION.match(value) if isinstance(value, str) and len(value) <= _MAX_TEXT else None
    if not match:
        raise UnitError(f"{key}: {_quoted(value)} is not a duration (use e.g. 500ms, 5s, 2m)")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


def format_size(size: int) -> str:
    """``67108864`` → ``64 MiB``, ``16000000`` → ``16 MB``; sizes that are no whole unit stay in bytes."""
    # The unit that gives the smallest whole number is the one the size was written in: 16 MB, not 15625 KiB.
    whole = [(size // scale, unit) for unit, scale in _PRINTED_SIZES if size >= scale and size % scale == 0]
    number, unit = min(whole, default=(size, "B"))
    return f"{number} {unit}"


def format_duration(milliseconds: int) -> str:
    """``5000`` → ``5 s``, ``1500`` → ``1500 ms``: exact, as a policy or a limit was written."""
    return f"{milliseconds // 1000} s" if milliseconds % 1000 == 0 else f"{milliseconds} ms"


def format_age(milliseconds: int) -> str:
    """A coarse span for people (``3 days``, ``5 hours``, ``42 seconds``), rounded down: how old a checkpoint is."""
    seconds = milliseconds // 1000
    for unit, span in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * span:
            return f"{seconds // span} {unit}"
    return f"{seconds} seconds"
