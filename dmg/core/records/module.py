"""The module record: one released version of one DXN, what it runs and what it needs.

The payload (``type: "module"``) is ``{dxn, version, description, runtime, bundle: CID, mode?, functions,
resources, apis, dependencies, triggers}``, in the manner of python-tuf: :meth:`ModuleRecord.from_dict` checks the
shape of a decoded payload and raises :class:`~dmg.core.errors.RecordError` naming the field and the problem;
the constructors check what the values mean, so a record built in code is held to the same rules; ``to_dict``
gives the payload map that is DAG-CBOR encoded and signed. Fields this version does not know are kept in
``unrecognized_fields`` and written back unchanged, so a newer publisher's record survives a round trip through an
older registry with its signature intact; optional fields that are absent are not written, so a record encodes to
the bytes it was read from.

``mode`` says how the orchestrator runs the functions (:class:`Mode`): the record's ``mode`` applies to every
function, a function's own ``mode`` overrides it for that function, and without either a function is a lambda.
``runtime`` is one of :class:`Runtime`, the one list of runtimes (bundles check their content by it).

This module does not check signatures (:mod:`dmg.core.envelope`), fetch or check bundles (:mod:`dmg.core.bundle`),
or decide whether a record may be released (:mod:`dmg.core.namelog`, the registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Final

import jsonschema_rs

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import RecordError
from dmg.core.records._fields import (
    as_dxn,
    as_range,
    as_version,
    build,
    check_type,
    check_unrecognized,
    is_map,
    member,
    non_negative,
    optional,
    required,
    unknown,
)
from dmg.core.records.cache import ByContent
from dmg.core.records.triggers import Trigger
from dmg.core.semver import Range, Version

SPACE_ACCESS: Final = ("none", "read", "read-write")
MAX_DESCRIPTION: Final = 4096
MAX_FUNCTIONS: Final = 256
MAX_LIST: Final = 1024

_FUNCTION_NAME: Final = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
_HOST: Final = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?\Z")


class Runtime(StrEnum):
    """What runs a module's bundle: a WASI core module, or an OCI container image."""

    WASI = "wasi"
    CONTAINER = "container"


_RUNTIMES: Final = tuple(Runtime)


class Mode(StrEnum):
    """How the orchestrator runs a function: a fresh instance per event, or one instance kept across events."""

    LAMBDA = "lambda"
    LONG_LIVED = "long-lived"


def _check_json_schema(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        raise RecordError(f"{where} must be a JSON Schema object")
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        at = "/".join(map(str, exc.instance_path))
        raise RecordError(f"{where} is not a valid JSON Schema: {exc.message}" + (f" at /{at}" if at else "")) from exc
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        raise RecordError(f"{where} is not a valid JSON Schema: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One callable function of a module, with JSON Schemas for its input and output.

    ``mode`` None (not written) means the module's mode applies.
    """

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)
    mode: Mode | None = None
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"name", "description", "inputSchema", "outputSchema", "mode"})

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _FUNCTION_NAME.match(self.name):
            raise RecordError(f"name: function name {self.name!r} must match [a-z][a-z0-9_-]{{0,62}}")
        if not isinstance(self.description, str):
            raise RecordError(f"description: must be a string, not {type(self.description).__name__}")
        _check_json_schema(self.input_schema, "inputSchema")
        _check_json_schema(self.output_schema, "outputSchema")
        if self.mode is not None:
            object.__setattr__(self, "mode", member(Mode, self.mode, "mode"))
        check_unrecognized(self.unrecognized_fields, self.KNOWN)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> FunctionSpec:
        if not is_map(data):
            raise RecordError(f"{where} must be a map")
        fields = {
            "name": required(data, "name", str, where),
            "description": optional(data, "description", str, where, ""),
            "input_schema": data.get("inputSchema", {}),
            "output_schema": data.get("outputSchema", {}),
            "mode": member(Mode, data["mode"], f"{where}.mode") if "mode" in data else None,
            "unrecognized_fields": unknown(data, cls.KNOWN),
        }
        return build(cls, where, fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            **({} if self.mode is None else {"mode": str(self.mode)}),
            **self.unrecognized_fields,
        }


def _check_amount(value: Any, where: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise RecordError(f"{where}: must be a non-negative integer or None, not {value!r}")


@dataclass(frozen=True, kw_only=True)
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

    def __post_init__(self) -> None:
        _check_amount(self.memory, "memory")
        _check_amount(self.cpu_timeout_ms, "cpu.timeout")
        _check_amount(self.cpu_fuel, "cpu.fuel")
        _check_amount(self.storage, "storage")
        if len(self.network) > MAX_LIST:
            raise RecordError(f"network.allow: more than {MAX_LIST} hosts")
        for index, host in enumerate(self.network):
            if not isinstance(host, str) or not _HOST.match(host):
                raise RecordError(f"network.allow[{index}]: {host!r} is not a host or host:port")
        if self.spaces not in SPACE_ACCESS:
            raise RecordError(f"spaces: must be one of {', '.join(SPACE_ACCESS)}, not {self.spaces!r}")
        check_unrecognized(self.unrecognized_fields, self.KNOWN)

    @classmethod
    def from_dict(cls, data: Any, where: str = "resources") -> Resources:
        if not is_map(data):
            raise RecordError(f"{where} must be a map")
        cpu = optional(data, "cpu", dict, where, {})
        unknown_cpu = set(cpu) - {"timeout", "fuel"}
        if unknown_cpu:
            raise RecordError(f"{where}.cpu: unknown field {sorted(unknown_cpu)[0]!r} (expected 'timeout', 'fuel')")
        network = optional(data, "network", dict, where, {})
        if set(network) - {"allow"}:
            raise RecordError(f"{where}.network: only 'allow' is understood")
        fields = {
            "memory": non_negative(data, "memory", where) if "memory" in data else None,
            "cpu_timeout_ms": non_negative(cpu, "timeout", f"{where}.cpu") if "timeout" in cpu else None,
            "cpu_fuel": non_negative(cpu, "fuel", f"{where}.cpu") if "fuel" in cpu else None,
            "storage": non_negative(data, "storage", where) if "storage" in data else None,
            "network": tuple(optional(network, "allow", list, f"{where}.network", [])),
            "spaces": optional(data, "spaces", str, where, "none"),
            "unrecognized_fields": unknown(data, cls.KNOWN),
        }
        return build(cls, where, fields)

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


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """A DXN and the versions wanted of it, kept as the publisher wrote them (``^1.2`` stays ``^1.2``)."""

    dxn: DXN
    spec: str
    range: Range = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "range", as_range(self.spec, str(self.dxn)))

    def __str__(self) -> str:
        return f"{self.dxn}@{self.spec}"


@dataclass(frozen=True, kw_only=True)
class ModuleRecord:
    """One released version of one DXN: what it is, what it runs, what it needs.

    ``mode`` None (not written) means every function without a mode of its own is a lambda.
    """

    dxn: DXN
    version: Version
    runtime: str
    bundle: CID
    description: str = ""
    mode: Mode | None = None
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
            "mode",
            "functions",
            "resources",
            "apis",
            "dependencies",
            "triggers",
        }
    )

    def __post_init__(self) -> None:
        if not isinstance(self.dxn, DXN):
            raise RecordError(f"dxn: must be a DXN, not {type(self.dxn).__name__}")
        if self.dxn.selector is not None:
            raise RecordError("dxn: must not carry an @version")
        if not isinstance(self.version, Version):
            raise RecordError(f"version: must be a Version, not {type(self.version).__name__}")
        if self.runtime not in _RUNTIMES:
            raise RecordError(f"runtime: must be one of {', '.join(Runtime)}, not {self.runtime!r}")
        if not isinstance(self.bundle, CID):
            raise RecordError(f"bundle: must be a CID, not {type(self.bundle).__name__}")
        if len(self.description) > MAX_DESCRIPTION:
            raise RecordError(f"description: longer than {MAX_DESCRIPTION} characters")
        if self.mode is not None:
            object.__setattr__(self, "mode", member(Mode, self.mode, "mode"))
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
        check_unrecognized(self.unrecognized_fields, self.KNOWN)

    @classmethod
    def from_dict(cls, data: Any) -> ModuleRecord:
        where = "module record"
        check_type(data, cls.TYPE, where)
        provides, requires = _apis(optional(data, "apis", dict, where, {}))
        return cls(
            dxn=as_dxn(required(data, "dxn", str, where), "dxn"),
            version=as_version(required(data, "version", str, where), "version"),
            runtime=required(data, "runtime", str, where),
            bundle=required(data, "bundle", CID, where),
            description=optional(data, "description", str, where, ""),
            mode=member(Mode, data["mode"], "mode") if "mode" in data else None,
            functions=_functions(optional(data, "functions", list, where, [])),
            resources=_resources(optional(data, "resources", dict, where, {})),
            provides=provides,
            requires=requires,
            dependencies=_dependencies(optional(data, "dependencies", dict, where, {})),
            triggers=_triggers(optional(data, "triggers", list, where, [])),
            unrecognized_fields=unknown(data, cls.KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "dxn": str(self.dxn),
            "version": str(self.version),
            "description": self.description,
            "runtime": self.runtime,
            "bundle": self.bundle,
            **({} if self.mode is None else {"mode": str(self.mode)}),
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


# The parts of a module record, each parsed once per distinct content (see ByContent).


@ByContent
def _apis(apis: dict[str, Any]) -> tuple[tuple[tuple[DXN, Version], ...], tuple[Requirement, ...]]:
    if set(apis) - {"provides", "requires"}:
        raise RecordError("apis: only 'provides' and 'requires' are understood")
    provides = []
    for index, text in enumerate(optional(apis, "provides", list, "apis", [])):
        api = as_dxn(text, f"apis.provides[{index}]", selector=True)
        selector = api.version_selector()
        if not isinstance(selector, Version):
            raise RecordError(f"apis.provides[{index}]: {text!r} must name an exact version (api@1.2.3)")
        provides.append((api.base, selector))
    requires = []
    for index, text in enumerate(optional(apis, "requires", list, "apis", [])):
        api = as_dxn(text, f"apis.requires[{index}]", selector=True)
        if api.selector is None or not isinstance(api.version_selector(), Version | Range):
            raise RecordError(f"apis.requires[{index}]: {text!r} must carry a version range (api@^1.0)")
        requires.append(Requirement(dxn=api.base, spec=api.selector))
    return tuple(provides), tuple(requires)


@ByContent
def _dependencies(dependencies: dict[str, Any]) -> tuple[Requirement, ...]:
    parsed = []
    for name, spec in dependencies.items():
        if not isinstance(spec, str):
            raise RecordError(f"dependencies[{name!r}]: must be a version range string")
        try:
            parsed.append(Requirement(dxn=as_dxn(name, f"dependencies[{name!r}]"), spec=spec))
        except RecordError as exc:
            raise RecordError(f"dependencies[{name!r}]: {exc}") from exc
    return tuple(parsed)


@ByContent
def _functions(items: list[Any]) -> tuple[FunctionSpec, ...]:
    return tuple(FunctionSpec.from_dict(item, f"functions[{index}]") for index, item in enumerate(items))


@ByContent
def _resources(data: dict[str, Any]) -> Resources:
    return Resources.from_dict(data)


@ByContent
def _triggers(items: list[Any]) -> tuple[Trigger, ...]:
    return tuple(Trigger.from_dict(item, f"triggers[{index}]") for index, item in enumerate(items))
