"""Per-invocation limits, and the operator's policy that turns a module's request into them.

A module asks for resources in its record (``resources.memory``, ``resources.cpu.fuel``, ``resources.cpu.timeout``,
``resources.storage``); the operator sets defaults, used for whatever a module does not ask for, and maximums that
nothing exceeds. :meth:`LimitPolicy.limits_for` applies both. Output and log sizes are the operator's alone.

- ``memory``: bytes of linear memory (``Store.set_limits``); a ``memory.grow`` past it fails.
- ``fuel``: the CPU budget in wasmtime fuel units (about one per WebAssembly operator; a current x86 core burns
  1–3 × 10⁹ a second), refilled for each invocation.
- ``timeout_ms``: the wall-clock deadline of one invocation, enforced by epoch interruption, by bounding
  ``poll_oneoff`` (sleeps) and by bounding host calls.
- ``output``: bytes of result; more fails the invocation with ``OUTPUT_TOO_LARGE``.
- ``logs``: bytes of log kept per invocation; the rest is dropped and the log marked truncated.

Enforcing the limits is a runtime's job (:mod:`orchestrator.runtimes.wasi`); this module only computes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

from dmg.core.errors import UnitError
from dmg.core.records import Resources
from dmg.core.units import GiB, MiB, parse_duration, parse_size
from orchestrator.errors import GrantError


def _names(kind: type) -> list[str]:
    return [item.name for item in fields(kind)]


@dataclass(frozen=True)
class Limits:
    """What one invocation may use. Sizes in bytes, times in milliseconds, CPU in fuel units."""

    memory: int = 64 * MiB
    fuel: int = 10_000_000_000
    timeout_ms: int = 10_000
    output: int = 1 * MiB
    logs: int = 1 * MiB

    _SIZES: ClassVar = frozenset({"memory", "output", "logs"})

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise GrantError(f"limits.{item.name}: must be a non-negative integer, not {value!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "limits") -> Limits:
        """Read limits as an operator writes them: sizes as ``64MiB`` or bytes, ``timeout`` as ``10s`` or ms."""
        if not isinstance(data, Mapping):
            raise GrantError(f"{where}: must be a mapping")
        names = {item.name for item in fields(cls)} - {"timeout_ms"} | {"timeout"}
        unknown = sorted(set(map(str, data)) - names)
        if unknown:
            raise GrantError(f"{where}.{unknown[0]}: unknown limit (known: {', '.join(sorted(names))})")
        values: dict[str, int] = {}
        try:
            for name, value in data.items():
                key = f"{where}.{name}"
                if name == "timeout":
                    values["timeout_ms"] = parse_duration(value, key)
                elif name in cls._SIZES:
                    values[name] = parse_size(value, key)
                else:
                    values[name] = value
        except UnitError as exc:
            raise GrantError(str(exc)) from exc
        return cls(**values)

    def to_dict(self) -> dict[str, int]:
        out = asdict(self)
        out["timeout"] = out.pop("timeout_ms")
        return out

    def capped_by(self, maximums: Limits) -> Limits:
        """Each limit lowered to its maximum."""
        return Limits(**{name: min(getattr(self, name), getattr(maximums, name)) for name in _names(Limits)})


DEFAULT_MAXIMUMS = Limits(memory=1 * GiB, fuel=100_000_000_000, timeout_ms=300_000, output=16 * MiB, logs=16 * MiB)


@dataclass(frozen=True)
class LimitPolicy:
    """The operator's defaults and maximums; no module gets more than the maximums, whatever it asks."""

    defaults: Limits = field(default_factory=Limits)
    maximums: Limits = DEFAULT_MAXIMUMS
    max_storage: int = 1 * GiB

    def __post_init__(self) -> None:
        for item in fields(Limits):
            default, maximum = getattr(self.defaults, item.name), getattr(self.maximums, item.name)
            if default > maximum:
                raise GrantError(f"limits.{item.name}: the default {default} is above the maximum {maximum}")
        if not isinstance(self.max_storage, int) or isinstance(self.max_storage, bool) or self.max_storage < 0:
            raise GrantError(f"limits.max_storage: must be a non-negative integer, not {self.max_storage!r}")

    def limits_for(self, resources: Resources) -> Limits:
        """The limits a module gets: what it asked for, else the defaults, never above the maximums."""
        asked = {
            "memory": resources.memory,
            "fuel": resources.cpu_fuel,
            "timeout_ms": resources.cpu_timeout_ms,
        }
        chosen = replace(self.defaults, **{name: value for name, value in asked.items() if value is not None})
        return chosen.capped_by(self.maximums)

    def storage_quota_for(self, resources: Resources) -> int | None:
        """The storage quota a module gets, or ``None`` when it asked for no storage."""
        return None if resources.storage is None else min(resources.storage, self.max_storage)
