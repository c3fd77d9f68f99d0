"""``dmg namespace``: claim a namespace, grant and revoke keys, show who may sign."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from dmg.authoring.publisher import claim as claim_entry
from dmg.authoring.publisher import grant as grant_entry
from dmg.authoring.publisher import revoke as revoke_entry
from dmg.cli.common import UserError, emit, json_option, registry_option, submit_entry
from dmg.core.clock import now_ms
from dmg.core.envelope import Envelope
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import PERMISSIONS
from dmg.registry import Registry

keys_option = click.option(
    "--key",
    "key_paths",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Ed25519 key file; repeat for each signer.",
)


def cosign(envelope: Envelope, others: list[SigningKey]) -> Envelope:
    """``envelope`` with a signature by each of ``others`` added."""
    for key in others:
        envelope = envelope.countersigned(key)
    return envelope


@click.group()
def namespace() -> None:
    """Own a namespace (authority) and manage the keys that may publish in it."""


@namespace.command()
@click.argument("authority")
@keys_option
@click.option("--threshold", type=int, default=1, show_default=True, help="Signers needed for later grants/revokes.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Write the signed claim here instead of submitting it "
    "(for a reserved namespace: the operator countersigns it).",
)
@registry_option
@json_option
def claim(
    authority: str, key_paths: tuple[str, ...], threshold: int, out: str | None, registry: str | None, as_json: bool
) -> None:
    """Claim AUTHORITY (e.g. com.example) with the keys, which each get every permission."""
    keys = [SigningKey.load(path) for path in key_paths]
    dids = [key.public_key.did for key in keys]
    if out is not None:
        target = Path(out)
        if target.exists():
            raise UserError(f"{out} already exists; not overwriting it")
        envelope = claim_entry(authority, keys, LogHead(), now_ms(), threshold)
        target.write_bytes(envelope.block()[1])
        emit(as_json, {"namespace": authority, "claim": out, "keys": dids}, f"wrote the claim of {authority} to {out}")
        return
    cid = submit_entry(registry, authority, lambda head, now: claim_entry(authority, keys, head, now, threshold))
    emit(as_json, {"namespace": authority, "entry": cid, "keys": dids}, f"claimed {authority} ({cid})")


@namespace.command()
@click.argument("claim_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--data", "data_dir", required=True, type=click.Path(file_okay=False), help="The registry's data directory."
)
@json_option
def countersign(claim_file: str, data_dir: str, as_json: bool) -> None:
    """Admit a claim (from `claim --out`) of a reserved namespace: the operator of the registry in DATA signs it
    with the registry's operator key and submits it."""

    async def work() -> str:
        async with await Registry.open(Path(data_dir)) as opened:
            return str(await opened.submit_entry(opened.countersign(Path(claim_file).read_bytes())))

    cid = asyncio.run(work())
    emit(as_json, {"entry": cid}, f"countersigned and accepted the claim ({cid})")


@namespace.command()
@click.argument("authority")
@click.argument("did")
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    type=click.Choice(PERMISSIONS),
    default=("release", "yank"),
    show_default=True,
)
@keys_option
@registry_option
@json_option
def grant(
    authority: str,
    did: str,
    permissions: tuple[str, ...],
    key_paths: tuple[str, ...],
    registry: str | None,
    as_json: bool,
) -> None:
    """Give the key DID permissions in AUTHORITY, signed by the keys (holders of 'grant'; as many as the
    namespace's threshold)."""
    first, *others = [SigningKey.load(path) for path in key_paths]
    grantee = PublicKey.from_did(did)
    cid = submit_entry(
        registry,
        authority,
        lambda head, now: cosign(grant_entry(authority, grantee, permissions, first, head, now), others),
    )
    emit(
        as_json,
        {"namespace": authority, "entry": cid, "key": did, "permissions": sorted(permissions)},
        f"granted {', '.join(sorted(permissions))} in {authority} to {did}",
    )


@namespace.command()
@click.argument("authority")
@click.argument("did")
@keys_option
@registry_option
@json_option
def revoke(authority: str, did: str, key_paths: tuple[str, ...], registry: str | None, as_json: bool) -> None:
    """Take every permission in AUTHORITY from the key DID, signed by the keys (holders of 'grant'; as many as the
    namespace's threshold). What DID signed before stays valid."""
    first, *others = [SigningKey.load(path) for path in key_paths]
    revoked = PublicKey.from_did(did)
    cid = submit_entry(
        registry, authority, lambda head, now: cosign(revoke_entry(authority, revoked, first, head, now), others)
    )
    emit(as_json, {"namespace": authority, "entry": cid, "key": did}, f"revoked {did} in {authority}")
