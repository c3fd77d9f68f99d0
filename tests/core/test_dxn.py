"""Tests for dmg.core.dxn: parsing, canonical printing, validation messages and selectors of DXN names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmg.core.dxn import DXN, is_authority
from dmg.core.errors import DXNError
from dmg.core.semver import Range, Version

VALID = [
    ("org.dxos/function/universal-indexer@^1.2", "org.dxos", ("function", "universal-indexer"), "^1.2"),
    ("org.dxos/function/universal-indexer", "org.dxos", ("function", "universal-indexer"), None),
    ("dxn:org.dxos/type/contact", "org.dxos", ("type", "contact"), None),
    ("DXN:org.dxos/type/contact", "org.dxos", ("type", "contact"), None),
    ("Org.DXOS/app/mail", "org.dxos", ("app", "mail"), None),
    ("com.example/function/mail-bridge@1.4.0", "com.example", ("function", "mail-bridge"), "1.4.0"),
    ("com.example/api/mail@1.0.0-rc.1+build.5", "com.example", ("api", "mail"), "1.0.0-rc.1+build.5"),
    ("org.dxos/api/echo@^0.1", "org.dxos", ("api", "echo"), "^0.1"),
    ("org.dxos/service/a/b/c@latest", "org.dxos", ("service", "a", "b", "c"), "latest"),
    ("x/y/z", "x", ("y", "z"), None),
    ("0/1/2", "0", ("1", "2"), None),
    ("a-b.c-d/k-1/n-2", "a-b.c-d", ("k-1", "n-2"), None),
    ("org.dxos/function/x@>=1 <2 || 3.x", "org.dxos", ("function", "x"), ">=1 <2 || 3.x"),
    ("org.dxos/function/x@*", "org.dxos", ("function", "x"), "*"),
    ("org.dxos/function/x@x", "org.dxos", ("function", "x"), "x"),
    ("a" * 63 + "/function/" + "b" * 63, "a" * 63, ("function", "b" * 63), None),
    (".".join(["a" * 63] * 3) + "." + "b" * 61 + "/f/x", ".".join(["a" * 63] * 3) + "." + "b" * 61, ("f", "x"), None),
]


@pytest.mark.parametrize(("text", "authority", "path", "selector"), VALID)
def test_valid_dxn_parses(text: str, authority: str, path: tuple[str, ...], selector: str | None) -> None:
    dxn = DXN.parse(text)
    assert (dxn.authority, dxn.path, dxn.selector) == (authority, path, selector)
    assert DXN.parse(str(dxn)) == dxn
    assert DXN(authority, path, selector) == dxn


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("dxn:Org.DXOS/function/x@^1.2", "org.dxos/function/x@^1.2"),
        ("DxN:a.b/c/d", "a.b/c/d"),
        ("A.B/c/d@1.0.0-RC.1", "a.b/c/d@1.0.0-RC.1"),
    ],
)
def test_canonical_form_drops_the_scheme_and_lowercases_the_authority(text: str, canonical: str) -> None:
    assert str(DXN.parse(text)) == canonical


INVALID = [
    ("", "empty input at 0"),
    ("Org.dxos//x", "empty path segment at 9"),
    ("org.dxos", "missing path at 8"),
    ("org.dxos@1.0.0", "missing path at 8"),
    ("org.dxos/function", "missing name at 17"),
    ("org.dxos/function@1.0.0", "missing name at 17"),
    ("org.dxos/", "empty path segment at 9"),
    ("org.dxos/function/", "empty path segment at 18"),
    ("/function/x", "empty authority at 0"),
    ("dxn:", "empty authority at 4"),
    ("dxn:/function/x", "empty authority at 4"),
    ("org.dxos/Function/x", "uppercase 'F' in path, names are lowercase at 9"),
    ("org.dxos/function/indeXer", "uppercase 'X' in path, names are lowercase at 22"),
    ("org_dxos/f/x", "invalid character '_' at 3"),
    ("org.dxos/f/x_y", "invalid character '_' at 12"),
    ("org.dxos/f/x y", "invalid character ' ' at 12"),
    (" org.dxos/f/x", "invalid character ' ' at 0"),
    ("org.dxos/f/x.y", "invalid character '.' at 12"),
    ("org.dxos/f/é", "invalid character 'é' at 11"),
    ("org.dxos/f/x:y", "invalid character ':' at 12"),
    ("dxn:org.dxos/f/x\n", "invalid character '\\n' at 16"),
    ("-org/f/x", "authority segment starts with '-' at 0"),
    ("org-/f/x", "authority segment ends with '-' at 3"),
    ("org.-dxos/f/x", "authority segment starts with '-' at 4"),
    ("org.dxos/-f/x", "path segment starts with '-' at 9"),
    ("org.dxos/f/x-", "path segment ends with '-' at 12"),
    (".org/f/x", "empty authority segment at 0"),
    ("org..x/f/x", "empty authority segment at 4"),
    ("org./f/x", "empty authority segment at 4"),
    ("a" * 64 + "/f/x", "authority segment longer than 63 characters at 0"),
    ("org/f/" + "n" * 64, "path segment longer than 63 characters at 6"),
    ("org/" + "k" * 64 + "/n", "path segment longer than 63 characters at 4"),
    (".".join(["a" * 63] * 4) + "/f/x", "authority longer than 253 characters at 0"),
    ("dxn:" + ".".join(["a" * 63] * 4) + "/f/x", "authority longer than 253 characters at 4"),
    ("https://org.dxos/f/x", "unknown scheme 'https:' at 0"),
    ("did:key:z6Mk/f/x", "unknown scheme 'did:' at 0"),
    ("org.dxos:8080/f/x", "unknown scheme 'org.dxos:' at 0"),
    ("org.dxos/f/x@", "empty selector at 13"),
    ("org.dxos/f/x@^1.x.q", "bad selector, expected a wildcard for patch after a wildcard, found 'q' at 18"),
    ("org.dxos/f/x@Latest", "bad selector, tags are lowercase, found 'L' at 13"),
    ("org.dxos/f/x@beta_1", "bad selector, unexpected '_' in tag at 17"),
    ("org.dxos/f/x@v1.2.3", "bad selector, a 'v' prefix is not allowed at 13"),
    ("org.dxos/f/x@1.2.3@4", "bad selector, unexpected '@' at 18"),
    ("dxn:org.dxos/f/x@>=1.2.3<2", "bad selector, unexpected '<' at 24"),
    ("org.dxos/f/x@01.2.3", "bad selector, leading zero in major at 13"),
    ("org.dxos/f/x@ ^1", "whitespace before selector at 13"),
    ("org.dxos/f/x@^1\t", "whitespace after selector at 15"),
]


@pytest.mark.parametrize(("text", "problem"), INVALID)
def test_invalid_dxn_says_what_and_where(text: str, problem: str) -> None:
    with pytest.raises(DXNError) as raised:
        DXN.parse(text)
    assert str(raised.value) == f"invalid DXN {text!r}: {problem}"


@pytest.mark.parametrize("value", [None, 42, b"org.dxos/f/x"])
def test_parse_needs_a_string(value: object) -> None:
    with pytest.raises(DXNError, match="a DXN must be a string"):
        DXN.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", ("f",)), "invalid DXN 'org/f': missing name at 5"),
        (("org", ()), "invalid DXN 'org/': missing path at 3"),
        (("org", ("f", "a/b")), "invalid DXN 'org/f/a/b': invalid character '/' at 7"),
        (("o/rg", ("f", "x")), "invalid DXN 'o/rg/f/x': invalid character '/' at 1"),
        (("org", ("F", "x")), "invalid DXN 'org/F/x': uppercase 'F' in path, names are lowercase at 4"),
        (("org", ("f", "x"), ""), "invalid DXN 'org/f/x@': empty selector at 8"),
        (
            ("org", ("f", "x"), "^1.q"),
            "invalid DXN 'org/f/x@^1.q': bad selector, expected minor number, found 'q' at 11",
        ),
        ((1, ("f", "x")), "invalid DXN: authority must be a string, not int"),
        (("org", "f/x"), "invalid DXN: path must be a tuple of strings, not 'f/x'"),
        (("org", ("f", 1)), "invalid DXN: path must be a tuple of strings, not ('f', 1)"),
        (("org", ("f", "x"), Version(1, 0, 0)), "invalid DXN: selector must be a string or None, not Version"),
    ],
)
def test_constructor_validates(args: tuple, message: str) -> None:
    with pytest.raises(DXNError) as raised:
        DXN(*args)
    assert str(raised.value) == message


def test_constructor_normalises_authority_and_path() -> None:
    dxn = DXN("Org.DXOS", ["function", "x"])  # type: ignore[arg-type]
    assert dxn.authority == "org.dxos"
    assert dxn.path == ("function", "x")
    assert dxn == DXN.parse("org.dxos/function/x")


def test_parts() -> None:
    dxn = DXN.parse("dxn:org.dxos/function/indexers/universal@^1.2")
    assert dxn.kind == "function"
    assert dxn.name == "indexers/universal"
    assert dxn.namespace == "org.dxos"
    assert dxn.base == DXN.parse("org.dxos/function/indexers/universal")
    assert dxn.base.selector is None
    base = dxn.base
    assert base.base is base
    assert repr(dxn) == "DXN('org.dxos/function/indexers/universal@^1.2')"


def test_frozen_and_hashable() -> None:
    dxn = DXN.parse("org.dxos/function/x@1.0.0")
    with pytest.raises(AttributeError):
        dxn.authority = "com.example"  # type: ignore[misc]
    assert {dxn, DXN.parse("dxn:ORG.dxos/function/x@1.0.0")} == {dxn}
    assert dxn != DXN.parse("org.dxos/function/x@=1.0.0")
    assert dxn != dxn.base


@pytest.mark.parametrize(
    ("selector", "expected_text", "expected_value"),
    [
        ("^1.2", "org.dxos/function/x@^1.2", Range.parse("^1.2")),
        ("latest", "org.dxos/function/x@latest", "latest"),
        ("1.2.3", "org.dxos/function/x@1.2.3", Version.parse("1.2.3")),
        (Version.parse("1.2.3-rc.1+b"), "org.dxos/function/x@1.2.3-rc.1+b", Version.parse("1.2.3-rc.1")),
        (Range.parse("~1.2"), "org.dxos/function/x@>=1.2.0 <1.3.0-0", Range.parse("~1.2")),
        (None, "org.dxos/function/x", None),
    ],
)
def test_with_selector_and_version_selector(
    selector: str | Version | Range | None, expected_text: str, expected_value: object
) -> None:
    dxn = DXN.parse("org.dxos/function/x@9.9.9").with_selector(selector)
    assert str(dxn) == expected_text
    assert dxn.version_selector() == expected_value
    assert type(dxn.version_selector()) is type(expected_value)


def test_with_selector_rejects_bad_selectors_with_offsets_in_the_new_name() -> None:
    with pytest.raises(DXNError) as raised:
        DXN.parse("org.dxos/function/x").with_selector("^1.2.3 | 2")
    assert str(raised.value) == (
        "invalid DXN 'org.dxos/function/x@^1.2.3 | 2': bad selector, expected a version, found '|' at 27"
    )


# --- properties ---------------------------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
labels = st.one_of(
    st.text(_ALNUM, min_size=1, max_size=1),
    st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(_ALNUM),
        st.text(_ALNUM + "-", max_size=61),
        st.sampled_from(_ALNUM),
    ),
)
selectors = st.sampled_from(
    [None, "latest", "beta", "1.2.3", "1.0.0-rc.1+b.2", "^1.2", "~0.1.2", ">=1 <2 || 3.x", "*", "x", "1.2.3 - 2"]
)
dxns = st.builds(
    DXN,
    st.lists(labels, min_size=1, max_size=3).map(".".join),
    st.lists(labels, min_size=2, max_size=4).map(tuple),
    selectors,
)


@settings(max_examples=200, deadline=None)
@given(dxns)
def test_text_round_trips(dxn: DXN) -> None:
    assert DXN.parse(str(dxn)) == dxn
    assert DXN.parse(f"dxn:{str(dxn).upper().split('/', 1)[0]}/{str(dxn).split('/', 1)[1]}") == dxn
    assert DXN.parse(str(dxn.base)) == dxn.base


@settings(max_examples=300, deadline=None)
@given(st.text("aB0.-/@:^1x n", max_size=20))
def test_any_text_parses_canonically_or_fails_with_a_located_error(text: str) -> None:
    try:
        dxn = DXN.parse(text)
    except DXNError as error:
        position = int(str(error).rsplit(" at ", 1)[1])
        assert 0 <= position <= len(text)
    else:
        assert DXN.parse(str(dxn)) == dxn


@pytest.mark.parametrize(
    ("name", "expected"),
    [("com.example", True), ("org.dxos.labs", True), ("Com.Example", False), ("com..x", False), ("", False)],
)
def test_is_authority_accepts_only_canonical_namespaces(name: str, expected: bool) -> None:
    assert is_authority(name) is expected
