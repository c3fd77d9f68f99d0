"""``dmg export``, ``dmg import`` and ``dmg fsck``: move verified modules between registries, check a store.

Transfers to and from a registry service show a progress bar on stderr (:func:`transfer_progress`, also used by
``dmg publish``) once they pass :data:`PROGRESS_THRESHOLD` bytes and when stderr is a terminal; a local data
directory moves nothing over a network and shows none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from dmg.cli.common import UserError, emit, json_option, registry_option, run_with_client
from dmg.client.base import RegistryClient
from dmg.client.local import LocalClient
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError

PROGRESS_THRESHOLD: Final = 1 << 20
"""Transfers smaller than this (1 MiB) finish too fast for a bar to help."""


class TransferBar:
    """A progress bar for one upload or download, started once the transfer is known to pass the threshold."""

    def __init__(self, description: str, console: Console | None = None) -> None:
        self.description = description
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(self, done: int, total: int | None) -> None:
        if self._progress is None:
            if max(done, total or 0) < PROGRESS_THRESHOLD:
                return
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(binary_units=True),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def transfer_progress(client: RegistryClient, description: str) -> Iterator[None]:
    """Show a :class:`TransferBar` for what ``client`` sends or receives inside the block."""
    if isinstance(client, LocalClient):
        yield
        return
    from dmg.client.http import HttpClient  # loaded already: only an HTTP client gets here

    assert isinstance(client, HttpClient)
    bar = TransferBar(description)
    client.progress = bar.update
    try:
        yield
    finally:
        client.progress = None
        bar.close()


async def _export(client: RegistryClient, dxns: list[DXN]) -> bytes:
    with transfer_progress(client, "downloading"):
        return await client.export(dxns)


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="DXN[@RANGE]...")
@registry_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="CAR file to write.")
@json_option
def export(targets: tuple[str, ...], registry: str | None, out: str, as_json: bool) -> None:
    """Write a CAR with the selected versions: the signed logs up to them and their later yanks, and the record
    and bundle of every release in those logs; it imports into an empty registry."""
    dxns = [DXN.parse(text) for text in targets]
    path = Path(out)
    if path.exists():
        raise UserError(f"{out} already exists; not overwriting it")
    data = run_with_client(registry, lambda client: _export(client, dxns))
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
        with transfer_progress(client, "uploading"):
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
