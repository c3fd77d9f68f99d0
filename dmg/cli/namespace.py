"""``dmg namespace``: claim a namespace, grant and revoke keys, show who may sign."""

from __future__ import annotations

import click

from dmg.cli.common import emit, json_option, key_option, registry_option, submit_entry
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.records import PERMISSIONS
from dmg.publisher import claim as claim_entry
from dmg.publisher import grant as grant_entry
from dmg.publisher import revoke as revoke_entry


@click.group()
def namespace() -> None:
    """Own a namespace (authority) and manage the keys that may publish in it."""


@namespace.command()
@click.argument("authority")
@key_option
@registry_option
@json_option
def claim(authority: str, key_path: str, registry: str | None, as_json: bool) -> None:
    """Claim AUTHORITY (e.g. com.example) with KEY, which gets every permission."""
    key = SigningKey.load(key_path)

    cid = submit_entry(registry, authority, lambda head, now: claim_entry(authority, [key], head, now))
    emit(as_json, {"namespace": authority, "entry": cid, "key": key.public_key.did}, f"claimed {authority} ({cid})")


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
@key_option
@registry_option
@json_option
def grant(
    authority: str, did: str, permissions: tuple[str, ...], key_path: str, registry: str | None, as_json: bool
) -> None:
    """Give the key DID permissions in AUTHORITY (signed by KEY, which must hold 'grant')."""
    key = SigningKey.load(key_path)
    grantee = PublicKey.from_did(did)

    cid = submit_entry(
        registry, authority, lambda head, now: grant_entry(authority, grantee, permissions, key, head, now)
    )
    emit(
        as_json,
        {"namespace": authority, "entry": cid, "key": did, "permissions": sorted(permissions)},
        f"granted {', '.join(sorted(permissions))} in {authority} to {did}",
    )


@namespace.command()
@click.argument("authority")
@click.argument("did")
@key_option
@registry_option
@json_option
def revoke(authority: str, did: str, key_path: str, registry: str | None, as_json: bool) -> None:
    """Take every permission in AUTHORITY from the key DID (signed by KEY, which must hold 'grant')."""
    key = SigningKey.load(key_path)
    revoked = PublicKey.from_did(did)

    cid = submit_entry(registry, authority, lambda head, now: revoke_entry(authority, revoked, key, head, now))
    emit(as_json, {"namespace": authority, "entry": cid, "key": did}, f"revoked {did} in {authority}")
