from __future__ import annotations

from typing import Any

import pytest

from dmg.core import codec
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import RecordError
from dmg.core.keys import SigningKey
from dmg.core.records import (
    NamespaceClaim,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
    parse_entry,
)
from dmg.core.semver import Version

PREV = CID.of(b"prev")
KEY = SigningKey.from_seed(bytes(32)).public_key

ENTRIES = [
    NamespaceClaim(seq=0, prev=None, time=1, namespace="com.example", keys=(KEY,)),
    NamespaceGrant(seq=1, prev=PREV, time=2, namespace="com.example", key=KEY, permissions=frozenset({"release"})),
    NamespaceRevoke(seq=2, prev=PREV, time=3, namespace="com.example", key=KEY),
]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.TYPE)
def test_namespace_entries_round_trip(entry: Any) -> None:
    assert parse_entry(codec.decode(codec.encode(entry.to_dict()))) == entry
    assert entry.log_name == "com.example"


def test_dxn_entries_round_trip() -> None:
    payloads = [
        {
            "type": "release",
            "dxn": "com.example/function/x",
            "version": "1.0.0",
            "seq": 0,
            "prev": None,
            "time": 5,
            "record": PREV,
        },
        {
            "type": "yank",
            "dxn": "com.example/function/x",
            "version": "1.0.0",
            "seq": 1,
            "prev": PREV,
            "time": 5,
            "reason": "broken",
        },
        {"type": "unyank", "dxn": "com.example/function/x", "version": "1.0.0", "seq": 2, "prev": PREV, "time": 6},
    ]
    kinds = [Release, Yank, Unyank]
    for payload, kind in zip(payloads, kinds, strict=True):
        entry = parse_entry(payload)
        assert type(entry) is kind
        assert entry.to_dict() == payload
        assert entry.log_name == "com.example/function/x"
        assert entry.namespace == "com.example"


RELEASE = {
    "type": "release",
    "dxn": "com.example/function/x",
    "version": "1.0.0",
    "seq": 1,
    "prev": PREV,
    "time": 5,
    "record": PREV,
}

BAD_ENTRIES = [
    ({"type": "bogus"}, "field 'type' must be"),
    ({**RELEASE, "seq": -1}, "must not be negative"),
    ({**RELEASE, "seq": 0}, "prev: must be null exactly when seq is 0"),
    ({**RELEASE, "prev": None}, "prev: must be null exactly when seq is 0"),
    ({**RELEASE, "prev": "bafy"}, "'prev' must be a CID or null"),
    ({k: v for k, v in RELEASE.items() if k != "prev"}, "missing field 'prev'"),
    ({**RELEASE, "time": "now"}, "field 'time' must be int"),
    ({**RELEASE, "record": None}, "field 'record' must be CID"),
    ({**RELEASE, "version": "v1"}, "version"),
    ({**RELEASE, "dxn": "com.example/function/x@1.0.0"}, "must not carry an @version"),
    ({**RELEASE, "extra": 1}, "unknown field 'extra'"),
    (
        {"type": "yank", "dxn": "com.example/function/x", "version": "1.0.0", "seq": 1, "prev": PREV, "time": 5},
        "missing field 'reason'",
    ),
    (
        {"type": "namespace.claim", "namespace": "com.example", "seq": 0, "prev": None, "time": 1, "keys": []},
        "at least one key",
    ),
    (
        {
            "type": "namespace.claim",
            "namespace": "com.example",
            "seq": 0,
            "prev": None,
            "time": 1,
            "keys": [KEY.multicodec, KEY.multicodec],
        },
        "listed twice",
    ),
    (
        {
            "type": "namespace.claim",
            "namespace": "Com.Example",
            "seq": 0,
            "prev": None,
            "time": 1,
            "keys": [KEY.multicodec],
        },
        "must be lowercase",
    ),
    (
        {
            "type": "namespace.claim",
            "namespace": "bad..name",
            "seq": 0,
            "prev": None,
            "time": 1,
            "keys": [KEY.multicodec],
        },
        "not a valid authority",
    ),
    (
        {
            "type": "namespace.grant",
            "namespace": "com.example",
            "seq": 1,
            "prev": PREV,
            "time": 1,
            "key": KEY.multicodec,
            "permissions": ["root"],
        },
        "unknown permission 'root'",
    ),
    (
        {
            "type": "namespace.grant",
            "namespace": "com.example",
            "seq": 1,
            "prev": PREV,
            "time": 1,
            "key": KEY.multicodec,
            "permissions": [],
        },
        "at least one permission",
    ),
    (
        {"type": "namespace.revoke", "namespace": "com.example", "seq": 1, "prev": PREV, "time": 1, "key": b"x"},
        "field 'key'",
    ),
]


@pytest.mark.parametrize(("payload", "message"), BAD_ENTRIES)
def test_bad_entries_are_refused_with_the_field_named(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_entry(payload)


def test_entries_take_keywords_and_need_every_field() -> None:
    with pytest.raises(TypeError):
        NamespaceRevoke(2, PREV, 3, "com.example", KEY)  # type: ignore[misc]
    with pytest.raises(TypeError, match="record"):
        Release(seq=0, prev=None, time=1, dxn=DXN.parse("com.example/function/x"), version=Version(1, 0, 0))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="reason"):
        Yank(seq=1, prev=PREV, time=1, dxn=DXN.parse("com.example/function/x"), version=Version(1, 0, 0))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: NamespaceRevoke(seq=1, prev=PREV, time=1, namespace="com.example", key=None),
            "^key: must be a PublicKey",
        ),
        (lambda: NamespaceClaim(seq=0, prev=None, time=1, namespace="Com.Example", keys=(KEY,)), "must be lowercase"),
        (
            lambda: Release(
                seq=1, prev=PREV, time=1, dxn="com.example/function/x", version=Version(1, 0, 0), record=PREV
            ),
            "^dxn: must be a DXN, not str",
        ),
        (
            lambda: Release(
                seq=1, prev=PREV, time=1, dxn=DXN.parse("com.example/function/x"), version=Version(1, 0, 0), record=None
            ),
            "^record: a release links its module record by CID",
        ),
        (
            lambda: Yank(
                seq=1,
                prev=PREV,
                time=1,
                dxn=DXN.parse("com.example/function/x"),
                version=Version(1, 0, 0),
                reason="x" * 4097,
            ),
            "^reason: longer than 4096 characters",
        ),
    ],
)
def test_entry_constructors_check_their_values(build: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        build()
