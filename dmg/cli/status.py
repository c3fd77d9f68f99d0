"""``dmg status``: open (or create) the embedded registry and say what is in it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from dmg.api.results import StoreStats
from dmg.authoring.samples import seed_samples
from dmg.cli.common import UserError, emit, json_option, registry_option
from dmg.client.base import default_target
from dmg.registry import Registry


@click.command()
@registry_option
@click.option(
    "--samples/--no-samples",
    default=True,
    show_default=True,
    help="Publish the org.example sample modules into a registry that has none.",
)
@json_option
def status(registry: str | None, samples: bool, as_json: bool) -> None:
    """Open the registry's data directory (creating it), seed samples on first use, print its contents."""
    target = registry or default_target()
    if target.startswith(("http://", "https://")):
        raise UserError("dmg status works on a local data directory")
    data_dir = Path(target)

    async def work() -> tuple[list[str], list[str], StoreStats]:
        async with await Registry.open(data_dir) as opened:
            seeded = await seed_samples(opened, data_dir) if samples else []
            return seeded, [str(dxn) for dxn in await opened.dxns()], await opened.stats()

    seeded, modules, stats = asyncio.run(work())
    result = {
        "dataDir": str(data_dir.resolve()),
        "seeded": seeded,
        "modules": modules,
        "versions": stats.versions,
        "blocks": stats.blocks,
        "bytes": stats.block_bytes,
        "entries": stats.entries,
    }
    lines = [f"registry at {result['dataDir']}", *(f"published sample {name}" for name in seeded)]
    lines.append(
        f"{len(modules)} modules, {stats.versions} versions, {stats.blocks} blocks, {stats.entries} log entries"
    )
    lines += [f"  {name}" for name in modules]
    if modules:
        lines.append(f"try: dmg resolve {modules[0]} --registry {target}")
    emit(as_json, result, "\n".join(lines))
