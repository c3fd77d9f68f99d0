from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from dmg.core import codec
from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.errors import BundleError, RecordError
from dmg.core.records import (
    FunctionSpec,
    Mode,
    ModuleRecord,
    Resources,
    Runtime,
    TimerTrigger,
    Trigger,
)
from dmg.core.records import cache as part_cache
from dmg.core.records import module as module_record
from dmg.core.semver import Version

BUNDLE = CID.of(b"bundle", RAW)


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
    data["functions"][0]["later"] = [1, 2]
    data["resources"]["gpu"] = 1
    record = ModuleRecord.from_dict(data)
    assert record.unrecognized_fields == {"future": {"x": 1}}
    assert record.functions[0].unrecognized_fields == {"later": [1, 2]}
    out = record.to_dict()
    assert out["future"] == {"x": 1}
    assert out["functions"][0]["later"] == [1, 2]
    assert out["resources"]["gpu"] == 1


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
    ("mode", "forever", "^mode: must be 'lambda' or 'long-lived', not 'forever'"),
    ("mode", None, "^mode: must be 'lambda' or 'long-lived', not None"),
    ("functions.0.mode", 3, r"^functions\[0\]\.mode: must be 'lambda' or 'long-lived', not 3"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_MODULES)
def test_bad_module_records_name_the_field(path: str, value: Any, message: str) -> None:
    pattern = message if message.startswith("^") else message.replace("(", r"\(").replace("^", r"\^")
    with pytest.raises(RecordError, match=pattern):
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
    large = part_cache.REMEMBERED_BYTES + 1
    data = module()
    data["functions"][0]["description"] = "x" * large
    data["functions"][0]["inputSchema"]["description"] = "y" * large
    parts_before = module_record._functions.remembered()
    assert ModuleRecord.from_dict(data).functions[0].description == "x" * large
    assert module_record._functions.remembered() == parts_before
    data["functions"][0]["inputSchema"]["type"] = 12
    with pytest.raises(RecordError, match="not a valid JSON Schema"):
        ModuleRecord.from_dict(data)


def test_module_record_must_be_a_map() -> None:
    with pytest.raises(RecordError, match="must be a map"):
        ModuleRecord.from_dict([1, 2])


def full_module() -> dict[str, Any]:
    """A record with every optional field set, fields this version does not know, and one trigger of each kind."""
    data = module()
    data["mode"] = "long-lived"
    data["future"] = {"x": [1, None, b"\x00"]}
    data["functions"].append(
        {"name": "once", "description": "", "mode": "lambda", "inputSchema": {}, "outputSchema": {}, "later": 1}
    )
    data["resources"]["cpu"]["fuel"] = 10**9
    data["triggers"] = [
        {"function": "sync", "spec": spec, "input": {"event": "{{$.trigger.event}}"}}
        for spec in (
            {"kind": "timer", "cron": "0 * * * *", "catchUp": "one", "jitter": 5},
            {"kind": "webhook", "method": "GET", "port": 8080},
            {"kind": "webhook"},
            {
                "kind": "subscription",
                "query": {"typename": "dxos.org/type/Message", "filter": {"read": False}, "ast": {"type": "select"}},
                "options": {"deep": True, "delay": 100, "limit": 3},
            },
            {"kind": "subscription", "query": "from:dxos.org/type/Message", "options": {}},
            {"kind": "queue", "queue": "dxn:com.example/queue/inbox"},
            {"kind": "feed", "feed": "com.example/feed/mail"},
            {"kind": "email"},
            {"kind": "registry", "namespace": "org.dxos", "dxn": "org.dxos/function/universal-indexer"},
            {"kind": "function", "function": "com.example/function/other@^1", "on": "failure"},
            {"kind": "signal", "name": "com.example.mailbox/synced"},
        )
    ]
    return data


@pytest.mark.parametrize("payload", [module, full_module], ids=["plain", "full"])
def test_a_record_round_trips_byte_for_byte(payload: Any) -> None:
    encoded = codec.encode(payload())
    record = ModuleRecord.from_dict(codec.decode(encoded))
    assert codec.encode(record.to_dict()) == encoded
    assert ModuleRecord.from_dict(record.to_dict()) == record


def test_the_mode_is_typed_and_absent_means_lambda_unwritten() -> None:
    plain = ModuleRecord.from_dict(module())
    assert plain.mode is None and plain.functions[0].mode is None
    assert "mode" not in plain.to_dict() and "mode" not in plain.to_dict()["functions"][0]
    full = ModuleRecord.from_dict(full_module())
    assert full.mode is Mode.LONG_LIVED and full.unrecognized_fields == {"future": {"x": [1, None, b"\x00"]}}
    assert [function.mode for function in full.functions] == [None, Mode.LAMBDA]
    written = ModuleRecord.from_dict({**module(), "mode": "lambda"})
    assert written.mode is Mode.LAMBDA and written.to_dict()["mode"] == "lambda"
    assert tuple(Mode) == ("lambda", "long-lived")


def record_fields(**changes: Any) -> dict[str, Any]:
    return {
        "dxn": DXN.parse("com.example/function/x"),
        "version": Version(1, 0, 0),
        "runtime": "wasi",
        "bundle": BUNDLE,
        "functions": (FunctionSpec(name="run"),),
        **changes,
    }


def test_constructors_take_keywords_and_need_every_required_field() -> None:
    assert ModuleRecord(**record_fields()).resources == Resources()
    with pytest.raises(TypeError, match="bundle"):
        ModuleRecord(**{key: value for key, value in record_fields().items() if key != "bundle"})
    with pytest.raises(TypeError):
        FunctionSpec("run")  # type: ignore[misc]
    assert ModuleRecord(**record_fields(mode="long-lived")).mode is Mode.LONG_LIVED
    assert FunctionSpec(name="run", mode="lambda").mode is Mode.LAMBDA


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ModuleRecord(**record_fields(runtime="jvm")), "^runtime: must be one of wasi, container, not 'jvm'"),
        (lambda: ModuleRecord(**record_fields(mode="forever")), "^mode: must be 'lambda' or 'long-lived'"),
        (lambda: ModuleRecord(**record_fields(dxn="com.example/function/x")), "^dxn: must be a DXN, not str"),
        (lambda: ModuleRecord(**record_fields(bundle=None)), "^bundle: must be a CID"),
        (
            lambda: ModuleRecord(**record_fields(unrecognized_fields={"mode": "lambda"})),
            "^unrecognized_fields: 'mode' is a known field",
        ),
        (lambda: FunctionSpec(name="Run"), "^name: function name 'Run' must match"),
        (lambda: FunctionSpec(name="run", mode=3), "^mode: must be 'lambda' or 'long-lived', not 3"),
        (lambda: FunctionSpec(name="run", input_schema={"type": 5}), "^inputSchema is not a valid JSON Schema"),
        (lambda: Resources(memory=-1), "^memory: must be a non-negative integer or None, not -1"),
        (lambda: Resources(cpu_fuel=True), "^cpu.fuel: must be a non-negative integer"),
        (lambda: Resources(network=("bad host!",)), r"^network\.allow\[0\]: 'bad host!' is not a host"),
        (lambda: Resources(spaces="admin"), "^spaces: must be one of none, read, read-write, not 'admin'"),
    ],
)
def test_constructors_check_their_values(build: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        build()


def test_the_runtimes_are_one_enum_shared_with_bundles() -> None:
    from dmg.core.bundle import check_content

    assert tuple(Runtime) == ("wasi", "container")
    with pytest.raises(BundleError, match="unknown runtime 'jvm'; expected one of wasi, container"):
        check_content(b"x", "jvm")
    with pytest.raises(BundleError, match="container bundle"):
        check_content(b"x", Runtime.CONTAINER)


def test_a_trigger_names_a_declared_function() -> None:
    trigger = Trigger(function="other", spec=TimerTrigger(cron="* * * * *"))
    with pytest.raises(RecordError, match=r"^triggers\[0\]\.function: 'other' is not a declared function"):
        ModuleRecord(**record_fields(triggers=(trigger,)))
