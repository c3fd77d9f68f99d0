"""The orchestrator service's settings: its fields, their defaults and their checks.

:meth:`OrchestratorSettings.load` (from :class:`~dmg.http.settings.LayeredSettings`) merges four layers, the
first that sets a field winning: command-line flags, ``DMG_ORCHESTRATOR_*`` environment variables
(``DMG_ORCHESTRATOR_PORT=7500`` sets ``port``), an optional TOML config file (``--config FILE`` or
``DMG_ORCHESTRATOR_CONFIG``; top-level keys named like the fields), and the defaults below. Every value is
checked when the settings are built; a bad one raises :class:`~dmg.core.errors.ConfigError` naming where it came
from. The operator's resource policy is a file of its own (``policy``; see :mod:`orchestrator.policy`).

This module reads configuration only; it opens nothing and binds no socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dmg.core.errors import ConfigError
from dmg.core.paths import default_orchestrator_dir
from dmg.http.settings import LayeredSettings, MiB
from orchestrator.core import DEFAULT_MAX_QUEUE, DEFAULT_WORKERS
from orchestrator.endpoint import DEFAULT_PORT

ENV_PREFIX: Final = "DMG_ORCHESTRATOR_"
CONFIG_ENV: Final = "DMG_ORCHESTRATOR_CONFIG"


@dataclass(frozen=True)
class OrchestratorSettings(LayeredSettings):
    """How one orchestrator service runs."""

    env_prefix = ENV_PREFIX
    config_env = CONFIG_ENV

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
        super().__post_init__()
        for name in ("workers", "max_queue", "keep_invocations", "max_query_depth", "max_query_cost"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: {getattr(self, name)} must be at least 1")
        if self.max_body_bytes < 64 << 10:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is below 64 KiB")
        if self.http_timeout <= 0:
            raise ConfigError(f"http_timeout: {self.http_timeout} must be positive")
