"""Record types: module records and the entries of namespace and DXN logs.

One class per signed document, in the manner of python-tuf: ``from_dict`` validates strictly and raises
:class:`RecordError` naming the field and the problem; ``to_dict`` gives the payload map that is DAG-CBOR encoded
and signed. Fields this version does not know are kept in ``unrecognized_fields`` and written back unchanged, so a
newer publisher's record survives a round trip through an older registry with its signature intact.

Payload shapes (links are CIDs, times are integer milliseconds since the Unix epoch):

- module record: ``{type: "module", dxn, version, description, runtime, bundle: CID, functions, resources, apis,
  dependencies, triggers}``
- namespace log: ``{type: "namespace.claim" | "namespace.grant" | "namespace.revoke", namespace, seq, prev, time,
  ...}`` with ``keys`` and an optional ``threshold`` (claim), ``key`` + ``permissions`` (grant), ``key`` (revoke)
- DXN log: ``{type: "release" | "yank" | "unyank", dxn, seq, prev, time, version, ...}`` with ``record`` (release)
  and ``reason`` (yank)

This module checks shape and meaning of one payload; whether an entry may extend a log is
:mod:`dmg.core.namelog`'s job, and signatures are :mod:`dmg.core.envelope`'s.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Generic, TypeVar

import jsonschema_rs
from croniter import croniter

from dmg.core import codec
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import CodecError, DmgError, RecordError
from dmg.core.keys import PublicKey
from dmg.core.semver import Range, Version

RUNTIMES: Final = ("wasi", "container")
SPACE_ACCESS: Final = ("none", "read", "read-write")
PERMISSIONS: Final = ("release", "yank", "grant")
TRIGGER_KINDS: Final = ("timer", "webhook", "subscription", "queue", "email", "registry", "function")
HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_DESCRIPTION: Final = 4096
MAX_FUNCTIONS: Final = 256
MAX_LIST: Final = 1024

_FUNCTION_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
_HOST = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?\Z")


# --- field helpers ------------------------------------------------------------------------------------------

_MISSING: Final = object()


def _is_map(value: Any) -> bool:
    # Decoded payloads hold plain dicts: the exact type test spares the slower ABC check in the common case.
    return type(value) is dict or isinstance(value, Mapping)


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key, _MISSING)
    if type(value) is kind:
        return value
    if value is _MISSING:
        raise RecordError(f"{where}: missing field '{key}'")
    # bool is a subclass of int, but a flag where a count belongs is a mistake worth naming.
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RecordError(f"{where}: field '{key}' must be {names}, not {type(value).__name__}")
    return value


def _optional(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING:
        return default
    if type(value) is kind:
        return value
    return _get(data, key, kind, where)


def _non_negative(data: Mapping[str, Any], key: str, where: str) -> int:
    value = _get(data, key, int, where)
    if value < 0:
        raise RecordError(f"{where}: field '{key}' must not be negative")
    return value


def _unknown(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if data.keys() <= known:
        return {}
    return {key: value for key, value in data.items() if key not in known}


# Names, versions and ranges are immutable values and the same texts recur in every record and log entry, so
# parsing each text once is safe and saves most of the cost of validating a record.
_parse_dxn = functools.lru_cache(maxsize=8192)(DXN.parse)
_parse_version = functools.lru_cache(maxsize=8192)(Version.parse)
_parse_range = functools.lru_cache(maxsize=8192)(Range.parse)


def _dxn(text: Any, where: str, *, selector: bool = False) -> DXN:
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a DXN string")
    try:
        dxn = _parse_dxn(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc
    if not selector and dxn.selector is not None:
        raise RecordError(f"{where}: '{text}' must not carry an @version")
    return dxn


def _version(text: Any, where: str) -> Version:
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a version string")
    try:
        return _parse_version(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc


def _range(text: Any, where: str) -> Range:
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a version range string")
    try:
        return _parse_range(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc


def _check_type(data: Any, expected: str | tuple[str, ...], where: str) -> None:
    if not _is_map(data):
        raise RecordError(f"{where} must be a map")
    allowed = (expected,) if isinstance(expected, str) else expected
    if data.get("type") not in allowed:
        raise RecordError(f"{where}: field 'type' must be {' or '.join(map(repr, allowed))}, not {data.get('type')!r}")


# --- module record ------------------------------------------------------------------------------------------


def _check_json_schema(schema: Any, where: str) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise RecordError(f"{where} must be a JSON Schema object")
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        at = "/".join(map(str, exc.instance_path))
        raise RecordError(f"{where} is not a valid JSON Schema: {exc.message}" + (f" at /{at}" if at else "")) from exc
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        raise RecordError(f"{where} is not a valid JSON Schema: {exc}") from exc
    return schema


@dataclass(frozen=True)
class FunctionSpec:
    """One callable function of a module, with JSON Schemas for its input and output."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"name", "description", "inputSchema", "outputSchema"})

    @classmethod
    def from_dict(cls, data: Any, where: str) -> FunctionSpec:
        if not _is_map(data):
            raise RecordError(f"{where} must be a map")
        name = _get(data, "name", str, where)
        if not _FUNCTION_NAME.match(name):
            raise RecordError(f"{where}: function name {name!r} must match [a-z][a-z0-9_-]{{0,62}}")
        return cls(
            name=name,
            description=_optional(data, "description", str, where, ""),
            input_schema=_check_json_schema(data.get("inputSchema", {}), f"{where}.inputSchema"),
            output_schema=_check_json_schema(data.get("outputSchema", {}), f"{where}.outputSchema"),
            unrecognized_fields=_unknown(data, cls.KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            **self.unrecognized_fields,
        }


@dataclass(frozen=True)
class Resources:
    """What a module asks the orchestrator for. Sizes in bytes, times in milliseconds; ``None`` = not asked."""

    memory: int | None = None
    cpu_timeout_ms: int | None = None
    cpu_fuel: int | None = None
    storage: int | None = None
    network: tuple[str, ...] = ()
    spaces: str = "none"
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"memory", "cpu", "storage", "network", "spaces"})

    @classmethod
    def from_dict(cls, data: Any, where: str = "resources") -> Resources:
        if not _is_map(data):
            raise RecordError(f"{where} must be a map")
        cpu = _optional(data, "cpu", dict, where, {})
        unknown_cpu = set(cpu) - {"timeout", "fuel"}
        if unknown_cpu:
            raise RecordError(f"{where}.cpu: unknown field {sorted(unknown_cpu)[0]!r} (expected 'timeout', 'fuel')")
        network = _optional(data, "network", dict, where, {})
        if set(network) - {"allow"}:
            raise RecordError(f"{where}.network: only 'allow' is understood")
        allow = _optional(network, "allow", list, f"{where}.network", [])
        if len(allow) > MAX_LIST:
            raise RecordError(f"{where}.network.allow: more than {MAX_LIST} hosts")
        for index, host in enumerate(allow):
            if not isinstance(host, str) or not _HOST.match(host):
                raise RecordError(f"{where}.network.allow[{index}]: {host!r} is not a host or host:port")
        spaces = _optional(data, "spaces", str, where, "none")
        if spaces not in SPACE_ACCESS:
            raise RecordError(f"{where}.spaces: must be one of {', '.join(SPACE_ACCESS)}, not {spaces!r}")
        return cls(
            memory=_non_negative(data, "memory", where) if "memory" in data else None,
            cpu_timeout_ms=_non_negative(cpu, "timeout", f"{where}.cpu") if "timeout" in cpu else None,
            cpu_fuel=_non_negative(cpu, "fuel", f"{where}.cpu") if "fuel" in cpu else None,
            storage=_non_negative(data, "storage", where) if "storage" in data else None,
            network=tuple(allow),
            spaces=spaces,
            unrecognized_fields=_unknown(data, cls.KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.memory is not None:
            out["memory"] = self.memory
        cpu = {}
        if self.cpu_timeout_ms is not None:
            cpu["timeout"] = self.cpu_timeout_ms
        if self.cpu_fuel is not None:
            cpu["fuel"] = self.cpu_fuel
        if cpu:
            out["cpu"] = cpu
        if self.storage is not None:
            out["storage"] = self.storage
        if self.network:
            out["network"] = {"allow": list(self.network)}
        out["spaces"] = self.spaces
        out.update(self.unrecognized_fields)
        return out


# Schedules are a few fields; the bound also keeps the cache below small.
MAX_CRON_LENGTH: Final = 256


@functools.lru_cache(maxsize=1024)
def _valid_cron(expression: str) -> bool:
    # croniter expands the whole schedule to validate it (~1 ms); the same few expressions recur everywhere.
    return bool(croniter.is_valid(expression))


def _check_trigger_spec(spec: Any, where: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise RecordError(f"{where} must be a map")
    kind = spec.get("kind")
    if kind not in TRIGGER_KINDS:
        raise RecordError(f"{where}.kind: must be one of {', '.join(TRIGGER_KINDS)}, not {kind!r}")
    if kind == "timer":
        cron = _get(spec, "cron", str, where)
        if len(cron) > MAX_CRON_LENGTH:
            raise RecordError(f"{where}.cron: longer than {MAX_CRON_LENGTH} characters")
        if not _valid_cron(cron):
            raise RecordError(f"{where}.cron: {cron!r} is not a valid cron expression")
    elif kind == "webhook":
        method = _optional(spec, "method", str, where, "POST")
        if method not in HTTP_METHODS:
            raise RecordError(f"{where}.method: must be one of {', '.join(HTTP_METHODS)}, not {method!r}")
    elif kind == "subscription":
        _get(spec, "query", (str, dict), where)
        options = _optional(spec, "options", dict, where, {})
        if "deep" in options:
            _get(options, "deep", bool, f"{where}.options")
        if "delay" in options:
            _non_negative(options, "delay", f"{where}.options")
    elif kind == "queue":
        _dxn(_get(spec, "queue", str, where), f"{where}.queue")
    elif kind == "registry":
        _get(spec, "namespace", str, where)
    elif kind == "function":
        _dxn(_get(spec, "function", str, where), f"{where}.function", selector=True)
    return spec


@dataclass(frozen=True)
class Trigger:
    """Fires ``function`` when ``spec`` (a DXOS trigger spec, discriminated by ``kind``) matches."""

    function: str
    spec: dict[str, Any]
    input: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Trigger:
        if not _is_map(data):
            raise RecordError(f"{where} must be a map")
        unknown = set(data) - {"function", "spec", "input"}
        if unknown:
            raise RecordError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        return cls(
            function=_get(data, "function", str, where),
            spec=_check_trigger_spec(data.get("spec"), f"{where}.spec"),
            input=_optional(data, "input", dict, where, {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "spec": self.spec, "input": self.input}


@dataclass(frozen=True)
class Requirement:
    """A DXN and the versions wanted of it, kept as the publisher wrote them (``^1.2`` stays ``^1.2``)."""

    dxn: DXN
    spec: str
    range: Range = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "range", _range(self.spec, str(self.dxn)))

    def __str__(self) -> str:
        return f"{self.dxn}@{self.spec}"


@dataclass(frozen=True)
class ModuleRecord:
    """One released version of one DXN: what it is, what it runs, what it needs."""

    dxn: DXN
    version: Version
    runtime: str
    bundle: CID
    description: str = ""
    functions: tuple[FunctionSpec, ...] = ()
    resources: Resources = field(default_factory=Resources)
    provides: tuple[tuple[DXN, Version], ...] = ()
    requires: tuple[Requirement, ...] = ()
    dependencies: tuple[Requirement, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    TYPE: ClassVar = "module"
    KNOWN: ClassVar = frozenset(
        {
            "type",
            "dxn",
            "version",
            "description",
            "runtime",
            "bundle",
            "functions",
            "resources",
            "apis",
            "dependencies",
            "triggers",
        }
    )

    def __post_init__(self) -> None:
        if self.dxn.selector is not None:
            raise RecordError("dxn: must not carry an @version")
        if self.runtime not in RUNTIMES:
            raise RecordError(f"runtime: must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")
        if len(self.description) > MAX_DESCRIPTION:
            raise RecordError(f"description: longer than {MAX_DESCRIPTION} characters")
        if len(self.functions) > MAX_FUNCTIONS:
            raise RecordError(f"functions: more than {MAX_FUNCTIONS}")
        names = {function.name for function in self.functions}
        if len(names) != len(self.functions):
            listed = [function.name for function in self.functions]
            duplicates = sorted({name for name in listed if listed.count(name) > 1})
            raise RecordError(f"functions: name {duplicates[0]!r} is declared twice")
        for index, trigger in enumerate(self.triggers):
            if trigger.function not in names:
                raise RecordError(f"triggers[{index}].function: {trigger.function!r} is not a declared function")
        for dependency in self.dependencies:
            if dependency.dxn == self.dxn:
                raise RecordError(f"dependencies: a module cannot depend on itself ({dependency.dxn})")
        for api in (*(api for api, _ in self.provides), *(requirement.dxn for requirement in self.requires)):
            if api.kind != "api":
                raise RecordError(f"apis: {api} is not an api DXN (its kind is {api.kind!r})")

    @classmethod
    def from_dict(cls, data: Any) -> ModuleRecord:
        _check_type(data, cls.TYPE, "module record")
        provides, requires = _apis(_optional(data, "apis", dict, "module record", {}))
        dependencies = _dependencies(_optional(data, "dependencies", dict, "module record", {}))
        bundle = _get(data, "bundle", CID, "module record")
        return cls(
            dxn=_dxn(_get(data, "dxn", str, "module record"), "dxn"),
            version=_version(_get(data, "version", str, "module record"), "version"),
            runtime=_get(data, "runtime", str, "module record"),
            bundle=bundle,
            description=_optional(data, "description", str, "module record", ""),
            functions=_functions(_optional(data, "functions", list, "module record", [])),
            resources=_resources(_optional(data, "resources", dict, "module record", {})),
            provides=provides,
            requires=requires,
            dependencies=dependencies,
            triggers=_triggers(_optional(data, "triggers", list, "module record", [])),
            unrecognized_fields=_unknown(data, cls.KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "dxn": str(self.dxn),
            "version": str(self.version),
            "description": self.description,
            "runtime": self.runtime,
            "bundle": self.bundle,
            "functions": [function.to_dict() for function in self.functions],
            "resources": self.resources.to_dict(),
            "apis": {
                "provides": [f"{api}@{version}" for api, version in self.provides],
                "requires": [str(requirement) for requirement in self.requires],
            },
            "dependencies": {str(requirement.dxn): requirement.spec for requirement in self.dependencies},
            "triggers": [trigger.to_dict() for trigger in self.triggers],
            **self.unrecognized_fields,
        }

    def function(self, name: str) -> FunctionSpec | None:
        return next((function for function in self.functions if function.name == name), None)


# The parts of a module record, each parsed once per distinct content (see _ByContent). The caches hold parts of
# records from anyone, so they are bounded in entries and in the size of what they remember.

PartT = TypeVar("PartT")
_REMEMBERED_ENTRIES: Final = 256
_REMEMBERED_BYTES: Final = 8 << 10


class _ByContent(Generic[PartT]):
    """``parse`` remembered by the canonical DAG-CBOR bytes of its argument.

    Every version of a module repeats the same functions, resources, triggers and dependencies, and equal canonical
    bytes are equal values (what is signed is those bytes), so each distinct part is validated once. A first sight
    parses a decoded copy, so what is remembered shares nothing with the caller's payload; records share these
    frozen parts, which no one may change. A value DAG-CBOR cannot carry, or one larger than ``_REMEMBERED_BYTES``,
    is parsed as it is, every time. Refusals are not remembered: a bad part raises its error on every sight.
    """

    def __init__(self, parse: Callable[[Any], PartT]) -> None:
        self._parse = parse
        self._parse_encoded = functools.lru_cache(maxsize=_REMEMBERED_ENTRIES)(self._parse_decoded)

    def _parse_decoded(self, encoded: bytes) -> PartT:
        return self._parse(codec.decode(encoded))

    def __call__(self, value: Any) -> PartT:
        try:
            encoded = codec.encode(value)
        except CodecError:
            return self._parse(value)
        if len(encoded) > _REMEMBERED_BYTES:
            return self._parse(value)
        return self._parse_encoded(encoded)

    def remembered(self) -> int:
        """How many distinct parts are remembered now."""
        return self._parse_encoded.cache_info().currsize


@_ByContent
def _apis(apis: dict[str, Any]) -> tuple[tuple[tuple[DXN, Version], ...], tuple[Requirement, ...]]:
    if set(apis) - {"provides", "requires"}:
        raise RecordError("apis: only 'provides' and 'requires' are understood")
    provides = []
    for index, text in enumerate(_optional(apis, "provides", list, "apis", [])):
        api = _dxn(text, f"apis.provides[{index}]", selector=True)
        selector = api.version_selector()
        if not isinstance(selector, Version):
            raise RecordError(f"apis.provides[{index}]: {text!r} must name an exact version (api@1.2.3)")
        provides.append((api.base, selector))
    requires = []
    for index, text in enumerate(_optional(apis, "requires", list, "apis", [])):
        api = _dxn(text, f"apis.requires[{index}]", selector=True)
        if api.selector is None or not isinstance(api.version_selector(), Version | Range):
            raise RecordError(f"apis.requires[{index}]: {text!r} must carry a version range (api@^1.0)")
        requires.append(Requirement(api.base, api.selector))
    return tuple(provides), tuple(requires)


@_ByContent
def _dependencies(dependencies: dict[str, Any]) -> tuple[Requirement, ...]:
    parsed = []
    for name, spec in dependencies.items():
        if not isinstance(spec, str):
            raise RecordError(f"dependencies[{name!r}]: must be a version range string")
        try:
            parsed.append(Requirement(_dxn(name, f"dependencies[{name!r}]"), spec))
        except RecordError as exc:
            raise RecordError(f"dependencies[{name!r}]: {exc}") from exc
    return tuple(parsed)


@_ByContent
def _functions(items: list[Any]) -> tuple[FunctionSpec, ...]:
    return tuple(FunctionSpec.from_dict(item, f"functions[{index}]") for index, item in enumerate(items))


@_ByContent
def _resources(data: dict[str, Any]) -> Resources:
    return Resources.from_dict(data)


@_ByContent
def _triggers(items: list[Any]) -> tuple[Trigger, ...]:
    return tuple(Trigger.from_dict(item, f"triggers[{index}]") for index, item in enumerate(items))


# --- log entries --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """Fields every log entry carries: its place in the chain and when it was written."""

    seq: int
    prev: CID | None
    time: int

    TYPE: ClassVar[str] = ""
    KNOWN: ClassVar = frozenset({"type", "seq", "prev", "time"})

    def __post_init__(self) -> None:
        if self.seq < 0:
            raise RecordError("seq: must not be negative")
        if (self.seq == 0) != (self.prev is None):
            raise RecordError("prev: must be null exactly when seq is 0")
        if self.time < 0:
            raise RecordError("time: must not be negative")

    @property
    def log_name(self) -> str:
        """The name of the log this entry extends (a namespace or a DXN)."""
        raise NotImplementedError

    @staticmethod
    def _chain(data: Mapping[str, Any], where: str) -> dict[str, Any]:
        prev = data.get("prev")
        if prev is not None and not isinstance(prev, CID):
            raise RecordError(f"{where}: field 'prev' must be a CID or null")
        if "prev" not in data:
            raise RecordError(f"{where}: missing field 'prev'")
        return {"seq": _non_negative(data, "seq", where), "prev": prev, "time": _non_negative(data, "time", where)}

    def _chain_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "seq": self.seq, "prev": self.prev, "time": self.time}


def _key_field(data: Mapping[str, Any], key: str, where: str) -> PublicKey:
    value = _get(data, key, bytes, where)
    try:
        return PublicKey.from_multicodec(value)
    except DmgError as exc:
        raise RecordError(f"{where}: field '{key}': {exc}") from exc


def _namespace(data: Mapping[str, Any], where: str) -> str:
    text = _get(data, "namespace", str, where)
    try:
        DXN.parse(f"{text}/namespace/check")
    except DmgError as exc:
        raise RecordError(f"{where}: field 'namespace': {text!r} is not a valid authority") from exc
    if text != text.lower():
        raise RecordError(f"{where}: field 'namespace': {text!r} must be lowercase")
    return text


@dataclass(frozen=True)
class NamespaceEntry(LogEntry):
    namespace: str = ""

    @property
    def log_name(self) -> str:
        return self.namespace


@dataclass(frozen=True)
class NamespaceClaim(NamespaceEntry):
    """The first entry of a namespace log: these keys own the namespace with every permission.

    ``threshold`` (m of n) is how many distinct holders of ``grant`` must sign each later grant or revoke, and how
    many of the claimed keys must sign the claim itself. It is written only when it is not 1, so that a claim has
    one encoding; an explicit ``threshold: 1`` is refused.
    """

    keys: tuple[PublicKey, ...] = ()
    threshold: int = 1

    TYPE: ClassVar = "namespace.claim"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.keys:
            raise RecordError("keys: a claim names at least one key")
        if len(set(self.keys)) != len(self.keys):
            raise RecordError("keys: a key is listed twice")
        if isinstance(self.threshold, bool) or not 1 <= self.threshold <= len(self.keys):
            raise RecordError(f"threshold: must be between 1 and the number of keys ({len(self.keys)})")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceClaim:
        where = cls.TYPE
        keys = _get(data, "keys", list, where)
        if len(keys) > MAX_LIST:
            raise RecordError(f"{where}: more than {MAX_LIST} keys")
        if type(data.get("threshold")) is int and data["threshold"] == 1:
            raise RecordError(f"{where}: field 'threshold' is omitted when it is 1 (the default)")
        return cls(
            **cls._chain(data, where),
            namespace=_namespace(data, where),
            keys=tuple(_key_field({"key": key}, "key", f"{where}.keys") for key in keys),
            threshold=_optional(data, "threshold", int, where, 1),
        )

    def to_dict(self) -> dict[str, Any]:
        threshold = {} if self.threshold == 1 else {"threshold": self.threshold}
        return {
            **self._chain_dict(),
            "namespace": self.namespace,
            "keys": [k.multicodec for k in self.keys],
            **threshold,
        }


@dataclass(frozen=True)
class NamespaceGrant(NamespaceEntry):
    """Gives ``key`` the listed permissions over the namespace (replacing any it had)."""

    key: PublicKey | None = None
    permissions: frozenset[str] = frozenset()

    TYPE: ClassVar = "namespace.grant"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.key is None:
            raise RecordError("key: a grant names a key")
        unknown = self.permissions - set(PERMISSIONS)
        if unknown:
            raise RecordError(f"permissions: unknown permission {sorted(unknown)[0]!r}")
        if not self.permissions:
            raise RecordError("permissions: a grant gives at least one permission")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceGrant:
        where = cls.TYPE
        permissions = _get(data, "permissions", list, where)
        if not all(isinstance(p, str) for p in permissions):
            raise RecordError(f"{where}: field 'permissions' must be a list of strings")
        return cls(
            **cls._chain(data, where),
            namespace=_namespace(data, where),
            key=_key_field(data, "key", where),
            permissions=frozenset(permissions),
        )

    def to_dict(self) -> dict[str, Any]:
        assert self.key is not None
        return {
            **self._chain_dict(),
            "namespace": self.namespace,
            "key": self.key.multicodec,
            "permissions": sorted(self.permissions),
        }


@dataclass(frozen=True)
class NamespaceRevoke(NamespaceEntry):
    """Takes every permission from ``key``; what it signed before stays valid."""

    key: PublicKey | None = None

    TYPE: ClassVar = "namespace.revoke"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.key is None:
            raise RecordError("key: a revoke names a key")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceRevoke:
        where = cls.TYPE
        return cls(**cls._chain(data, where), namespace=_namespace(data, where), key=_key_field(data, "key", where))

    def to_dict(self) -> dict[str, Any]:
        assert self.key is not None
        return {**self._chain_dict(), "namespace": self.namespace, "key": self.key.multicodec}


@dataclass(frozen=True)
class DXNEntry(LogEntry):
    dxn: DXN | None = None
    version: Version | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dxn is None or self.version is None:
            raise RecordError("a DXN log entry names a dxn and a version")
        if self.dxn.selector is not None:
            raise RecordError("dxn: must not carry an @version")

    @functools.cached_property
    def log_name(self) -> str:
        return str(self.dxn)

    @property
    def namespace(self) -> str:
        assert self.dxn is not None
        return self.dxn.authority

    @staticmethod
    def _fields(data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            **LogEntry._chain(data, where),
            "dxn": _dxn(_get(data, "dxn", str, where), f"{where}.dxn"),
            "version": _version(_get(data, "version", str, where), f"{where}.version"),
        }

    def _dxn_dict(self) -> dict[str, Any]:
        return {**self._chain_dict(), "dxn": str(self.dxn), "version": str(self.version)}


@dataclass(frozen=True)
class Release(DXNEntry):
    """Publishes ``version`` of ``dxn`` as the module record ``record`` (an envelope CID)."""

    record: CID | None = None

    TYPE: ClassVar = "release"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.record is None:
            raise RecordError("record: a release links its module record")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        where = cls.TYPE
        return cls(**cls._fields(data, where), record=_get(data, "record", CID, where))

    def to_dict(self) -> dict[str, Any]:
        return {**self._dxn_dict(), "record": self.record}


@dataclass(frozen=True)
class Yank(DXNEntry):
    """Marks a released version as not to be picked by ranges; it stays fetchable by exact version."""

    reason: str = ""

    TYPE: ClassVar = "yank"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Yank:
        where = cls.TYPE
        reason = _get(data, "reason", str, where)
        if len(reason) > MAX_DESCRIPTION:
            raise RecordError(f"{where}: field 'reason' longer than {MAX_DESCRIPTION} characters")
        return cls(**cls._fields(data, where), reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {**self._dxn_dict(), "reason": self.reason}


@dataclass(frozen=True)
class Unyank(DXNEntry):
    """Reverses a yank."""

    TYPE: ClassVar = "unyank"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unyank:
        return cls(**cls._fields(data, cls.TYPE))

    def to_dict(self) -> dict[str, Any]:
        return self._dxn_dict()


_ENTRY_TYPES: Final[dict[str, Any]] = {
    kind.TYPE: kind for kind in (NamespaceClaim, NamespaceGrant, NamespaceRevoke, Release, Yank, Unyank)
}
_ENTRY_TYPE_NAMES: Final = tuple(_ENTRY_TYPES)
_ENTRY_FIELDS: Final = {
    kind: LogEntry.KNOWN | fields
    for kind, fields in {
        NamespaceClaim.TYPE: {"namespace", "keys", "threshold"},
        NamespaceGrant.TYPE: {"namespace", "key", "permissions"},
        NamespaceRevoke.TYPE: {"namespace", "key"},
        Release.TYPE: {"dxn", "version", "record"},
        Yank.TYPE: {"dxn", "version", "reason"},
        Unyank.TYPE: {"dxn", "version"},
    }.items()
}


def parse_entry(payload: Any) -> NamespaceEntry | DXNEntry:
    """Parse a log-entry payload into its typed class; unknown fields are refused (entries are a closed set)."""
    _check_type(payload, _ENTRY_TYPE_NAMES, "log entry")
    kind = payload["type"]
    if not payload.keys() <= _ENTRY_FIELDS[kind]:
        unknown = payload.keys() - _ENTRY_FIELDS[kind]
        raise RecordError(f"{kind}: unknown field {sorted(unknown)[0]!r}")
    return _ENTRY_TYPES[kind].from_dict(payload)
