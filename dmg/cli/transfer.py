"""``dmg export``, ``dmg import`` and ``dmg fsck``: move verified modules between registries, check a store."""

from __future__ import annotations

from pathlib import Path

import click

from dmg.cli.common import UserError, emit, json_option, registry_option, run_with_client
from dmg.client.base import RegistryClient
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="DXN[@RANGE]...")
@registry_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="CAR file to write.")
@json_option
def export(targets: tuple[str, ...], registry: str | None, out: str, as_json: bool) -> None:
    """Write a CAR with the selected versions, their records, bundles and signed log entries."""
    dxns = [DXN.parse(text) for text in targets]
    path = Path(out)
    if path.exists():
        raise UserError(f"{out} already exists; not overwriting it")
    data = run_with_client(registry, lambda client: client.export(dxns))
    path.write_bytes(data)
    emit(as_json, {"path": out, "bytes": len(data)}, f"wrote {out} ({len(data)} bytes)")


@click.command(name="import")
@click.argument("car", type=click.Path(exists=True, dir_okay=False))
@registry_option
@json_option
def import_(car: str, registry: str | None, as_json: bool) -> None:
    """Verify every block and entry in CAR, then store them all (or nothing)."""
    data = Path(car).read_bytes()

    async def work(client: RegistryClient) -> dict[str, int]:
        result = await client.import_car(data)
        return {
            "entriesAdded": result.entries_added,
            "entriesKnown": result.entries_known,
            "blocksAdded": result.blocks_added,
        }

    result = run_with_client(registry, work)
    emit(
        as_json,
        result,
        f"imported {result['entriesAdded']} entries ({result['entriesKnown']} already known), "
        f"{result['blocksAdded']} new blocks",
    )


class FsckFailed(DmgError):
    """``dmg fsck`` found problems."""


@click.command()
@registry_option
@json_option
def fsck(registry: str | None, as_json: bool) -> None:
    """Re-hash every block, re-verify every signature and log chain, and report problems."""
    report = run_with_client(registry, lambda client: client.fsck())
    data = {"blocks": report.blocks, "entries": report.entries, "problems": report.problems, "ok": report.ok}
    emit(
        as_json,
        data,
        lambda: "\n".join(
            [
                f"checked {report.blocks} blocks and {report.entries} log entries",
                *report.problems,
                "ok" if report.ok else f"{len(report.problems)} problems",
            ]
        ),
    )
    if not report.ok:
        raise FsckFailed(f"{len(report.problems)} problems found")
