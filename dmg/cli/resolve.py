"""``dmg resolve`` and ``dmg versions``: ask which versions exist and which one a range picks."""

from __future__ import annotations

import click

from dmg.cli.common import emit, json_option, registry_option, run_with_client
from dmg.client.base import RegistryClient
from dmg.core.dxn import DXN


@click.command()
@click.argument("target", metavar="DXN[@RANGE]")
@registry_option
@json_option
def resolve(target: str, registry: str | None, as_json: bool) -> None:
    """Print the version of DXN a version, range or tag selects (default: latest), with its record CID."""
    dxn = DXN.parse(target)

    async def work(client: RegistryClient) -> dict[str, object]:
        found = await client.resolve(dxn)
        return {
            "dxn": str(found.dxn),
            "version": str(found.version),
            "cid": str(found.record),
            "bundle": str(found.bundle),
            "yanked": found.yanked,
        }

    result = run_with_client(registry, work)
    yanked = " (yanked)" if result["yanked"] else ""
    emit(as_json, result, f"{result['dxn']}@{result['version']} {result['cid']}{yanked}")


@click.command()
@click.argument("target", metavar="DXN")
@registry_option
@json_option
def versions(target: str, registry: str | None, as_json: bool) -> None:
    """List every released version of DXN, oldest first, with yank status."""
    dxn = DXN.parse(target)

    async def work(client: RegistryClient) -> list[dict[str, object]]:
        return [
            {
                "version": info.version,
                "cid": str(info.record),
                "yanked": info.yanked,
                "yankReason": info.yank_reason,
                "publishedAt": info.published_at,
                "publisher": info.publisher,
            }
            for info in await client.versions(dxn)
        ]

    rows = run_with_client(registry, work)

    def human() -> str:
        if not rows:
            return f"{dxn.base} has no released versions"
        return "\n".join(
            f"{row['version']}  {row['cid']}" + (f"  yanked: {row['yankReason']}" if row["yanked"] else "")
            for row in rows
        )

    emit(as_json, rows, human)
