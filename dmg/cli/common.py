"""What every command shares: the ``--registry`` and ``--json`` options, printing, and running async work."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from dmg.client.base import RegistryClient, open_client
from dmg.client.trust import TrustPolicy
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError
from dmg.core.namelog import LogHead
from dmg.core.semver import Version

T = TypeVar("T")

registry_option = click.option(
    "--registry",
    "registry",
    envvar="DMG_REGISTRY",
    default=None,
    metavar="TARGET",
    help="Registry data directory or URL (default: $DMG_REGISTRY, else the XDG data directory).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
key_option = click.option(
    "--key", "key_path", required=True, type=click.Path(dir_okay=False), help="Ed25519 key file (from dmg keygen)."
)


def run_with_client(
    target: str | None, work: Callable[[RegistryClient], Awaitable[T]], *, trust: TrustPolicy | None = None
) -> T:
    """Open the registry at ``target`` (an HTTP one judged by ``trust``), run ``work`` with it, close it."""

    async def main() -> T:
        client = await open_client(target, trust=trust)
        try:
            return await work(client)
        finally:
            await client.close()

    return asyncio.run(main())


def _plain(value: Any) -> Any:
    if isinstance(value, CID | DXN | Version):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def emit(as_json: bool, data: Any, human: Callable[[], str] | str) -> None:
    """Print ``data`` as JSON, or the human-readable text."""
    if as_json:
        click.echo(json.dumps(data, default=_plain, indent=2, sort_keys=True))
    else:
        click.echo(human() if callable(human) else human)


class UserError(DmgError):
    """A command-line usage problem (a file exists, an argument is inconsistent)."""


def submit_entry(target: str | None, log: str, build: Callable[[LogHead, int], Envelope]) -> str:
    """Sign an entry extending ``log`` at its current head (``build(head, now)``), submit it, return its CID."""

    async def work(client: RegistryClient) -> str:
        return str(await client.submit_entry(build(await client.log_head(log), now_ms())))

    return run_with_client(target, work)
