"""``dmg peer add|ls|rm|trust`` and ``dmg sync``: the operator's federation commands, against a data directory
(``--registry DIR``) or a running service (``--registry URL --token T``, the service's admin token)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from dmg.cli.common import emit, json_option, registry_option
from dmg.core.errors import DmgError

T = TypeVar("T")

token_option = click.option(
    "--token", envvar="DMG_ADMIN_TOKEN", default=None, help="The service's admin token [env DMG_ADMIN_TOKEN]."
)


def _run(target: str | None, token: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    from dmg.client.base import default_target
    from federation.cli.admin import open_admin

    async def main() -> T:
        admin = await open_admin(target or default_target(), token)
        try:
            return await work(admin)
        finally:
            await admin.close()

    return asyncio.run(main())


def _describe(peer: dict[str, Any]) -> str:
    lines = [
        f"{peer['name']}  {peer['url']}  {peer['mode']}  {peer['status']}",
        f"  namespaces  {', '.join(peer['namespaces'])}",
        f"  log         {peer['origin'] or '(not contacted yet)'}  synced {peer['syncedSize']} of "
        f"{peer['checkpointSize']}",
        f"  entries     {peer['entriesTaken']} taken, {peer['entriesRefused']} refused",
    ]
    if peer["lastError"]:
        lines.append(f"  last error  {peer['lastError']}")
    for item in peer["evidence"]:
        lines.append(f"  evidence    {item['kind']}: {item['detail']}")
    return "\n".join(lines)


@click.group()
def peer() -> None:
    """Federate with other registries: mirror or pull through their namespaces."""


@peer.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--namespace", "patterns", multiple=True, required=True, metavar="PATTERN",
              help="A namespace (org.dxos) or a namespace and those under it (org.dxos.*); repeatable.")
@click.option("--mode", type=click.Choice(["mirror", "pull-through"]), default="mirror", show_default=True)
@click.option("--registry-key", default="", metavar="VKEY", help="The peer's log key [default: pinned at first sync].")
@click.option("--peer-token", default="", help="A read token the peer gave for its private namespaces.")
@registry_option
@token_option
@json_option
def add(
    name: str, url: str, patterns: tuple[str, ...], mode: str, registry_key: str, peer_token: str,
    registry: str | None, token: str | None, as_json: bool,
) -> None:
    """Route namespaces to a peer, their home."""
    from federation.peers import Mode, Peer

    entry = Peer(name, url, patterns, Mode(mode), registry_key, peer_token)
    added = _run(registry, token, lambda admin: admin.add(entry))
    emit(as_json, added, lambda: f"added peer {name}: {', '.join(patterns)} from {url} ({mode})")


@peer.command("ls")
@registry_option
@token_option
@json_option
def ls(registry: str | None, token: str | None, as_json: bool) -> None:
    """List peers with their routes, sync progress and status."""
    found = _run(registry, token, lambda admin: admin.list())
    emit(as_json, found, lambda: "\n".join(_describe(item) for item in found) or "no peers")


@peer.command("rm")
@click.argument("name")
@registry_option
@token_option
def rm(name: str, registry: str | None, token: str | None) -> None:
    """Remove a peer (what was mirrored from it stays)."""
    _run(registry, token, lambda admin: admin.remove(name))
    click.echo(f"removed peer {name}")


@peer.command("trust")
@click.argument("name")
@click.option("--reset", is_flag=True, required=True, help="Forget the evidence and take from the peer again.")
@registry_option
@token_option
@json_option
def trust(name: str, reset: bool, registry: str | None, token: str | None, as_json: bool) -> None:
    """Trust a quarantined peer again, from the start of its log."""
    found = _run(registry, token, lambda admin: admin.reset(name))
    emit(as_json, found, lambda: f"peer {name} is trusted again; its log is read from the start at the next sync")


@click.command()
@click.argument("name", required=False)
@registry_option
@token_option
@json_option
def sync(name: str | None, registry: str | None, token: str | None, as_json: bool) -> None:
    """Sync one peer, or every peer, now."""
    results = _run(registry, token, lambda admin: admin.sync(name))

    def human() -> str:
        lines = []
        for peer_name, result in results.items():
            if "error" in result:
                lines.append(f"{peer_name}: failed: {result['error']['message']}")
            else:
                lines.append(
                    f"{peer_name}: {result['entriesTaken']} entries taken, {result['entriesKnown']} known, "
                    f"{result['entriesRefused']} refused; synced {result['syncedSize']} of {result['checkpointSize']}"
                )
        return "\n".join(lines) or "no peers"

    emit(as_json, results, human)
    if any("error" in result for result in results.values()):
        raise DmgError("a peer did not sync")
