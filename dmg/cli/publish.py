"""``dmg publish``, ``dmg yank`` and ``dmg unyank``: the signed operations on a module's versions."""

from __future__ import annotations

import click

from dmg.authoring.manifest import Manifest
from dmg.authoring.publisher import release
from dmg.authoring.publisher import unyank as unyank_entry
from dmg.authoring.publisher import yank as yank_entry
from dmg.cli.common import UserError, emit, json_option, key_option, registry_option, run_with_client, submit_entry
from dmg.cli.transfer import transfer_progress
from dmg.client.base import RegistryClient
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.semver import Version


@click.command()
@click.argument("manifest", default="dmg.yml", type=click.Path())
@key_option
@registry_option
@click.option("--dry-run", is_flag=True, help="Build and sign everything, print it, submit nothing.")
@json_option
def publish(manifest: str, key_path: str, registry: str | None, dry_run: bool, as_json: bool) -> None:
    """Build the bundle of MANIFEST, sign its record and release entry, and upload them."""
    parsed = Manifest.load(manifest)
    key = SigningKey.load(key_path)

    async def work(client: RegistryClient) -> dict[str, object]:
        prepared = release(parsed, key, await client.log_head(str(parsed.dxn.base)), now_ms())
        if not dry_run:
            with transfer_progress(client, "uploading"):
                await client.publish(prepared.root, prepared.blocks())
        return {
            "dxn": str(prepared.record.dxn),
            "version": str(prepared.record.version),
            "cid": str(prepared.record_envelope.cid),
            "entry": str(prepared.root),
            "bundle": str(prepared.bundle.cid),
            "bundleSize": prepared.bundle.size,
            "dryRun": dry_run,
        }

    result = run_with_client(registry, work)
    prefix = "would publish" if dry_run else "published"
    emit(as_json, result, f"{prefix} {result['dxn']}@{result['version']} {result['cid']}")


def _exact(text: str) -> tuple[DXN, Version]:
    dxn = DXN.parse(text)
    selector = dxn.version_selector()
    if not isinstance(selector, Version):
        raise UserError(f"{text!r}: name an exact version, e.g. {dxn.base}@1.2.3")
    return dxn.base, selector


@click.command()
@click.argument("target", metavar="DXN@VERSION")
@click.option("--reason", required=True, help="Why the version must not be used (shown to users).")
@key_option
@registry_option
@json_option
def yank(target: str, reason: str, key_path: str, registry: str | None, as_json: bool) -> None:
    """Yank DXN@VERSION: ranges stop picking it; the exact version stays fetchable."""
    dxn, version = _exact(target)
    key = SigningKey.load(key_path)
    cid = submit_entry(registry, str(dxn), lambda head, now: yank_entry(dxn, version, reason, key, head, now))
    emit(as_json, {"dxn": str(dxn), "version": str(version), "entry": cid}, f"yanked {dxn}@{version}")


@click.command()
@click.argument("target", metavar="DXN@VERSION")
@key_option
@registry_option
@json_option
def unyank(target: str, key_path: str, registry: str | None, as_json: bool) -> None:
    """Reverse the yank of DXN@VERSION."""
    dxn, version = _exact(target)
    key = SigningKey.load(key_path)
    cid = submit_entry(registry, str(dxn), lambda head, now: unyank_entry(dxn, version, key, head, now))
    emit(as_json, {"dxn": str(dxn), "version": str(version), "entry": cid}, f"unyanked {dxn}@{version}")
