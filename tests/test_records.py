from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from dmg.core import codec
from dmg.core.cid import CID, RAW
from dmg.core.errors import RecordError
from dmg.core.keys import SigningKey
from dmg.core.records import (
    ModuleRecord,
    NamespaceClaim,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
    parse_entry,
)

BUNDLE = CID.of(b"bundle", RAW)
PREV = CID.of(b"prev")
KEY = SigningKey.from_seed(bytes(32)).public_key


def module() -> dict[str, Any]:
    return {
        "type": "module",
        "dxn": "com.example/function/mail-bridge",
        "version": "1.4.0",
        "description": "Mirrors an IMAP mailbox into a space",
        "runtime": "wasi",
        "bundle": BUNDLE,
        "functions": [
            {
                "name": "sync",
                "description": "Fetch new mail",
                "inputSchema": {"type": "object", "properties": {"mailbox": {"type": "string"}}},
                "outputSchema": {"type": "object"},
            }
        ],
        "resources": {
            "memory": 32 * 1024 * 1024,
            "cpu": {"timeout": 5000},
            "storage": 10 * 1024 * 1024,
            "network": {"allow": ["imap.example.com:993"]},
            "spaces": "read-write",
        },
        "apis": {"provides": ["com.example/api/mail@1.0.0"], "requires": ["org.dxos/api/echo@^0.1"]},
        "dependencies": {"org.dxos/function/universal-indexer": "^1.2"},
        "triggers": [
            {"function": "sync", "spec": {"kind": "timer", "cron": "*/5 * * * *"}, "input": {"mailbox": "INBOX"}}
        ],
    }


def test_module_record_round_trip_is_byte_identical() -> None:
    data = module()
    record = ModuleRecord.from_dict(data)
    assert record.resources.memory == 32 * 1024 * 1024
    assert record.dependencies[0].spec == "^1.2"
    again = ModuleRecord.from_dict(record.to_dict())
    assert codec.encode(again.to_dict()) == codec.encode(record.to_dict())
    assert record.function("sync") is not None and record.function("nope") is None


def test_unknown_fields_are_preserved() -> None:
    data = module()
    data["future"] = {"x": 1}
    data["functions"][0]["mode"] = "long-lived"
    record = ModuleRecord.from_dict(data)
    out = record.to_dict()
    assert out["future"] == {"x": 1}
    assert out["functions"][0]["mode"] == "long-lived"


def test_every_trigger_kind_is_understood() -> None:
    specs = [
        {"kind": "timer", "cron": "0 * * * *"},
        {"kind": "webhook", "method": "GET"},
        {"kind": "subscription", "query": {"type": "dxos.org/type/Message"}, "options": {"deep": True, "delay": 100}},
        {"kind": "queue", "queue": "com.example/queue/inbox"},
        {"kind": "email"},
        {"kind": "registry", "namespace": "org.dxos"},
        {"kind": "function", "function": "com.example/function/other"},
    ]
    data = module()
    data["triggers"] = [{"function": "sync", "spec": spec, "input": {"event": "{{$.trigger.event}}"}} for spec in specs]
    assert len(ModuleRecord.from_dict(data).triggers) == len(specs)


def _edit(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(module())
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


_DELETE = object()

BAD_MODULES = [
    ("type", "release", "field 'type' must be 'module'"),
    ("dxn", "Com..example/x", "dxn"),
    ("dxn", "com.example/function/x@1.0.0", "must not carry an @version"),
    ("dxn", _DELETE, "missing field 'dxn'"),
    ("version", "1.0", "version"),
    ("version", 1, "field 'version' must be str"),
    ("runtime", "jvm", "runtime: must be one of wasi, container"),
    ("bundle", "bafy...", "field 'bundle' must be CID"),
    ("description", "x" * 5000, "longer than"),
    ("functions.0.name", "Sync", "function name 'Sync'"),
    ("functions.0.inputSchema", {"type": "nonsense"}, "not a valid JSON Schema"),
    ("functions.0.outputSchema", [], "must be a JSON Schema object"),
    ("functions", [{"name": "a"}, {"name": "a"}], "declared twice"),
    ("resources.memory", -1, "must not be negative"),
    ("resources.memory", "32MiB", "field 'memory' must be int"),
    ("resources.memory", True, "field 'memory' must be int"),
    ("resources.cpu", {"timeout": 5, "cores": 2}, "unknown field 'cores'"),
    ("resources.network", {"allow": ["bad host!"]}, "not a host"),
    ("resources.spaces", "admin", "resources.spaces"),
    ("apis.provides", ["com.example/api/mail@^1"], "exact version"),
    ("apis.provides", ["com.example/function/mail@1.0.0"], "not an api DXN"),
    ("apis.requires", ["org.dxos/api/echo@latest"], "version range"),
    ("apis.other", [], "only 'provides' and 'requires'"),
    ("dependencies", {"com.example/function/mail-bridge": "^1"}, "cannot depend on itself"),
    ("dependencies", {"org.dxos/function/x": "^^1"}, "dependencies"),
    ("triggers.0.function", "other", "not a declared function"),
    ("triggers.0.spec", {"kind": "timer", "cron": "every minute"}, "not a valid cron expression"),
    ("triggers.0.spec", {"kind": "timer", "cron": "* " * 200 + "*"}, "cron: longer than 256 characters"),
    ("triggers.0.spec", {"kind": "telepathy"}, "kind: must be one of"),
    ("triggers.0.spec", {"kind": "webhook", "method": "BREW"}, "method"),
    ("triggers.0.spec", {"kind": "subscription"}, "missing field 'query'"),
    (
        "triggers.0.spec",
        {"kind": "subscription", "query": "q", "options": {"deep": "yes"}},
        "field 'deep' must be bool",
    ),
    ("triggers.0.spec", {"kind": "queue", "queue": "nope"}, "queue"),
    ("triggers.0.extra", 1, "unknown field 'extra'"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_MODULES)
def test_bad_module_records_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace("^", r"\^")):
        ModuleRecord.from_dict(_edit(path, value))


def test_repeated_parts_are_equal_and_do_not_follow_the_payload() -> None:
    data = module()
    first = ModuleRecord.from_dict(data)
    second = ModuleRecord.from_dict(module())
    assert first == second and first.triggers == second.triggers and first.resources == second.resources
    data["functions"][0]["inputSchema"]["type"] = "array"
    data["triggers"][0]["input"]["mailbox"] = "Spam"
    assert ModuleRecord.from_dict(module()).functions[0].input_schema["type"] == "object"
    assert first.functions[0].input_schema["type"] == "object"
    assert first.triggers[0].input == {"mailbox": "INBOX"}


def test_a_refused_part_is_refused_every_time() -> None:
    bad = _edit("resources.memory", -1)
    for _ in range(2):
        with pytest.raises(RecordError, match="must not be negative"):
            ModuleRecord.from_dict(bad)
    assert ModuleRecord.from_dict(module()).resources.memory == 32 * 1024 * 1024


def test_parts_dag_cbor_cannot_carry_are_judged_as_they_are() -> None:
    data = module()
    data["triggers"][0]["input"] = {"threshold": float("nan")}
    assert math.isnan(ModuleRecord.from_dict(data).triggers[0].input["threshold"])
    with pytest.raises(RecordError, match="not a valid JSON Schema"):
        ModuleRecord.from_dict(_edit("functions.0.inputSchema", {"type": "object", "enum": {1, 2}}))


def test_large_parts_are_judged_every_time_and_not_remembered() -> None:
    from dmg.core import records

    data = module()
    data["functions"][0]["description"] = "x" * (records._REMEMBERED_BYTES + 1)
    data["functions"][0]["inputSchema"]["description"] = "y" * (records._REMEMBERED_BYTES + 1)
    parts_before = records._functions.remembered()
    assert ModuleRecord.from_dict(data).functions[0].description == "x" * (records._REMEMBERED_BYTES + 1)
    assert records._functions.remembered() == parts_before
    data["functions"][0]["inputSchema"]["type"] = 12
    with pytest.raises(RecordError, match="not a valid JSON Schema"):
        ModuleRecord.from_dict(data)


def test_module_record_must_be_a_map() -> None:
    with pytest.raises(RecordError, match="must be a map"):
        ModuleRecord.from_dict([1, 2])


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
