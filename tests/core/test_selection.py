"""Version selection over (version, yanked) pairs: the rules registries and clients share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmg.core.errors import NotFoundError
from dmg.core.selection import listed_version, select_version
from dmg.core.semver import Range, Version

V = Version.parse
RELEASED = [(V("1.0.0"), False), (V("1.1.0"), True), (V("1.2.0-beta.1"), False), (V("0.9.0"), False)]


def test_an_exact_version_matches_even_when_yanked() -> None:
    assert select_version(RELEASED, V("1.1.0")) == V("1.1.0")
    assert select_version(RELEASED, V("2.0.0")) is None


def test_latest_skips_yanked_and_prereleases() -> None:
    assert select_version(RELEASED, None) == V("1.0.0")
    assert select_version(RELEASED, "latest") == V("1.0.0")


def test_a_range_skips_yanked_versions() -> None:
    assert select_version(RELEASED, Range.parse("^1")) == V("1.0.0")
    assert select_version(RELEASED, Range.parse(">=2")) is None


def test_an_unknown_tag_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="only 'latest'"):
        select_version(RELEASED, "stable")


def test_listing_falls_back_to_the_highest_when_nothing_is_latest() -> None:
    assert listed_version(RELEASED) == V("1.0.0")
    assert listed_version([(V("1.0.0"), True), (V("2.0.0-rc.1"), False)]) == V("2.0.0-rc.1")
    assert listed_version([]) is None


versions = st.builds(lambda major, minor, patch: V(f"{major}.{minor}.{patch}"), *[st.integers(0, 5)] * 3)


@given(st.dictionaries(versions, st.booleans(), max_size=12))
def test_latest_is_the_highest_unyanked(released: dict[Version, bool]) -> None:
    usable = [version for version, yanked in released.items() if not yanked]
    assert select_version(released.items(), None) == (max(usable) if usable else None)
