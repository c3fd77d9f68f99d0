"""Tests for dmg.core.semver: SemVer 2.0 versions, npm ranges, prerelease rules, the set algebra, selectors.

Range tables follow the semantics of node-semver's own fixtures (range-parse, range-include, range-exclude,
range-intersection, subset), restricted to strict mode.
"""

from __future__ import annotations

import copy
import functools
import itertools
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmg.core.errors import RangeError, VersionError
from dmg.core.semver import ParseProblem, Range, Version, parse_selector

V = Version.parse
R = Range.parse

# --- versions: parsing and printing -------------------------------------------------------------------------

VALID_VERSIONS = [
    ("0.0.0", (0, 0, 0, (), ())),
    ("1.2.3", (1, 2, 3, (), ())),
    ("10.20.30", (10, 20, 30, (), ())),
    ("1.0.0-alpha", (1, 0, 0, ("alpha",), ())),
    ("1.0.0-alpha.1", (1, 0, 0, ("alpha", 1), ())),
    ("1.0.0-0.3.7", (1, 0, 0, (0, 3, 7), ())),
    ("1.0.0-x.7.z.92", (1, 0, 0, ("x", 7, "z", 92), ())),
    ("1.0.0-x-y-z.--", (1, 0, 0, ("x-y-z", "--"), ())),
    ("1.0.0-0a", (1, 0, 0, ("0a",), ())),
    ("1.0.0+20130313144700", (1, 0, 0, (), ("20130313144700",))),
    ("1.0.0-beta+exp.sha.5114f85", (1, 0, 0, ("beta",), ("exp", "sha", "5114f85"))),
    ("1.0.0+21AF26D3----117B344092BD", (1, 0, 0, (), ("21AF26D3----117B344092BD",))),
    ("1.0.0+001", (1, 0, 0, (), ("001",))),
    ("99999999999999999999.0.0", (99999999999999999999, 0, 0, (), ())),
]


@pytest.mark.parametrize(("text", "parts"), VALID_VERSIONS)
def test_version_parses_and_prints_back(text: str, parts: tuple) -> None:
    version = V(text)
    assert (version.major, version.minor, version.patch, version.prerelease, version.build) == parts
    assert str(version) == text
    assert version.is_prerelease == bool(parts[3])


INVALID_VERSIONS = [
    ("", "invalid version '': expected major number, found end of text at 0"),
    ("01.2.3", "invalid version '01.2.3': leading zero in major"),
    ("1.02.3", "invalid version '1.02.3': leading zero in minor"),
    ("1.2.03", "invalid version '1.2.03': leading zero in patch"),
    ("1.2", "invalid version '1.2': expected '.' after minor, found end of text at 3"),
    ("1", "invalid version '1': expected '.' after major, found end of text at 1"),
    ("1.2.3.4", "invalid version '1.2.3.4': unexpected '.' at 5"),
    ("v1.2.3", "invalid version 'v1.2.3': a 'v' prefix is not allowed at 0"),
    ("=1.2.3", "invalid version '=1.2.3': expected major number, found '=' at 0"),
    (" 1.2.3", "invalid version ' 1.2.3': expected major number, found ' ' at 0"),
    ("1.2.3 ", "invalid version '1.2.3 ': unexpected ' ' at 5"),
    ("1.2.3-", "invalid version '1.2.3-': empty prerelease identifier at 6"),
    ("1.2.3-a..b", "invalid version '1.2.3-a..b': empty prerelease identifier at 8"),
    ("1.2.3-01", "invalid version '1.2.3-01': leading zero in prerelease identifier '01'"),
    ("1.2.3-a.00", "invalid version '1.2.3-a.00': leading zero in prerelease identifier '00'"),
    ("1.2.3+", "invalid version '1.2.3+': empty build identifier at 6"),
    ("1.2.3+a+b", "invalid version '1.2.3+a+b': unexpected '+' at 7"),
    ("1.2.3-a_b", "invalid version '1.2.3-a_b': unexpected '_' at 7"),
    ("1.x.3", "invalid version '1.x.3': expected minor number, found 'x' at 2"),
    ("hello, world", "invalid version 'hello, world': expected major number, found 'h' at 0"),
    ("1.2.3-é", "invalid version '1.2.3-é': empty prerelease identifier at 6"),
]


@pytest.mark.parametrize(("text", "message"), INVALID_VERSIONS)
def test_invalid_version_is_rejected_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(VersionError) as raised:
        V(text)
    assert str(raised.value) == message
    assert isinstance(raised.value.__cause__, ParseProblem)


def test_version_text_has_a_length_limit() -> None:
    with pytest.raises(VersionError, match="longer than 256 characters"):
        V("1" * 255 + ".0.0")


@pytest.mark.parametrize("value", [None, 1, b"1.2.3"])
def test_version_parse_needs_a_string(value: object) -> None:
    with pytest.raises(VersionError, match="a version must be a string"):
        V(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0, 0), "major must be a non-negative int, not -1"),
        ((1, True, 0), "minor must be a non-negative int, not True"),
        ((1, 0, "3"), "patch must be a non-negative int, not '3'"),
        ((1, 0, 0, ("12",)), "prerelease identifier '12' must be a non-negative int"),
        ((1, 0, 0, ("",)), "prerelease identifier '' must be"),
        ((1, 0, 0, (-1,)), "prerelease identifier -1 must be"),
        ((1, 0, 0, (), ("a b",)), "build identifier 'a b' must be"),
        ((1, 0, 0, ["a"]), "prerelease and build must be tuples"),
    ],
)
def test_version_constructor_validates(args: tuple, message: str) -> None:
    with pytest.raises(VersionError, match=message):
        Version(*args)


def test_version_is_frozen() -> None:
    with pytest.raises(AttributeError):
        V("1.2.3").major = 2  # type: ignore[misc]


# --- versions: precedence -----------------------------------------------------------------------------------

SPEC_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


@pytest.mark.parametrize(("lower", "higher"), list(itertools.pairwise(SPEC_CHAIN)))
def test_semver_spec_precedence_chain(lower: str, higher: str) -> None:
    assert V(lower) < V(higher)
    assert V(higher) > V(lower)
    assert V(lower) <= V(higher) and V(lower) != V(higher)


GREATER_THAN = [
    ("0.0.0", "0.0.0-foo"),
    ("0.0.1", "0.0.0"),
    ("1.0.0", "0.9.9"),
    ("0.10.0", "0.9.0"),
    ("0.99.0", "0.10.0"),
    ("2.0.0", "1.2.3"),
    ("1.2.3", "1.2.3-asdf"),
    ("1.2.3", "1.2.3-4"),
    ("1.2.3", "1.2.3-4-foo"),
    ("1.2.3-5-foo", "1.2.3-5"),
    ("1.2.3-5", "1.2.3-4"),
    ("1.2.3-5-foo", "1.2.3-5-Foo"),
    ("3.0.0", "2.7.2+asdf"),
    ("1.2.3-a.10", "1.2.3-a.5"),
    ("1.2.3-a.b", "1.2.3-a.5"),
    ("1.2.3-a.b", "1.2.3-a"),
    ("1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"),
    ("1.2.3-r2", "1.2.3-r100"),
    ("1.2.3-r100", "1.2.3-R2"),
    ("1.2.3-a", "1.2.3-999"),
    ("1.2.3-0.0", "1.2.3-0"),
    ("1.2.4-0", "1.2.3"),
]


@pytest.mark.parametrize(("greater", "lesser"), GREATER_THAN)
def test_precedence_follows_node_semver_comparisons(greater: str, lesser: str) -> None:
    assert V(greater) > V(lesser)
    assert V(lesser) < V(greater)
    assert not V(greater) <= V(lesser)
    assert not V(lesser) >= V(greater)
    assert V(greater) != V(lesser)


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0.0+a", "1.0.0+b"), ("1.0.0", "1.0.0+build.1"), ("1.0.0-rc.1+x", "1.0.0-rc.1"), ("0.0.0+0", "0.0.0")],
)
def test_build_metadata_is_ignored_by_equality_ordering_and_hash(a: str, b: str) -> None:
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))
    assert V(a) <= V(b) and V(a) >= V(b)
    assert str(V(a)) == a


def test_versions_do_not_equal_other_types() -> None:
    assert V("1.0.0") != "1.0.0"
    with pytest.raises(TypeError):
        _ = V("1.0.0") < "1.0.0"  # type: ignore[operator]


# --- ranges: desugaring and normal form ---------------------------------------------------------------------

NORMAL_FORMS = [
    ("1.0.0 - 2.0.0", ">=1.0.0 <2.0.1-0"),
    ("1 - 2", ">=1.0.0 <3.0.0-0"),
    ("1.0 - 2.0", ">=1.0.0 <2.1.0-0"),
    ("1.2 - 3.4.5", ">=1.2.0 <3.4.6-0"),
    ("1.2.3 - 3.4", ">=1.2.3 <3.5.0-0"),
    ("1.2.3 - 2.3.4", ">=1.2.3 <2.3.5-0"),
    ("x - 1.0.0", "<1.0.1-0"),
    ("1.0.0 - x", ">=1.0.0"),
    ("1.2.3-pre - 2.4.3-pre", ">=1.2.3-pre <2.4.3-pre.0"),
    ("1.0.0", "1.0.0"),
    ("=1.0.0", "1.0.0"),
    ("1.0.0+build", "1.0.0"),
    (">=*", "*"),
    ("", "*"),
    ("*", "*"),
    ("x", "*"),
    ("X", "*"),
    ("||", "*"),
    (">=1.0.0", ">=1.0.0"),
    (">1.0.0", ">=1.0.1"),
    ("<=2.0.0", "<2.0.1-0"),
    ("<2.0.0", "<2.0.0-0"),
    (">= 1.0.0", ">=1.0.0"),
    (">=\t 1.0.0", ">=1.0.0"),
    ("<\t2.0.0", "<2.0.0-0"),
    ("0.1.20 || 1.2.4", "0.1.20 || 1.2.4"),
    (">=0.2.3 || <0.0.1", "0.0.0 || >=0.2.3"),
    ("1.2.3||2.3.4", "1.2.3 || 2.3.4"),
    ("2.x.x", ">=2.0.0 <3.0.0-0"),
    ("1.2.x", ">=1.2.0 <1.3.0-0"),
    ("1.2.x || 2.x", ">=1.2.0 <1.3.0-0 || >=2.0.0 <3.0.0-0"),
    ("2.*.*", ">=2.0.0 <3.0.0-0"),
    ("1.2.* || 2.*", ">=1.2.0 <1.3.0-0 || >=2.0.0 <3.0.0-0"),
    ("2", ">=2.0.0 <3.0.0-0"),
    ("2.3", ">=2.3.0 <2.4.0-0"),
    ("~2.4", ">=2.4.0 <2.5.0-0"),
    ("~1", ">=1.0.0 <2.0.0-0"),
    ("~ 1.0", ">=1.0.0 <1.1.0-0"),
    ("~1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
    ("~0.0.1", ">=0.0.1 <0.1.0-0"),
    ("~x", "*"),
    ("^0", "<1.0.0-0"),
    ("^ 1", ">=1.0.0 <2.0.0-0"),
    ("^0.1", ">=0.1.0 <0.2.0-0"),
    ("^0.2", ">=0.2.0 <0.3.0-0"),
    ("^0.0", "<0.1.0-0"),
    ("^1.0", ">=1.0.0 <2.0.0-0"),
    ("^1.2", ">=1.2.0 <2.0.0-0"),
    ("^0.0.1", "0.0.1"),
    ("^0.0.3", "0.0.3"),
    ("^0.0.1-beta", ">=0.0.1-beta <0.0.2-0"),
    ("^0.1.2", ">=0.1.2 <0.2.0-0"),
    ("^0.1.2-rc.1", ">=0.1.2-rc.1 <0.2.0-0"),
    ("^1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^1.2.3+build", ">=1.2.3 <2.0.0-0"),
    ("^1.2.3-beta.4", ">=1.2.3-beta.4 <2.0.0-0"),
    ("^x", "*"),
    ("<1", "<1.0.0-0"),
    ("< 1", "<1.0.0-0"),
    (">=1", ">=1.0.0"),
    ("<1.2", "<1.2.0-0"),
    ("<=1.2", "<1.3.0-0"),
    ("<=1", "<2.0.0-0"),
    ("<=7.x", "<8.0.0-0"),
    (">1", ">=2.0.0"),
    (">1.2", ">=1.3.0"),
    (">1.2.x", ">=1.3.0"),
    ("=1.2", ">=1.2.0 <1.3.0-0"),
    ("=0.7.x", ">=0.7.0 <0.8.0-0"),
    (">=0.7.x", ">=0.7.0"),
    (">X", "<0.0.0-0"),
    ("<X", "<0.0.0-0"),
    ("<x <* || >* 2.x", "<0.0.0-0"),
    (">x 2.x || * || <x", "*"),
    ("^ 1.2 ^ 1", ">=1.2.0 <2.0.0-0"),
    ("~1.2.1 >=1.2.3", ">=1.2.3 <1.3.0-0"),
    (">=1.2.3 <1.0.0", "<0.0.0-0"),
    ("1.2.3 1.2.4", "<0.0.0-0"),
    ("1.2.3-beta", "1.2.3-beta"),
    ("=1.2.3-beta", "1.2.3-beta"),
    (">=1.2.3-beta <2.0.0", ">=1.2.3-beta <2.0.0-0"),
    (">=1.0.0 <2.0.0-beta", ">=1.0.0 <2.0.0-beta"),
    ("<=1.2.3-beta", "<1.2.3-beta.0"),
    (">1.2.3-beta <1.2.3-rc", ">=1.2.3-beta.0 <1.2.3-rc"),
    ("1.2.3-a || 1.2.3-b || >=1.2.3 <1.2.4-0 || 1.2.4-a", "1.2.3-a || 1.2.3-b || 1.2.3 || 1.2.4-a"),
    (">=1.2.3-0 <1.2.3 || >=1.2.4-0 <1.2.4", ">=1.2.3-0 <1.2.3 || >=1.2.4-0 <1.2.4"),
    (">=1.0.0 <1.2.0 || >=1.1.0 <2.0.0", ">=1.0.0 <2.0.0-0"),
    (">=1.0.0 <1.2.0 || 1.2.0", ">=1.0.0 <1.2.1-0"),
    ("<1.0.0 || >=1.0.0", "*"),
]


@pytest.mark.parametrize(("text", "normal"), NORMAL_FORMS)
def test_range_desugars_to_npm_normal_form(text: str, normal: str) -> None:
    parsed = R(text)
    assert str(parsed) == normal
    assert R(normal) == parsed
    assert str(R(normal)) == normal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("^1.2.3", ">=1.2.3 <2.0.0"),
        ("^0.0.3", ">=0.0.3 <0.0.4"),
        ("~1", ">=1.0.0 <2.0.0"),
        ("<=1.2", "<1.3.0"),
        (">1.2.3", ">=1.2.4"),
        ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
        ("*", ">=0.0.0"),
    ],
)
def test_ranges_differing_only_outside_the_default_prerelease_rule_are_equal(a: str, b: str) -> None:
    assert R(a) == R(b)
    assert hash(R(a)) == hash(R(b))


# --- ranges: membership -------------------------------------------------------------------------------------

INCLUDES = [
    ("1.0.0 - 2.0.0", "1.2.3"),
    ("^1.2.3+build", "1.2.3"),
    ("^1.2.3+build", "1.3.0"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"),
    ("1.2.3+asdf - 2.4.3+asdf", "1.2.3"),
    ("1.0.0", "1.0.0"),
    ("1.0.0", "1.0.0+build"),
    (">=*", "0.2.4"),
    ("", "1.0.0"),
    ("*", "1.2.3"),
    (">=1.0.0", "1.0.0"),
    (">=1.0.0", "1.0.1"),
    (">=1.0.0", "1.1.0"),
    (">1.0.0", "1.0.1"),
    (">1.0.0", "1.1.0"),
    ("<=2.0.0", "2.0.0"),
    ("<=2.0.0", "1.9999.9999"),
    ("<=2.0.0", "0.2.9"),
    ("<2.0.0", "1.9999.9999"),
    ("<2.0.0", "0.2.9"),
    (">= 1.0.0", "1.0.0"),
    ("<\t2.0.0", "0.2.9"),
    (">=0.1.97", "0.1.97"),
    ("0.1.20 || 1.2.4", "1.2.4"),
    (">=0.2.3 || <0.0.1", "0.0.0"),
    (">=0.2.3 || <0.0.1", "0.2.3"),
    (">=0.2.3 || <0.0.1", "0.2.4"),
    ("||", "1.3.4"),
    ("2.x.x", "2.1.3"),
    ("1.2.x", "1.2.3"),
    ("1.2.x || 2.x", "2.1.3"),
    ("1.2.x || 2.x", "1.2.3"),
    ("x", "1.2.3"),
    ("2.*.*", "2.1.3"),
    ("1.2.*", "1.2.3"),
    ("2", "2.1.2"),
    ("2.3", "2.3.1"),
    ("~0.0.1", "0.0.1"),
    ("~0.0.1", "0.0.2"),
    ("~x", "0.0.9"),
    ("~2", "2.0.9"),
    ("~2.4", "2.4.0"),
    ("~2.4", "2.4.5"),
    ("~1", "1.2.3"),
    ("~1.0", "1.0.2"),
    ("~ 1.0.3", "1.0.12"),
    (">=1", "1.0.0"),
    ("<1.2", "1.1.1"),
    ("~0.5.4-pre", "0.5.5"),
    ("~0.5.4-pre", "0.5.4"),
    ("~0.5.4-pre", "0.5.4-pre.1"),
    ("=0.7.x", "0.7.2"),
    ("<=0.7.x", "0.7.2"),
    (">=0.7.x", "0.7.2"),
    ("<=0.7.x", "0.6.2"),
    ("~1.2.1 >=1.2.3", "1.2.3"),
    ("~1.2.1 =1.2.3", "1.2.3"),
    ("~1.2.1 1.2.3", "1.2.3"),
    ("~1.2.1 >=1.2.3 1.2.3", "1.2.3"),
    (">=1.2.1 1.2.3", "1.2.3"),
    (">=1.2.3 >=1.2.1", "1.2.3"),
    (">=1.2", "1.2.8"),
    ("^1.2.3", "1.8.1"),
    ("^0.1.2", "0.1.2"),
    ("^0.1", "0.1.2"),
    ("^0.0.1", "0.0.1"),
    ("^1.2", "1.4.2"),
    ("^1.2 ^1", "1.4.2"),
    ("^1.2.3-alpha", "1.2.3-pre"),
    ("^1.2.0-alpha", "1.2.0-pre"),
    ("^0.0.1-alpha", "0.0.1-beta"),
    ("^0.0.1-alpha", "0.0.1"),
    ("^0.1.1-alpha", "0.1.1-beta"),
    ("^x", "1.2.3"),
    ("x - 1.0.0", "0.9.7"),
    ("x - 1.x", "0.9.7"),
    ("1.0.0 - x", "1.9.7"),
    ("1.x - x", "1.9.7"),
    ("<=7.x", "7.9.9"),
    ("1.2.3-beta", "1.2.3-beta+build"),
    (">=1.2.3-beta <1.2.3 || >=1.0.0 <2.0.0-0", "1.2.3-gamma"),
    ("<1.2.3-rc", "1.2.3-beta"),
]


@pytest.mark.parametrize(("text", "version"), INCLUDES)
def test_range_includes(text: str, version: str) -> None:
    assert R(text).contains(V(version))
    assert V(version) in R(text)
    assert R(text).contains(V(version), include_prerelease=True)


EXCLUDES = [
    ("1.0.0 - 2.0.0", "2.2.3"),
    ("1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"),
    ("1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha"),
    ("^1.2.3+build", "2.0.0"),
    ("^1.2.3+build", "1.2.0"),
    ("^1.2.3", "1.2.3-pre"),
    ("^1.2", "1.2.0-pre"),
    (">1.2", "1.3.0-beta"),
    ("<=1.2.3", "1.2.3-beta"),
    ("^1.2.3", "1.2.3-beta"),
    ("=0.7.x", "0.7.0-asdf"),
    (">=0.7.x", "0.7.0-asdf"),
    ("1.0.0", "1.0.1"),
    (">=1.0.0", "0.0.0"),
    (">=1.0.0", "0.0.1"),
    (">=1.0.0", "0.1.0"),
    (">1.0.0", "0.0.1"),
    (">1.0.0", "0.1.0"),
    ("<=2.0.0", "3.0.0"),
    ("<=2.0.0", "2.9999.9999"),
    ("<=2.0.0", "2.2.9"),
    ("<2.0.0", "2.9999.9999"),
    ("<2.0.0", "2.2.9"),
    (">=0.1.97", "0.1.93"),
    ("0.1.20 || 1.2.4", "1.2.3"),
    (">=0.2.3 || <0.0.1", "0.0.3"),
    (">=0.2.3 || <0.0.1", "0.2.2"),
    ("2.x.x", "1.1.3"),
    ("2.x.x", "3.1.3"),
    ("1.2.x", "1.3.3"),
    ("1.2.x || 2.x", "3.1.3"),
    ("1.2.x || 2.x", "1.1.3"),
    ("2.*.*", "1.1.3"),
    ("2.*.*", "3.1.3"),
    ("1.2.*", "1.3.3"),
    ("2", "1.1.2"),
    ("2.3", "2.4.1"),
    ("~0.0.1", "0.1.0-alpha"),
    ("~0.0.1", "0.1.0"),
    ("~2.4", "2.5.0"),
    ("~2.4", "2.3.9"),
    ("~1", "0.2.3"),
    ("~1.0", "1.1.0"),
    ("<1", "1.0.0"),
    (">=1.2", "1.1.1"),
    ("~0.5.4-beta", "0.5.4-alpha"),
    ("=0.7.x", "0.8.2"),
    (">=0.7.x", "0.6.2"),
    ("<0.7.x", "0.7.2"),
    ("<1.2.3", "1.2.3-beta"),
    ("=1.2.3", "1.2.3-beta"),
    (">1.2", "1.2.8"),
    ("^0.0.1", "0.0.2-alpha"),
    ("^0.0.1", "0.0.2"),
    ("^1.2.3", "2.0.0-alpha"),
    ("^1.2.3", "1.2.2"),
    ("^1.2", "1.1.9"),
    ("^1.0.0", "2.0.0-rc1"),
    ("*", "1.2.3-foo"),
    ("", "0.0.0-0"),
    (">=1.2.3-beta <1.2.3 || >=1.0.0 <2.0.0-0", "1.2.3-alpha"),
    (">=1.2.3-beta <2.0.0", "1.5.0-rc.1"),
    ("<0.0.0-0", "0.0.0-0"),
]


@pytest.mark.parametrize(("text", "version"), EXCLUDES)
def test_range_excludes(text: str, version: str) -> None:
    assert not R(text).contains(V(version))
    assert V(version) not in R(text)


INCLUDE_PRERELEASE = [
    ("^1.0.0", "1.0.1-rc1", True),
    ("^1.0.0", "1.1.0-rc1", True),
    ("^1.0.0-0", "1.0.1-rc1", True),
    ("^1.0.0-rc2", "1.0.1-rc1", True),
    ("2.x", "2.1.0-pre.0", True),
    ("*", "1.0.0-rc1", True),
    ("*", "0.0.0-0", True),
    ("<1.0.0", "0.0.0-alpha", True),
    (">=1.2.3-beta <2.0.0", "1.5.0-rc.1", True),
    ("^1.0.0", "1.0.0-rc1", False),
    ("^1.0.0", "2.0.0-rc1", False),
    ("^1.2.3-rc2", "2.0.0", False),
    ("2.x", "3.0.0-pre.0", False),
    ("2.x", "2.0.0-pre.0", False),
    ("1.2.3 || 1.2.5", "1.2.4-rc.1", False),
    ("<0.0.0-0", "0.0.0-0", False),
]


@pytest.mark.parametrize(("text", "version", "expected"), INCLUDE_PRERELEASE)
def test_include_prerelease_widens_only_within_runs_of_admitted_releases(
    text: str, version: str, expected: bool
) -> None:
    assert R(text).contains(V(version), include_prerelease=True) is expected


@pytest.mark.parametrize(
    ("text", "versions", "default", "with_prereleases"),
    [
        ("~1.2.3", ["1.2.3", "1.2.4", "1.3.0"], "1.2.4", "1.2.4"),
        ("^1", ["1.0.0", "1.9.0", "1.10.0-rc.1", "2.0.0"], "1.9.0", "1.10.0-rc.1"),
        ("^1.2.3-beta", ["1.2.3-alpha", "1.2.3-beta.2", "1.2.4-rc.1"], "1.2.3-beta.2", "1.2.4-rc.1"),
        (">=2", ["1.0.0", "1.5.0"], None, None),
        ("*", [], None, None),
        ("1.2.x", ["1.2.3+b", "1.2.1"], "1.2.3+b", "1.2.3+b"),
    ],
)
def test_max_satisfying(text: str, versions: list[str], default: str | None, with_prereleases: str | None) -> None:
    candidates = [V(version) for version in versions]
    best = R(text).max_satisfying(candidates)
    assert (None if best is None else str(best)) == default
    best = R(text).max_satisfying(candidates, include_prerelease=True)
    assert (None if best is None else str(best)) == with_prereleases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        ("=1.2.3+build", "1.2.3"),
        (">=1.2.3 <=1.2.3", "1.2.3"),
        ("^0.0.3", "0.0.3"),
        ("1.2.3-beta.1", "1.2.3-beta.1"),
        (">=1.2.3-rc <=1.2.3-rc", "1.2.3-rc"),
        ("1.2.x", None),
        ("1.2.3 || 1.2.4", None),
        ("1.2.3 || 1.2.3-rc", None),
        ("<0.0.0-0", None),
        ("*", None),
    ],
)
def test_exact_version(text: str, expected: str | None) -> None:
    exact = R(text).exact_version
    assert (None if exact is None else str(exact)) == expected


@pytest.mark.parametrize("version", ["1.2.3", "0.0.0", "1.2.3-rc.1", "1.0.0+build.7", "2.0.0-0"])
def test_range_exact_round_trips_through_exact_version(version: str) -> None:
    exact = Range.exact(V(version))
    assert exact.exact_version == V(version)
    assert exact.contains(V(version))
    assert R(str(exact)) == exact
    assert str(exact) == str(V(version)).split("+")[0]


def test_range_exact_needs_a_version() -> None:
    with pytest.raises(RangeError, match=r"Range\.exact needs a Version"):
        Range.exact("1.2.3")  # type: ignore[arg-type]


# --- ranges: errors -----------------------------------------------------------------------------------------

INVALID_RANGES = [
    (">=1.2.q", "expected patch number, found 'q' at 6"),
    ("~>1", "'~>' is not supported, use '~' at 0"),
    ("1.x.3", "expected a wildcard for patch after a wildcard, found '3' at 4"),
    ("*.1", "expected a wildcard for minor after a wildcard, found '1' at 2"),
    ("1.2-beta", "a prerelease or build needs a full major.minor.patch version at 3"),
    ("1.2.x-beta", "a prerelease or build needs a full major.minor.patch version at 5"),
    ("1.2.3 - 2 >3", "a hyphen range cannot be combined with other comparators at 9"),
    ("1.2.3 - >2", "an operator cannot appear in a hyphen range at 8"),
    ("1.2.3 -", "expected a version, found '-' at 6"),
    ("01", "leading zero in major at 0"),
    ("^1.02", "leading zero in minor at 3"),
    (">=1.2.3<2", "unexpected '<' at 7"),
    ("1 | 2", "expected a version, found '|' at 2"),
    ("1|2", "unexpected '|' at 1"),
    ("v1", "a 'v' prefix is not allowed at 0"),
    (">= v1.2.3", "a 'v' prefix is not allowed at 3"),
    ("==1.2.3", "expected a version, found '=' at 1"),
    (">", "expected a version, found end of text at 1"),
    ("1.2.3-", "empty prerelease identifier at 6"),
    ("1.2.3-01", "leading zero in prerelease identifier '01' at 6"),
    ("1.2.3+", "empty build identifier at 6"),
    ("1.2.3.4", "unexpected '.' at 5"),
    ("latest", "expected a version, found 'l' at 0"),
    ("1.2.3 || >=abc", "expected a version, found 'a' at 11"),
    ("^1.2.3 ~", "expected a version, found end of text at 8"),
    ("1.2.3 - 2.0.0 - 3", "a hyphen range cannot be combined with other comparators at 13"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID_RANGES)
def test_invalid_range_names_the_problem_and_position(text: str, reason: str) -> None:
    with pytest.raises(RangeError) as raised:
        R(text)
    assert str(raised.value) == f"invalid range {text!r}: {reason}"
    assert isinstance(raised.value.__cause__, ParseProblem)


def test_range_text_has_a_length_limit() -> None:
    with pytest.raises(RangeError, match="longer than 1024 characters at 1024"):
        R(" || ".join(["1.2.3"] * 200))


@pytest.mark.parametrize("value", [None, 3, ["^1"]])
def test_range_parse_needs_a_string(value: object) -> None:
    with pytest.raises(RangeError, match="a range must be a string"):
        R(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["^1.2.3-rc || 3.x", "<0.0.0-0"])
def test_ranges_and_versions_survive_pickle_and_copy(text: str) -> None:
    for value in (R(text), V("1.2.3-rc.1+b"), R(text).complement()):
        assert pickle.loads(pickle.dumps(value)) == value
        assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(V("1.2.3+b"))).build == ("b",)


def test_range_is_immutable() -> None:
    with pytest.raises(AttributeError, match="Range is immutable"):
        R("^1")._releases = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "spans",
    [[(V("1.0.0"),)], [("1.0.0", None)], [(V("1.0.0"), "2.0.0")], ["1.0.0"]],
)
def test_range_constructor_validates_spans(spans: list) -> None:
    with pytest.raises(RangeError, match="a span must be a"):
        Range(releases=spans)


def test_range_constructor_snaps_bounds_to_canonical_form() -> None:
    built = Range(
        releases=[(V("1.0.0-rc.1"), V("2.0.0-0")), (V("2.0.0-0"), V("2.5.0"))],
        prereleases=[(V("1.2.3"), V("1.2.4"))],
    )
    assert built == R(">=1.0.0 <2.5.0-0 || >=1.2.4-0 <1.2.4")
    assert built.releases == ((V("1.0.0"), V("2.5.0")),)
    assert built.prereleases == ((V("1.2.4-0"), V("1.2.5-0")),)


# --- ranges: set algebra ------------------------------------------------------------------------------------

INTERSECTS = [
    ("1.3.0 || <1.0.0 >2.0.0", "1.3.0 || <1.0.0 >2.0.0", True),
    ("<1.0.0 >2.0.0", ">0.0.0", False),
    ("<1.0.0 >2.0.0", ">1.4.0 <1.6.0 || 2.0.0", False),
    (">1.0.0 <=2.0.0", "2.0.0", True),
    ("<1.0.0 >=2.0.0", "2.1.0", False),
    ("1.5.x", "<1.5.0 || >=1.6.0", False),
    ("<1.6.16 || >=1.7.0 <1.7.11 || >=1.8.0 <1.8.2", ">=1.6.16 <1.7.0 || >=1.7.11 <1.8.0 || >=1.8.2", False),
    ("<=1.6.16 || >=1.7.0 <1.7.11 || >=1.8.0 <1.8.2", ">=1.6.16 <1.7.0 || >=1.7.11 <1.8.0 || >=1.8.2", True),
    (">=1.0.0", "<=1.0.0", True),
    (">1.0.0 <1.0.0", "<=0.0.0", False),
    ("*", "0.0.1", True),
    ("*", "~1.0.0", True),
    ("1.*", "0.0.1", False),
    ("1.*", "2.0.0", False),
    ("1.*", "<=1.0.0", True),
    ("1.*", "^1.0.0", True),
    ("1.0.*", "<0.0.1", False),
    ("1.0.*", ">0.0.1", True),
    ("1.x", "1.3.0 || <1.0.0 >2.0.0", True),
    ("x", "", True),
    ("^1.2.3-beta", "1.2.3-alpha", False),
    ("^1.2.3-beta", "1.2.3-rc || 3", True),
    ("<1.2.3", "1.2.3-rc", False),
    ("*", "1.0.0-rc", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), INTERSECTS)
def test_allows_any(a: str, b: str, expected: bool) -> None:
    assert R(a).allows_any(R(b)) is expected
    assert R(b).allows_any(R(a)) is expected
    assert R(a).intersect(R(b)).is_empty is not expected


SUBSETS = [
    ("1.2.3", "1.2.3", True),
    ("1.2.3", "1.x", True),
    ("1.2.3 1.2.4", "1.2.3", True),
    ("1.2.3", ">1.2.0", True),
    ("1.2.3 2.3.4 || 2.3.4", "3", False),
    ("^1.2.3-pre.0", "1.x", False),
    (">2 <1", "3", True),
    ("1 || 2 || 3", ">=1.0.0", True),
    ("^1.2.3", "*", True),
    ("^1.2.3-pre.0", "*", False),
    ("^1.2.3-pre.0", ">=1.0.0", False),
    ("^1.2.3-pre.0", ">=1.2.3-pre.0", True),
    (">1.2.3-pre.0", ">=1.2.3-pre.0", True),
    (">1.2.3-pre.0", ">1.2.3-pre.0 || 2", True),
    ("1 >1.2.3-pre.0", ">1.2.3-pre.0", True),
    ("1 <=1.2.3-pre.0", ">=1.0.0-0", False),
    ("1 <=1.2.3-pre.0", "<=1.2.3-pre.0", True),
    ("<1.2.3-pre.0", "<=1.2.3-pre.0", True),
    ("1 <1.2.3-pre.0", "<1.2.3-pre.0", True),
    ("", "*", True),
    ("*", ">=0.0.0", True),
    ("*", ">=0.0.0-0", True),
    ("^2 || ^3 || ^4", ">1", True),
    ("^2 || ^3 || ^4", ">=3", False),
    (">=1", "^2 || ^3 || ^4", False),
    ("^1", "^2 || ^3 || ^4", False),
    ("3.x", "^2 || ^3 || ^4", True),
    ("<=1.0.0 >=1.0.0 || 2.0.0", "1.0.0 || 2.0.0", True),
    (">=1.0.0", "1.0.0", False),
    (">=1.0.0 <2.0.0", ">1.0.0", False),
    (">=1.0.0 <=2.0.0", "<2.0.0", False),
    ("1.0.0 <1.0.0", ">1.0.0", True),
    ("<=3 <=2 <=1", "<4", True),
    (">=3 >=2 >=1", ">0", True),
    (">2.0.0", ">=2.0.0", True),
]


@pytest.mark.parametrize(("sub", "sup", "expected"), SUBSETS)
def test_allows_all(sub: str, sup: str, expected: bool) -> None:
    assert R(sup).allows_all(R(sub)) is expected


ALGEBRA = [
    ("intersect", "^1.2", "~1.3", ">=1.3.0 <1.4.0-0"),
    ("intersect", "^1.2.3-beta", "<1.2.3", "<0.0.0-0"),
    ("intersect", "^1.2.3-beta", ">=1.2.3-alpha <1.2.3", ">=1.2.3-beta <1.2.3"),
    ("intersect", "1.x || 3.x", "^1.5 || ^3.1.4", ">=1.5.0 <2.0.0-0 || >=3.1.4 <4.0.0-0"),
    ("union", "^1", "^2", ">=1.0.0 <3.0.0-0"),
    ("union", "1.2.3-rc.1", "^1.2.3", "1.2.3-rc.1 || >=1.2.3 <2.0.0-0"),
    ("union", "<1", ">=1", "*"),
    ("union", "1.0.0", "1.0.1", ">=1.0.0 <1.0.2-0"),
    ("difference", "1.x", "1.5.x", ">=1.0.0 <1.5.0-0 || >=1.6.0 <2.0.0-0"),
    ("difference", "^1.2.3-beta", "^1.2.3", ">=1.2.3-beta <1.2.3"),
    ("difference", "*", "^1", "<1.0.0-0 || >=2.0.0"),
    ("difference", "^1", "*", "<0.0.0-0"),
    ("difference", "1.2.3-rc.1", ">=1.0.0 <2.0.0", "1.2.3-rc.1"),
]


@pytest.mark.parametrize(("operation", "a", "b", "expected"), ALGEBRA)
def test_algebra_results(operation: str, a: str, b: str, expected: str) -> None:
    result = getattr(R(a), operation)(R(b))
    assert str(result) == expected
    assert result == R(expected)


def test_complement_covers_the_prereleases_npm_text_cannot_name() -> None:
    everything_else = Range.any().complement()
    assert not everything_else.is_empty
    assert not everything_else.is_any
    assert str(everything_else) == "(prereleases >=0.0.0-0)"
    assert everything_else.contains(V("1.0.0-rc.1"))
    assert not everything_else.contains(V("1.0.0"))
    assert str(R(">=1.0.0").complement()) == "(prereleases >=0.0.0-0) || <1.0.0-0"
    assert R("^1.2.3").complement().complement() == R("^1.2.3")
    assert Range.empty().complement().complement() == Range.empty()
    with pytest.raises(RangeError):
        R(str(everything_else))


def test_is_any_and_is_empty() -> None:
    assert Range.any().is_any and R("*").is_any and R("<1 || >=1").is_any
    assert Range.any() == R("") == R("x")
    assert R("* || 1.0.0-rc").is_any
    assert not R(">=0.0.1").is_any
    assert Range.empty().is_empty and R("<0.0.0-0").is_empty and R(">2 <1").is_empty
    assert str(Range.empty()) == "<0.0.0-0"
    assert not R("1.2.3-rc").is_empty


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        ("1.2.1-0", "1.2.4-0", ">=1.2.1-0 <1.2.1 || >=1.2.2-0 <1.2.2 || >=1.2.3-0 <1.2.3"),
        ("1.2.1-rc", "1.2.2-beta", ">=1.2.1-rc <1.2.1 || >=1.2.2-0 <1.2.2-beta"),
        ("1.2.1-0", "1.2.100-0", "(prereleases >=1.2.1-0 <1.2.100-0)"),
        ("1.2.1-0", "1.3.0-0", "(prereleases >=1.2.1-0 <1.3.0-0)"),
        ("1.2.1-0", None, "(prereleases >=1.2.1-0)"),
    ],
)
def test_prerelease_spans_print_band_by_band_when_few(low: str, high: str | None, text: str) -> None:
    spans = Range(prereleases=[(V(low), None if high is None else V(high))])
    assert str(spans) == text
    if not text.startswith("("):
        assert R(text) == spans


# --- selectors ----------------------------------------------------------------------------------------------

SELECTORS = [
    ("1.2.3", V("1.2.3")),
    ("1.2.3-rc.1+build", V("1.2.3-rc.1+build")),
    ("^1.2", R("^1.2")),
    ("=1.2.3", R("1.2.3")),
    ("1.2", R("1.2.x")),
    (">=1 <2 || 3", R(">=1.0.0 <2.0.0-0 || 3.x")),
    ("x", Range.any()),
    ("*", Range.any()),
    ("latest", "latest"),
    ("beta", "beta"),
    ("next-2", "next-2"),
    ("xyz", "xyz"),
    ("vnext", "vnext"),
    ("a" * 63, "a" * 63),
]


@pytest.mark.parametrize(("text", "expected"), SELECTORS)
def test_parse_selector(text: str, expected: object) -> None:
    selected = parse_selector(text)
    assert type(selected) is type(expected)
    assert selected == expected


BAD_SELECTORS = [
    ("", "invalid selector '': empty", ("empty selector", 0)),
    ("Latest", "invalid tag 'Latest': tags are lowercase, found 'L' at 0", ("tags are lowercase, found 'L'", 0)),
    ("beta_1", "invalid tag 'beta_1': unexpected '_' in tag at 4", ("unexpected '_' in tag", 4)),
    (
        "a" * 64,
        f"invalid tag {'a' * 64!r}: a tag is at most 63 characters at 63",
        ("a tag is at most 63 characters", 63),
    ),
    ("v1", "invalid range 'v1': a 'v' prefix is not allowed at 0", ("a 'v' prefix is not allowed", 0)),
    (
        "^1.x.q",
        "invalid range '^1.x.q': expected a wildcard for patch after a wildcard, found 'q' at 5",
        ("expected a wildcard for patch after a wildcard, found 'q'", 5),
    ),
    ("1.2.3-", "invalid range '1.2.3-': empty prerelease identifier at 6", ("empty prerelease identifier", 6)),
    ("x_1", "invalid range 'x_1': unexpected '_' at 1", ("unexpected '_'", 1)),
]


@pytest.mark.parametrize(("text", "message", "problem"), BAD_SELECTORS)
def test_bad_selector_is_a_range_error_with_a_located_cause(text: str, message: str, problem: tuple[str, int]) -> None:
    with pytest.raises(RangeError) as raised:
        parse_selector(text)
    assert str(raised.value) == message
    cause = raised.value.__cause__
    assert isinstance(cause, ParseProblem)
    assert (cause.reason, cause.position) == problem


def test_parse_selector_needs_a_string() -> None:
    with pytest.raises(RangeError, match="a selector must be a string"):
        parse_selector(None)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------------------------

_PRERELEASES = [(), ("alpha",), ("alpha", 1), ("beta",), (0,), (1,), ("rc", 1), ("rc", 1, 0)]

small_versions = st.builds(
    lambda major, minor, patch, prerelease: Version(major, minor, patch, prerelease),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(_PRERELEASES),
)


def _text_of(version: Version) -> str:
    return str(version)


def _partial_texts(version: Version) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            _text_of(version),
            f"{version.major}",
            f"{version.major}.{version.minor}",
            f"{version.major}.x",
            f"{version.major}.{version.minor}.*",
            "x",
        ]
    )


partials = small_versions.flatmap(_partial_texts)
comparators = st.builds(
    lambda operator, partial: operator + partial,
    st.sampled_from(["", "=", "<", "<=", ">", ">=", "~", "^"]),
    partials,
)
comparator_sets = st.one_of(
    st.lists(comparators, min_size=1, max_size=3).map(" ".join),
    st.builds(lambda low, high: f"{low} - {high}", partials, partials),
)
range_texts = st.lists(comparator_sets, min_size=1, max_size=3).map(" || ".join)
ranges = range_texts.map(Range.parse)


def _derived(draw: st.DrawFn) -> Range:
    first, second = draw(ranges), draw(ranges)
    return draw(st.sampled_from([first, first.intersect(second), first.union(second), first.difference(second)]))


printable_ranges = st.composite(_derived)()


@settings(max_examples=150, deadline=None)
@given(ranges, ranges, small_versions)
def test_algebra_agrees_with_membership(a: Range, b: Range, version: Version) -> None:
    in_a, in_b = a.contains(version), b.contains(version)
    assert a.intersect(b).contains(version) == (in_a and in_b)
    assert a.union(b).contains(version) == (in_a or in_b)
    assert a.complement().contains(version) == (not in_a)
    assert a.difference(b).contains(version) == (in_a and not in_b)
    if a.allows_all(b) and in_b:
        assert in_a
    if not a.allows_any(b):
        assert not (in_a and in_b)
    if in_a:
        assert a.contains(version, include_prerelease=True)


@settings(max_examples=150, deadline=None)
@given(ranges, ranges)
def test_algebra_laws(a: Range, b: Range) -> None:
    assert a.intersect(b) == b.intersect(a)
    assert a.union(b) == b.union(a)
    assert a.complement().complement() == a
    assert a.union(b).complement() == a.complement().intersect(b.complement())
    assert a.intersect(a.complement()).is_empty
    assert a.union(b).allows_all(a)
    assert a.allows_all(a.intersect(b))
    assert a.allows_all(b) == (a.intersect(b) == b)
    assert a.allows_any(b) == (not a.intersect(b).is_empty)


@settings(max_examples=150, deadline=None)
@given(range_texts, small_versions)
def test_or_admits_what_any_of_its_comparator_sets_admits(text: str, version: Version) -> None:
    branches = [Range.parse(branch) for branch in text.split("||")]
    assert Range.parse(text).contains(version) == any(branch.contains(version) for branch in branches)


@settings(max_examples=150, deadline=None)
@given(printable_ranges)
def test_range_text_round_trips(parsed: Range) -> None:
    text = str(parsed)
    assert Range.parse(text) == parsed
    assert str(Range.parse(text)) == text


def _spec_compare(a: Version, b: Version) -> int:
    """SemVer 2.0 section 11, written out literally as an independent oracle."""
    for x, y in ((a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)):
        if x != y:
            return -1 if x < y else 1
    if not a.prerelease or not b.prerelease:
        return (not a.prerelease) - (not b.prerelease)
    for x, y in zip(a.prerelease, b.prerelease, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int) != isinstance(y, int):
            return -1 if isinstance(x, int) else 1
        return -1 if str(x) < str(y) else 1
    return (len(a.prerelease) > len(b.prerelease)) - (len(a.prerelease) < len(b.prerelease))


_IDENTIFIER_ALPHABET = "0123456789ABCXYZabcxyz-"
identifiers = st.one_of(
    st.integers(0, 20),
    st.text(_IDENTIFIER_ALPHABET, min_size=1, max_size=5).filter(lambda word: not word.isdigit()),
)
any_versions = st.builds(
    Version,
    st.integers(0, 12),
    st.integers(0, 12),
    st.integers(0, 12),
    st.lists(identifiers, max_size=4).map(tuple),
    st.lists(st.text(_IDENTIFIER_ALPHABET, min_size=1, max_size=5), max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(any_versions, any_versions)
def test_precedence_matches_the_spec_and_text_round_trips(a: Version, b: Version) -> None:
    assert (a > b) - (a < b) == _spec_compare(a, b)
    assert (a == b) == (_spec_compare(a, b) == 0)
    assert Version.parse(str(a)) == a
    assert Version.parse(str(a)).build == a.build


@settings(max_examples=50, deadline=None)
@given(st.lists(any_versions, min_size=2, max_size=8))
def test_sorting_is_a_total_order(versions: list[Version]) -> None:
    ordered = sorted(versions)
    assert ordered == sorted(versions, key=functools.cmp_to_key(_spec_compare))


@settings(max_examples=300, deadline=None)
@given(st.text("0123.-+ax", max_size=14))
def test_version_text_either_parses_canonically_or_fails_cleanly(text: str) -> None:
    try:
        version = Version.parse(text)
    except VersionError as error:
        assert isinstance(error.__cause__, ParseProblem)
    else:
        assert str(version) == text


@settings(max_examples=300, deadline=None)
@given(st.text("012.-+xX*<>=~^| a", max_size=16))
def test_range_text_either_parses_or_fails_with_a_located_error(text: str) -> None:
    try:
        parsed = Range.parse(text)
    except RangeError as error:
        assert isinstance(error.__cause__, ParseProblem)
        assert 0 <= error.__cause__.position <= len(text)
    else:
        assert Range.parse(str(parsed)) == parsed
