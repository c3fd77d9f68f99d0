"""``dmg orchestrator serve``: run the orchestrator service (control API, metrics) on its own data directory.

Registered with ``dmg`` as the entry point ``orchestrator`` of the group ``dmg.commands`` (``pyproject.toml``).
``dmg --help`` imports this module, so the service (the orchestrator core, wasmtime, the web stack) is imported only
when ``serve`` runs.

Settings come from the flags, then ``DMG_ORCHESTRATOR_*`` environment variables, then a TOML config file, then
defaults (:mod:`orchestrator.service.settings`). Modules are installed from ``--registry`` (a registry URL, or a
registry data directory); the operator's resource policy is the ``--policy`` file (:mod:`orchestrator.policy`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from orchestrator.endpoint import DEFAULT_PORT


@click.group()
def orchestrator() -> None:
    """Run the orchestrator that installs and runs functions."""


@orchestrator.command()
@click.option(
    "--registry", default=None, metavar="URL", help="Registry to install from [env DMG_ORCHESTRATOR_REGISTRY]."
)
@click.option("--registry-key", default=None, metavar="VKEY", help="Pin the registry's log key [default: first seen].")
@click.option(
    "--data", "data_dir", type=click.Path(file_okay=False), help="Data directory [env DMG_ORCHESTRATOR_DATA_DIR]."
)
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help=f"Port, 0 for any [default {DEFAULT_PORT}].")
@click.option("--policy", default=None, type=click.Path(dir_okay=False), help="The operator's policy file (TOML).")
@click.option("--workers", type=int, default=None, help="Invocations running at once [default 4].")
@click.option(
    "--config", "config", type=click.Path(dir_okay=False), help="TOML config file [env DMG_ORCHESTRATOR_CONFIG]."
)
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"]))
def serve(
    registry: str | None,
    registry_key: str | None,
    data_dir: str | None,
    host: str | None,
    port: int | None,
    policy: str | None,
    workers: int | None,
    config: str | None,
    log_level: str,
) -> None:
    """Serve the orchestrator: the control API (GraphQL, with GraphiQL) at /graphql, metrics at /metrics."""
    from orchestrator.service.server import serve as run_server  # the service stack loads only to serve
    from orchestrator.service.settings import OrchestratorSettings  # it imports the orchestrator core

    flags = {
        "registry": registry,
        "registry_key": registry_key,
        "data_dir": Path(data_dir) if data_dir else None,
        "host": host,
        "port": port,
        "policy": policy,
        "workers": workers,
        "config": config,
    }
    settings = OrchestratorSettings.load(flags, os.environ)

    def ready(url: str) -> None:
        click.echo(
            f"DMG orchestrator in {settings.data_dir}, installing from {settings.registry or 'the default registry'}"
        )
        click.echo(f"control API: {url}/graphql   metrics: {url}/metrics   stop: Ctrl-C")

    if not asyncio.run(run_server(settings, ready, log_level)):
        sys.exit(1)
