"""The registry service's settings: its fields, their defaults and their checks.

:meth:`Settings.load` (from :class:`~dmg.http.settings.LayeredSettings`) merges four layers, the first that sets a
field winning: command-line flags, ``DMG_*`` environment variables (``DMG_PORT=8000`` sets ``port``), an optional
TOML config file (``--config FILE`` or ``DMG_CONFIG``; top-level keys named like the fields), and the defaults
below. Every value is checked when the :class:`Settings` is built, and a bad one raises
:class:`~dmg.core.errors.ConfigError` naming where it came from.

This module reads configuration only; it opens no data directory and binds no socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dmg.core.dxn import is_authority
from dmg.core.errors import ConfigError
from dmg.core.paths import default_data_dir
from dmg.http.settings import LayeredSettings, MiB

ENV_PREFIX: Final = "DMG_"
CONFIG_ENV: Final = "DMG_CONFIG"
DEFAULT_PORT: Final = 7420


@dataclass(frozen=True)
class Settings(LayeredSettings):
    """How one registry service runs. Limits exist so that no single request can exhaust the server."""

    env_prefix = ENV_PREFIX
    config_env = CONFIG_ENV

    data_dir: Path = field(default_factory=default_data_dir)
    store: str = ""
    """Where the registry's data lives (:func:`dmg.store.open_store`): empty for the embedded SQLite store in
    :attr:`data_dir`, ``sqlite:PATH`` for one elsewhere. The operator key stays in :attr:`data_dir`."""
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_body_bytes: int = 64 * MiB
    """Largest request body accepted (a publish or import CAR); larger ones are answered 413 unread."""
    max_query_depth: int = 10
    """Deepest nesting of fields a GraphQL operation may have."""
    max_query_cost: int = 1000
    """Largest cost a GraphQL operation may have (see :mod:`dmg.http.graphql_cost`)."""
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
    admin_token: str = ""
    """The bearer token of the operator API (``/api/v1/peers``, ``/api/v1/sync``); empty turns that API off."""
    sync_interval: float = 30.0
    """Seconds between syncs of each mirrored peer (a publish there also triggers one at once)."""
    peers: tuple[dict[str, Any], ...] = ()
    """Peers declared in the config file, ``[[peers]]`` tables with ``name``, ``url``, ``namespaces`` and optional
    ``mode``, ``registry_key`` and ``token`` (see ``docs/federation.md``); added on start if not known yet."""
    reserved_namespaces: str = ""
    """Comma-separated namespaces (each covering those under it) that are claimed only with the operator's
    countersignature."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_body_bytes < MiB:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is below 1 MiB, the size of one block")
        if self.max_query_depth < 1:
            raise ConfigError(f"max_query_depth: {self.max_query_depth} must be at least 1")
        if self.max_query_cost < 1:
            raise ConfigError(f"max_query_cost: {self.max_query_cost} must be at least 1")
        if self.write_rate < 0:
            raise ConfigError(f"write_rate: {self.write_rate} must not be negative (0 turns the limit off)")
        if self.sync_interval <= 0:
            raise ConfigError(f"sync_interval: {self.sync_interval} must be a positive number of seconds")
        if self.write_burst < 1:
            raise ConfigError(f"write_burst: {self.write_burst} must be at least 1")
        if "+" in self.checkpoint_origin or any(char.isspace() for char in self.checkpoint_origin):
            raise ConfigError(f"checkpoint_origin: {self.checkpoint_origin!r} must hold no spaces and no '+'")
        for name in self.reserved:
            if not is_authority(name):
                raise ConfigError(f"reserved_namespaces: {name!r} is not a lowercase authority such as com.example")

    @property
    def reserved(self) -> tuple[str, ...]:
        """The reserved namespaces, from :attr:`reserved_namespaces`."""
        return tuple(name.strip() for name in self.reserved_namespaces.split(",") if name.strip())
