"""``dmg init``: scaffold a ``dmg.yml`` manifest."""

from __future__ import annotations

from pathlib import Path

import click

from dmg.authoring.manifest import MANIFEST_NAME, scaffold
from dmg.cli.common import UserError, emit, json_option
from dmg.core.dxn import DXN


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", "name", required=True, metavar="DXN", help="The module's DXN, e.g. com.example/function/x.")
@click.option("--version", "version", default="0.1.0", show_default=True)
@json_option
def init(directory: str, name: str, version: str, as_json: bool) -> None:
    """Write DIRECTORY/dmg.yml describing a pure function (no storage, network or space access)."""
    dxn = DXN.parse(name)
    target = Path(directory) / MANIFEST_NAME
    if target.exists():
        raise UserError(f"{target} already exists; not overwriting it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scaffold(dxn, version), encoding="utf-8")
    emit(as_json, {"manifest": str(target), "dxn": str(dxn.base)}, f"wrote {target}")
