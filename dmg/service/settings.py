"""The registry service's settings, and where they come from.

:meth:`Settings.load` merges four layers, the first that sets a field winning: command-line flags, ``DMG_*``
environment variables (``DMG_PORT=8000`` sets ``port``), an optional TOML config file (``--config FILE`` or
``DMG_CONFIG``; top-level keys named like the fields), and the defaults below. Every value is checked when the
:class:`Settings` is built, and a bad one raises :class:`~dmg.core.errors.ConfigError` naming where it came from.

This module reads configuration only; it opens no data directory and binds no socket.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dmg.core.dxn import DXN
from dmg.core.errors import ConfigError, DXNError
from dmg.paths import default_data_dir

ENV_PREFIX: Final = "DMG_"
CONFIG_ENV: Final = "DMG_CONFIG"
DEFAULT_PORT: Final = 7420
MiB: Final = 1 << 20
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    """How one registry service runs. Limits exist so that no single request can exhaust the server."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_body_bytes: int = 64 * MiB
    """Largest request body accepted (a publish or import CAR); larger ones are answered 413 unread."""
    max_query_depth: int = 10
    """Deepest nesting of fields a GraphQL operation may have."""
    max_query_cost: int = 1000
    """Largest cost a GraphQL operation may have (see :mod:`dmg.service.graphql.limits`)."""
    seed_samples: bool = True
    """Publish the ``org.example`` sample modules into a registry that has none, on start."""
    graphiql: bool = True
    """Serve the GraphiQL IDE to browsers at ``/graphql``."""
    write_rate: float = 10.0
    """Writes per second each client address may sustain (publish, entries, import, mutations); 0 = no limit."""
    write_burst: int = 100
    """Writes a client may make at once before :attr:`write_rate` applies."""
    checkpoint_origin: str = ""
    """The transparency log's origin line in signed checkpoints, also its key's name (no spaces, no ``+``); empty
    means ``dmg.local/<8 hex digits of the operator key's hash>``."""
    reserved_namespaces: str = ""
    """Comma-separated namespaces (each covering those under it) that are claimed only with the operator's
    countersignature."""

    def __post_init__(self) -> None:
        if not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.host:
            raise ConfigError("host: must not be empty")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port (0 to 65535; 0 picks a free one)")
        if self.max_body_bytes < MiB:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is below 1 MiB, the size of one block")
        if self.max_query_depth < 1:
            raise ConfigError(f"max_query_depth: {self.max_query_depth} must be at least 1")
        if self.max_query_cost < 1:
            raise ConfigError(f"max_query_cost: {self.max_query_cost} must be at least 1")
        if self.write_rate < 0:
            raise ConfigError(f"write_rate: {self.write_rate} must not be negative (0 turns the limit off)")
        if self.write_burst < 1:
            raise ConfigError(f"write_burst: {self.write_burst} must be at least 1")
        if "+" in self.checkpoint_origin or any(char.isspace() for char in self.checkpoint_origin):
            raise ConfigError(f"checkpoint_origin: {self.checkpoint_origin!r} must hold no spaces and no '+'")
        for name in self.reserved:
            if not _is_authority(name):
                raise ConfigError(f"reserved_namespaces: {name!r} is not a lowercase authority such as com.example")

    @property
    def reserved(self) -> tuple[str, ...]:
        """The reserved namespaces, from :attr:`reserved_namespaces`."""
        return tuple(name.strip() for name in self.reserved_namespaces.split(",") if name.strip())

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
    ) -> Settings:
        """Merge ``flags`` (None values mean "not given") over ``environ`` over the config file over defaults.

        The config file is ``config_file``, else ``flags["config"]``, else ``environ["DMG_CONFIG"]``, else none.
        """
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


def _is_authority(name: str) -> bool:
    try:
        return DXN(name, ("kind", "name")).authority == name
    except DXNError:
        return False


def _from_text(text: str, kind: type, where: str) -> Any:
    """An environment variable's text as ``kind``."""
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
    known = Settings.fields()
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"config file {str(path)!r}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    return {name: _from_toml(value, known[name], f"config file {str(path)!r}: {name}") for name, value in table.items()}
