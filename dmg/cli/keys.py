"""``dmg keygen``: create an Ed25519 signing key."""

from __future__ import annotations

import click

from dmg.cli.common import emit, json_option
from dmg.core.keys import SigningKey


@click.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to create (mode 0600).")
@json_option
def keygen(out: str, as_json: bool) -> None:
    """Create a new Ed25519 key in OUT (never overwrites) and print its did:key."""
    key = SigningKey.generate()
    key.save(out)
    emit(as_json, {"did": key.public_key.did, "path": out}, key.public_key.did)
