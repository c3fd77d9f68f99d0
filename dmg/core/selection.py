"""Which released version a selector picks, from ``(version, yanked)`` pairs alone.

The rules every registry and client share: an exact version matches even when it is yanked (a lockfile pins it
knowingly); a range and ``latest`` skip yanked versions, ``latest`` also prereleases. The listing rule
(:func:`listed_version`) is what a search or module page shows: ``latest`` if there is one, else the highest of
all. The data comes from the caller (the store's index, or a client's replay of the signed logs), so both sides
select by exactly the same code.
"""

from __future__ import annotations

from collections.abc import Iterable

from dmg.core.errors import NotFoundError
from dmg.core.semver import Range, Version

Selector = Version | Range | str | None
"""An exact version, a range, a tag (only ``latest`` is defined) or None (the same as ``latest``)."""


def select_version(candidates: Iterable[tuple[Version, bool]], selector: Selector) -> Version | None:
    """The version ``selector`` picks among ``(version, yanked)`` pairs; None when it picks none."""
    pairs = list(candidates)
    if isinstance(selector, Version):
        return selector if any(version == selector for version, _ in pairs) else None
    usable = [version for version, yanked in pairs if not yanked]
    if selector is None or selector == "latest":
        stable = [version for version in usable if not version.is_prerelease]
        return max(stable) if stable else None
    if isinstance(selector, Range):
        return selector.max_satisfying(usable)
    raise NotFoundError(f"unknown tag {selector!r}: only 'latest' is defined")


def listed_version(candidates: Iterable[tuple[Version, bool]]) -> Version | None:
    """The version a listing shows: ``latest`` if there is one, else the highest (all yanked or prerelease)."""
    pairs = list(candidates)
    return select_version(pairs, None) or max((version for version, _ in pairs), default=None)
