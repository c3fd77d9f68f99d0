"""``dmg serve``: run the registry service (GraphQL, blocks, REST) on the embedded SQLite registry.

Settings come from the flags, then ``DMG_*`` environment variables, then a TOML config file, then defaults
(:mod:`dmg.service.settings`). The GraphQL URL is printed once the server listens. ``dmg --help`` imports this
module, so the service stack (uvicorn, Starlette, Strawberry) is imported only when ``serve`` runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dmg.core.checkpoint import NoteSigner
from dmg.registry import default_origin, load_operator_key
from dmg.service.settings import DEFAULT_PORT, Settings


def log_key(settings: Settings) -> str:
    """The verifier key of the registry's signed checkpoints (the operator key is made on first open)."""
    operator = load_operator_key(settings.data_dir)
    origin = settings.checkpoint_origin or default_origin(operator.public_key)
    return NoteSigner(origin, Ed25519PrivateKey.from_private_bytes(operator.seed())).verifier().to_vkey()


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), help="Data directory [env DMG_DATA_DIR].")
@click.option("--store", default=None, metavar="URL", help="Store: sqlite:PATH [env DMG_STORE; default: --data].")
@click.option("--host", default=None, help="Address to listen on [env DMG_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help=f"Port, 0 for any [env DMG_PORT; default {DEFAULT_PORT}].")
@click.option("--config", "config", type=click.Path(dir_okay=False), help="TOML config file [env DMG_CONFIG].")
@click.option("--max-body-bytes", type=int, default=None, help="Largest request body [default 64 MiB].")
@click.option("--samples/--no-samples", "seed_samples", default=None, help="Seed org.example samples [default on].")
@click.option(
    "--checkpoint-origin", default=None, help="Origin line of signed checkpoints [env DMG_CHECKPOINT_ORIGIN]."
)
@click.option(
    "--reserved-namespaces",
    default=None,
    metavar="A,B",
    help="Namespaces only the operator may admit [env DMG_RESERVED_NAMESPACES].",
)
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"]))
def serve(
    data_dir: str | None,
    store: str | None,
    host: str | None,
    port: int | None,
    config: str | None,
    max_body_bytes: int | None,
    seed_samples: bool | None,
    checkpoint_origin: str | None,
    reserved_namespaces: str | None,
    log_level: str,
) -> None:
    """Serve the registry over HTTP: GraphQL (with GraphiQL) at /graphql, blocks at /ipfs/{cid}."""
    from dmg.service.server import serve as run_server  # the service stack loads only to serve

    flags = {
        "data_dir": Path(data_dir) if data_dir else None,
        "store": store,
        "host": host,
        "port": port,
        "config": config,
        "max_body_bytes": max_body_bytes,
        "seed_samples": seed_samples,
        "checkpoint_origin": checkpoint_origin,
        "reserved_namespaces": reserved_namespaces,
    }
    settings = Settings.load(flags, os.environ)

    def ready(url: str) -> None:
        click.echo(f"DMG registry serving {settings.data_dir}")
        click.echo(f"GraphQL: {url}/graphql")
        click.echo(f"blocks:  {url}/ipfs/{{cid}}   metrics: {url}/metrics   stop: Ctrl-C")
        click.echo(f"log key: {log_key(settings)}  (pin it: dmg verify ... --registry-key KEY)")

    if not asyncio.run(run_server(settings, ready, log_level)):
        sys.exit(1)
