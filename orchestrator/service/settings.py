"""The orchestrator service's settings, and where they come from (the conventions of :mod:`dmg.service.settings`).

:meth:`OrchestratorSettings.load` merges four layers, the first that sets a field winning: command-line flags,
``DMG_ORCHESTRATOR_*`` environment variables (``DMG_ORCHESTRATOR_PORT=7500`` sets ``port``), an optional TOML
config file (``--config FILE`` or ``DMG_ORCHESTRATOR_CONFIG``; top-level keys named like the fields), and the
defaults below. Every value is checked when the settings are built; a bad one raises
:class:`~dmg.core.errors.ConfigError` naming where it came from. The operator's resource policy is a file of its
own (``policy``; see :mod:`orchestrator.policy`).

This module reads configuration only; it opens nothing and binds no socket.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dmg.core.errors import ConfigError
from orchestrator.core import DEFAULT_MAX_QUEUE, DEFAULT_WORKERS

ENV_PREFIX: Final = "DMG_ORCHESTRATOR_"
CONFIG_ENV: Final = "DMG_ORCHESTRATOR_CONFIG"
DEFAULT_PORT: Final = 7421
MiB: Final = 1 << 20
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def default_orchestrator_dir() -> Path:
    """``$XDG_DATA_HOME/dmg/orchestrator`` (``~/.local/share/dmg/orchestrator`` when XDG_DATA_HOME is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "dmg" / "orchestrator"


@dataclass(frozen=True)
class OrchestratorSettings:
    """How one orchestrator service runs."""

    registry: str = ""
    """The registry modules are installed from: a URL or a data directory ("" = ``$DMG_REGISTRY``, else the
    default registry data directory)."""
    registry_key: str = ""
    """The note verifier key the registry's transparency log must be signed with ("" = the key it shows first,
    then pinned in the data directory)."""
    data_dir: Path = field(default_factory=default_orchestrator_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    policy: str = ""
    """The operator's policy file (TOML; see :mod:`orchestrator.policy`); "" = the built-in policy."""
    workers: int = DEFAULT_WORKERS
    """Threads running invocations at once."""
    max_queue: int = DEFAULT_MAX_QUEUE
    """Invocations a paused function may hold before more are refused."""
    keep_invocations: int = 200
    """Finished invocation records kept per function (the oldest are pruned)."""
    max_body_bytes: int = 16 * MiB
    """Largest request body accepted (an invocation's input travels in it)."""
    max_query_depth: int = 10
    max_query_cost: int = 1000
    graphiql: bool = True
    http_timeout: float = 10.0
    """Seconds a function's HTTP request (``dmg.http_fetch``) may wait at most."""

    def __post_init__(self) -> None:
        if not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.host:
            raise ConfigError("host: must not be empty")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port (0 to 65535; 0 picks a free one)")
        for name in ("workers", "max_queue", "keep_invocations", "max_query_depth", "max_query_cost"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: {getattr(self, name)} must be at least 1")
        if self.max_body_bytes < 64 << 10:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is below 64 KiB")
        if self.http_timeout <= 0:
            raise ConfigError(f"http_timeout: {self.http_timeout} must be positive")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def fields(cls) -> dict[str, type]:
        """Each setting's name and the type its text is converted to."""
        types = {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}
        return {item.name: types[str(item.type)] for item in dataclasses.fields(cls)}

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
    ) -> OrchestratorSettings:
        """Merge ``flags`` (None values mean "not given") over ``environ`` over the config file over defaults."""
        flags = {name: value for name, value in (flags or {}).items() if value is not None}
        environ = environ or {}
        path = config_file or flags.pop("config", None) or environ.get(CONFIG_ENV)
        flags.pop("config", None)
        merged: dict[str, Any] = {}
        if path:
            merged.update(_read_config(Path(path)))
        for name, kind in cls.fields().items():
            text = environ.get(ENV_PREFIX + name.upper())
            if text is not None:
                merged[name] = _from_text(text, kind, f"environment variable {ENV_PREFIX}{name.upper()}")
        unknown = sorted(set(flags) - set(cls.fields()))
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        merged.update(flags)
        return cls(**merged)


def _from_text(text: str, kind: type, where: str) -> Any:
    if kind is bool:
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE
        raise ConfigError(f"{where}: {text!r} is not a boolean (use true or false)")
    if kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            raise ConfigError(f"{where}: {text!r} is not {'an integer' if kind is int else 'a number'}") from None
    return kind(text)


def _from_toml(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = str if kind is Path else kind
    if type(value) is not expected:
        names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
        raise ConfigError(f"{where}: {value!r} is not {names[expected]}")
    return kind(value)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            table = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    known = OrchestratorSettings.fields()
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"config file {str(path)!r}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    return {name: _from_toml(value, known[name], f"config file {str(path)!r}: {name}") for name, value in table.items()}
