"""Settings of an HTTP service, merged from four layers: flags > environment > TOML config file > defaults.

:class:`LayeredSettings` is the base of each service's frozen settings dataclass, which declares its fields (at
least ``data_dir``, ``host`` and ``port``), its environment prefix and the variable naming its config file.
:meth:`LayeredSettings.load` merges the layers, the first that sets a field winning: command-line flags,
environment variables (prefix + the field's name in capitals), an optional TOML config file whose top-level keys
are named like the fields, and the dataclass defaults. Text from the environment is converted to the field's type;
a config file's values must already have it. A field typed as a tuple (``tuple[dict[str, Any], ...]``) is a list of
tables that only a config file can set (``[[peers]]``). Every problem raises
:class:`~dmg.core.errors.ConfigError` naming where the value came from.

This module reads configuration only; it opens no data directory and binds no socket.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final, Self

from dmg.core.errors import ConfigError

MiB: Final = 1 << 20
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_TYPES: Final[dict[str, type]] = {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}


class LayeredSettings:
    """Base of a service's ``@dataclass(frozen=True)`` settings; subclasses set the two class variables."""

    env_prefix: ClassVar[str]
    """Prefix of the environment variables that set fields (``DMG_`` makes ``DMG_PORT`` set ``port``)."""
    config_env: ClassVar[str]
    """The environment variable naming the TOML config file."""

    data_dir: Path
    host: str
    port: int

    def __post_init__(self) -> None:
        """Check the fields every service has; subclasses check theirs after calling this."""
        if not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.host:
            raise ConfigError("host: must not be empty")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port (0 to 65535; 0 picks a free one)")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def fields(cls) -> dict[str, type]:
        """Each setting's name and the type its text is converted to."""
        return {item.name: _type_of(str(item.type)) for item in dataclasses.fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
    ) -> Self:
        """Merge ``flags`` (None values mean "not given") over ``environ`` over the config file over defaults.

        The config file is ``config_file``, else ``flags["config"]``, else ``environ[cls.config_env]``, else none.
        """
        flags = {name: value for name, value in (flags or {}).items() if value is not None}
        environ = environ or {}
        config_flag = flags.pop("config", None)
        path = config_file or config_flag or environ.get(cls.config_env)
        known = cls.fields()
        merged: dict[str, Any] = {}
        if path:
            merged.update(_read_config(Path(path), known))
        for name, kind in known.items():
            variable = cls.env_prefix + name.upper()
            text = environ.get(variable)
            if text is not None:
                merged[name] = _from_text(text, kind, f"environment variable {variable}")
        unknown = sorted(set(flags) - set(known))
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        merged.update(flags)
        return cls(**merged)


def _type_of(annotation: str) -> type:
    return tuple if annotation.startswith("tuple[") else _TYPES[annotation]


def _from_text(text: str, kind: type, where: str) -> Any:
    """An environment variable's text as ``kind``."""
    if kind is tuple:
        raise ConfigError(f"{where}: a list of tables is set in the config file only")
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
    """A config file's value, which must already have the right TOML type (an int may stand for a float)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ConfigError(f"{where}: must be a list of tables ([[...]] in TOML)")
        return tuple(value)
    expected = str if kind is Path else kind
    if type(value) is not expected:
        names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
        raise ConfigError(f"{where}: {value!r} is not {names[expected]}")
    return kind(value)


def _read_config(path: Path, known: dict[str, type]) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            table = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"config file {str(path)!r}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    return {name: _from_toml(value, known[name], f"config file {str(path)!r}: {name}") for name, value in table.items()}
