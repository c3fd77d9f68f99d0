"""The operator's policy: which resources a module may be granted, and the decision for one module record.

A module asks for resources in its record: memory, CPU time (``cpu.timeout``) and fuel (``cpu.fuel``), storage,
network hosts and space access. The operator answers with a :class:`Policy`, read from a TOML file::

    [defaults]          # what a module gets for what it does not ask for, and the output and log sizes
    memory = "64MiB"
    timeout = "10s"
    fuel = 10000000000
    output = "1MiB"
    logs = "1MiB"

    [allow]             # the most any module may be granted
    memory = "256MiB"
    timeout = "30s"
    fuel = 50000000000
    storage = "16MiB"
    network = ["api.example.com", "*.example.org:8443"]
    spaces = "read"

    [modules."com.example/function/mail-bridge"]    # more for one module; the keys of [allow]
    network = ["imap.example.com:993"]
    storage = "1GiB"

and with the ``--grant KEY=VALUE`` options of one install (:class:`GrantSet`), which widen or narrow the allowance
for the modules of that install: a value replaces the allowed value, network hosts are added to the allowed ones.

:meth:`Policy.decide` checks every resource a record asks for against the allowance and gives a :class:`Decision`:
one :class:`ResourceCheck` per resource (what was asked, what is allowed, whether it is granted) and, when all are
granted, the :class:`GrantedResources` the function gets. A module is granted what it asks for and no more, so an
allowance is an upper bound, never a gift: a module that asks for no network gets none, whatever the policy
allows. What a module does not ask for it gets from ``[defaults]`` (never above the allowance). Without a policy
file no module gets storage, network or space access, and limits up to the runtime's defaults.

Nothing exceeds the runtime's maximums (:data:`~orchestrator.runtimes.limits.DEFAULT_MAXIMUMS`): an allowance or a
grant above them is a :class:`~orchestrator.errors.GrantError`. Space access is granted and recorded here; the
host imports that use it come with agents.

This module decides; it runs nothing and stores nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from dmg.core.dxn import DXN
from dmg.core.errors import DmgError, UnitError
from dmg.core.records import SPACE_ACCESS, ModuleRecord
from dmg.core.units import format_duration, format_size, parse_duration, parse_size
from orchestrator.errors import GrantError, PolicyError
from orchestrator.runtimes.limits import DEFAULT_MAXIMUMS, LimitPolicy, Limits
from orchestrator.runtimes.network import AllowEntry, AllowList

ALLOWANCE_KEYS: Final = ("memory", "timeout", "fuel", "storage", "network", "spaces")
"""The keys of ``[allow]``, of each ``[modules."<dxn>"]`` table, and of ``--grant KEY=VALUE``."""

def _space_rank(level: str) -> int:
    return SPACE_ACCESS.index(level)


def _covers(pattern: AllowEntry, asked: AllowEntry) -> bool:
    """Whether allowing ``pattern`` allows everything ``asked`` could reach."""
    if pattern.port != asked.port:
        return False
    if not pattern.wildcard:
        return not asked.wildcard and asked.host == pattern.host
    under = asked.host.endswith("." + pattern.host)
    # *.b covers any host under b (not b itself), and *.b and *.a.b (every subdomain of a.b is one of b)
    return under or (asked.wildcard and asked.host == pattern.host)


def _parsed(parse: Any, value: Any, where: str) -> int:
    try:
        parsed: int = parse(value, where)
    except UnitError as exc:
        raise GrantError(str(exc)) from exc
    return parsed


# --- what may be granted --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantSet:
    """Allowance values set by a ``[modules."<dxn>"]`` table or by ``--grant`` options; ``None`` = not set."""

    memory: int | None = None
    timeout_ms: int | None = None
    fuel: int | None = None
    storage: int | None = None
    network: tuple[AllowEntry, ...] = ()
    spaces: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> GrantSet:
        """From a TOML table with the keys of :data:`ALLOWANCE_KEYS`."""
        if not isinstance(data, Mapping):
            raise GrantError(f"{where}: must be a table")
        unknown = sorted(set(data) - set(ALLOWANCE_KEYS))
        if unknown:
            raise GrantError(f"{where}.{unknown[0]}: unknown resource (known: {', '.join(ALLOWANCE_KEYS)})")
        values: dict[str, Any] = {}
        if "memory" in data:
            values["memory"] = _parsed(parse_size, data["memory"], f"{where}.memory")
        if "timeout" in data:
            values["timeout_ms"] = _parsed(parse_duration, data["timeout"], f"{where}.timeout")
        if "fuel" in data:
            fuel = data["fuel"]
            if not isinstance(fuel, int) or isinstance(fuel, bool) or fuel < 0:
                raise GrantError(f"{where}.fuel: must be a non-negative integer, not {fuel!r}")
            values["fuel"] = fuel
        if "storage" in data:
            values["storage"] = _parsed(parse_size, data["storage"], f"{where}.storage")
        if "network" in data:
            hosts = data["network"]
            if isinstance(hosts, str) or not isinstance(hosts, list):
                raise GrantError(f'{where}.network: must be a list of hosts such as ["api.example.com:443"]')
            values["network"] = AllowList.parse(hosts).entries
        if "spaces" in data:
            spaces = data["spaces"]
            if spaces not in SPACE_ACCESS:
                raise GrantError(f"{where}.spaces: must be one of {', '.join(SPACE_ACCESS)}, not {spaces!r}")
            values["spaces"] = spaces
        return cls(**values)

    @classmethod
    def parse(cls, options: Iterable[str]) -> GrantSet:
        """From ``--grant KEY=VALUE`` options (``memory=128MiB``, ``network=api.example.com:443``...); ``network``
        may be given several times, and takes several hosts separated by commas."""
        if isinstance(options, str):
            raise GrantError("grants: must be a list of KEY=VALUE strings, not one string")
        table: dict[str, Any] = {}
        for option in options:
            key, equals, value = option.partition("=") if isinstance(option, str) else ("", "", "")
            key, value = key.strip(), value.strip()
            if not equals or not key or not value:
                raise GrantError(f"grant {option!r}: write KEY=VALUE with KEY one of {', '.join(ALLOWANCE_KEYS)}")
            if key == "network":
                table.setdefault("network", []).extend(host.strip() for host in value.split(","))
            elif key in table:
                raise GrantError(f"grant {option!r}: {key} is granted twice")
            else:
                table[key] = int(value) if key == "fuel" and value.isdigit() else value
        return cls.from_dict(table, "grant")

    def to_list(self) -> list[str]:
        """The ``KEY=VALUE`` strings :meth:`parse` reads back into this set."""
        out = []
        if self.memory is not None:
            out.append(f"memory={self.memory}")
        if self.timeout_ms is not None:
            out.append(f"timeout={self.timeout_ms}ms")
        if self.fuel is not None:
            out.append(f"fuel={self.fuel}")
        if self.storage is not None:
            out.append(f"storage={self.storage}")
        out.extend(f"network={entry}" for entry in self.network)
        if self.spaces is not None:
            out.append(f"spaces={self.spaces}")
        return out

    def __bool__(self) -> bool:
        return bool(self.to_list())


@dataclass(frozen=True)
class Allowance:
    """The most a module may be granted of each resource."""

    memory: int
    timeout_ms: int
    fuel: int
    storage: int = 0
    network: tuple[AllowEntry, ...] = ()
    spaces: str = "none"

    def widened(self, grants: GrantSet) -> Allowance:
        """This allowance with ``grants`` applied: values replaced, network hosts added."""
        values = {name: getattr(grants, name) for name in ("memory", "timeout_ms", "fuel", "storage", "spaces")}
        network = self.network + tuple(entry for entry in grants.network if entry not in self.network)
        return replace(self, **{name: value for name, value in values.items() if value is not None}, network=network)

    def check_within(self, maximums: Limits, storage_maximum: int, where: str) -> None:
        """Raise :class:`GrantError` when a value is above what the runtime can give anyone."""
        for name, value, maximum, show in (
            ("memory", self.memory, maximums.memory, format_size),
            ("timeout", self.timeout_ms, maximums.timeout_ms, format_duration),
            ("fuel", self.fuel, maximums.fuel, str),
            ("storage", self.storage, storage_maximum, format_size),
        ):
            if value > maximum:
                raise GrantError(f"{where}.{name}: {show(value)} is above the runtime's maximum of {show(maximum)}")


# --- what was granted -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantedResources:
    """What one installed function got: its limits, storage quota (``None``: no storage), network hosts and space
    access. Persisted with the function, so it keeps them across restarts."""

    limits: Limits
    storage: int | None = None
    network: tuple[str, ...] = ()
    spaces: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "limits": self.limits.to_dict(),
            "storage": self.storage,
            "network": list(self.network),
            "spaces": self.spaces,
        }

    @classmethod
    def from_dict(cls, data: Any) -> GrantedResources:
        if not isinstance(data, Mapping) or set(data) != {"limits", "storage", "network", "spaces"}:
            raise GrantError("granted resources: expected a map of limits, storage, network and spaces")
        limits = data["limits"]
        if not isinstance(limits, Mapping):
            raise GrantError("granted resources: limits must be a map")
        storage = data["storage"]
        if storage is not None and (not isinstance(storage, int) or isinstance(storage, bool) or storage < 0):
            raise GrantError(f"granted resources: storage must be a byte count or null, not {storage!r}")
        network = data["network"]
        AllowList.parse(network)
        if data["spaces"] not in SPACE_ACCESS:
            raise GrantError(f"granted resources: spaces must be one of {', '.join(SPACE_ACCESS)}")
        return cls(Limits.from_dict(limits), storage, tuple(network), data["spaces"])


@dataclass(frozen=True)
class ResourceCheck:
    """One resource a module asks for: what it asked, what the policy allows, and whether it is granted."""

    resource: str
    asked: str
    allowed: str
    granted: bool

    def refusal(self, module: str) -> str:
        return f"{module} asks for {self.resource} {self.asked}; the policy allows {self.allowed}"


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one module: every check, and what it is granted when nothing is refused."""

    module: str
    checks: tuple[ResourceCheck, ...]
    granted: GrantedResources | None

    @property
    def allowed(self) -> bool:
        return self.granted is not None

    @property
    def refusals(self) -> tuple[str, ...]:
        return tuple(check.refusal(self.module) for check in self.checks if not check.granted)


def refuse(decisions: Iterable[Decision]) -> None:
    """Raise one :class:`PolicyError` naming every refused resource of every decision, if any was refused."""
    refusals = tuple(refusal for decision in decisions for refusal in decision.refusals)
    if refusals:
        hint = "grant them in the policy file or with --grant KEY=VALUE"
        raise PolicyError(f"not installed: {'; '.join(refusals)} ({hint})", refusals)


# --- the policy -----------------------------------------------------------------------------------------------


def _default_allowance(defaults: Limits) -> Allowance:
    return Allowance(memory=defaults.memory, timeout_ms=defaults.timeout_ms, fuel=defaults.fuel)


@dataclass(frozen=True)
class Policy:
    """The operator's defaults, the allowance for every module, and more for named modules."""

    defaults: Limits = field(default_factory=Limits)
    allow: Allowance | None = None
    modules: Mapping[str, GrantSet] = field(default_factory=dict)
    maximums: Limits = DEFAULT_MAXIMUMS
    max_storage: int = LimitPolicy().max_storage

    def __post_init__(self) -> None:
        if self.allow is None:
            object.__setattr__(self, "allow", _default_allowance(self.defaults))
        LimitPolicy(self.defaults, self.maximums, self.max_storage)  # a default above its maximum raises here
        self.allowance.check_within(self.maximums, self.max_storage, "allow")
        for name, grants in self.modules.items():
            self.allowance.widened(grants).check_within(self.maximums, self.max_storage, f"modules.{name}")

    @property
    def allowance(self) -> Allowance:
        assert self.allow is not None
        return self.allow

    @property
    def limit_policy(self) -> LimitPolicy:
        """The runtime's limit policy: these defaults, the runtime's maximums."""
        return LimitPolicy(defaults=self.defaults, maximums=self.maximums, max_storage=self.max_storage)

    @classmethod
    def from_dict(cls, data: Any, where: str = "policy") -> Policy:
        """From the tables ``[defaults]``, ``[allow]`` and ``[modules."<dxn>"]``; all optional."""
        if not isinstance(data, Mapping):
            raise GrantError(f"{where}: must be a table")
        unknown = sorted(set(data) - {"defaults", "allow", "modules"})
        if unknown:
            raise GrantError(f'{where}: unknown table [{unknown[0]}] (known: [defaults], [allow], [modules."<dxn>"])')
        defaults = Limits.from_dict(data.get("defaults", {}), f"{where}: defaults")
        allow = _default_allowance(defaults).widened(GrantSet.from_dict(data.get("allow", {}), f"{where}: allow"))
        tables = data.get("modules", {})
        if not isinstance(tables, Mapping):
            raise GrantError(f'{where}: modules must hold tables such as [modules."com.example/function/x"]')
        modules = {}
        for name, table in tables.items():
            modules[_module_name(name, where)] = GrantSet.from_dict(table, f"{where}: modules.{name}")
        return cls(defaults=defaults, allow=allow, modules=modules)

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read the policy file at ``path`` (TOML)."""
        try:
            with Path(path).open("rb") as stream:
                data = tomllib.load(stream)
        except OSError as exc:
            raise GrantError(f"policy file {str(path)!r}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise GrantError(f"policy file {str(path)!r} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, f"policy file {str(path)!r}")

    def to_dict(self) -> dict[str, Any]:
        """The policy in the shape of its file (sizes in bytes, times in milliseconds)."""
        return {
            "defaults": self.defaults.to_dict(),
            "allow": _allowance_dict(self.allowance),
            "modules": {name: grants.to_list() for name, grants in self.modules.items()},
        }

    def allowance_for(self, module: str, grants: GrantSet | None = None) -> Allowance:
        """What ``module`` may be granted: ``[allow]``, widened by its ``[modules]`` table, then by ``grants``."""
        allowance = self.allowance.widened(self.modules.get(module, GrantSet()))
        if grants:
            allowance = allowance.widened(grants)
            allowance.check_within(self.maximums, self.max_storage, "grant")
        return allowance

    def decide(self, record: ModuleRecord, grants: GrantSet | None = None) -> Decision:
        """Check every resource ``record`` asks for; grant them all, or say which are refused."""
        module = str(record.dxn)
        allowance = self.allowance_for(module, grants)
        asked = record.resources
        checks: list[ResourceCheck] = []

        def bounded(resource: str, asked_value: int | None, default: int, allowed: int, show: Any) -> int:
            if asked_value is None:
                return min(default, allowed)
            checks.append(ResourceCheck(resource, show(asked_value), show(allowed), asked_value <= allowed))
            return asked_value

        defaults = self.defaults
        memory = bounded("memory", asked.memory, defaults.memory, allowance.memory, format_size)
        timeout = bounded(
            "cpu.timeout", asked.cpu_timeout_ms, defaults.timeout_ms, allowance.timeout_ms, format_duration
        )
        fuel = bounded("cpu.fuel", asked.cpu_fuel, defaults.fuel, allowance.fuel, str)
        if asked.storage is not None:
            allowed_storage = format_size(allowance.storage) if allowance.storage else "no storage"
            checks.append(
                ResourceCheck(
                    "storage", format_size(asked.storage), allowed_storage, asked.storage <= allowance.storage
                )
            )
        allowed_hosts = ", ".join(map(str, allowance.network)) or "no network"
        for host in asked.network:
            wanted = AllowEntry.parse(host)
            covered = any(_covers(pattern, wanted) for pattern in allowance.network)
            checks.append(ResourceCheck("network", host, allowed_hosts, covered))
        if asked.spaces != "none":
            granted_spaces = _space_rank(asked.spaces) <= _space_rank(allowance.spaces)
            checks.append(ResourceCheck("spaces", asked.spaces, allowance.spaces, granted_spaces))
        if not all(check.granted for check in checks):
            return Decision(module, tuple(checks), None)
        limits = replace(self.defaults, memory=memory, timeout_ms=timeout, fuel=fuel)
        granted = GrantedResources(limits, asked.storage, tuple(asked.network), asked.spaces)
        return Decision(module, tuple(checks), granted)


def _allowance_dict(allowance: Allowance) -> dict[str, Any]:
    return {
        "memory": allowance.memory,
        "timeout": allowance.timeout_ms,
        "fuel": allowance.fuel,
        "storage": allowance.storage,
        "network": [str(entry) for entry in allowance.network],
        "spaces": allowance.spaces,
    }


def _module_name(name: str, where: str) -> str:
    try:
        dxn = DXN.parse(name)
    except DmgError as exc:
        raise GrantError(f"{where}: modules.{name}: {exc}") from exc
    if dxn.selector is not None:
        raise GrantError(f"{where}: modules.{name}: name a module without @version")
    return str(dxn)
