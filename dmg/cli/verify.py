"""``dmg verify``: check one module version end to end against its registry's transparency log.

Against a registry service it checks everything a client can (see :mod:`dmg.client.transparency`): the record's
signature, the signer's authority in the namespace log at the time of the release, the log chains, inclusion of
every entry relied on in a signed checkpoint, that checkpoint's signature by the pinned key, its age, and its
consistency with the last checkpoint this user verified from that registry. On a data directory (trusted local
storage) the pinning, age and consistency checks are left out. Any failure is an error naming what failed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from dmg.cli.common import emit, json_option, registry_option, run_with_client
from dmg.client.transparency import Verification
from dmg.client.trust import DEFAULT_MAX_AGE_MS, TrustPolicy, TrustStore
from dmg.core.dxn import DXN


@click.command()
@click.argument("target", metavar="DXN[@VERSION]")
@registry_option
@click.option(
    "--registry-key",
    envvar="DMG_REGISTRY_KEY",
    default=None,
    metavar="VKEY",
    help="Pin the registry's log key (<origin>+<key ID>+<base64>) instead of trusting it on first use.",
)
@click.option(
    "--max-age",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_AGE_MS / 1000,
    show_default=True,
    metavar="SECONDS",
    help="Refuse a checkpoint signed longer ago than this (a frozen registry).",
)
@json_option
def verify(target: str, registry: str | None, registry_key: str | None, max_age: float, as_json: bool) -> None:
    """Verify DXN (at a version, range or tag; latest by default) against the registry's transparency log."""
    dxn = DXN.parse(target)
    policy = TrustPolicy(TrustStore.default(), registry_key, int(max_age * 1000))

    result: Verification = run_with_client(registry, lambda client: client.verify(dxn), trust=policy)
    signed = datetime.fromtimestamp(result.checkpoint.time / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"verified {result.dxn}@{result.version}" + (" (yanked)" if result.yanked else ""),
        f"  record      {result.record}",
        f"  signed by   {', '.join(result.signers)}",
        f"  released    entry {result.release}, leaf {result.leaf_index}, authorised by the first "
        f"{result.namespace_entries} entries of the {result.dxn.authority} log",
        f"  checkpoint  {result.checkpoint.origin}, {result.checkpoint.size} entries, signed {signed}",
        f"  log key     {result.verifier_key}",
    ]
    emit(as_json, result.to_dict(), "\n".join(lines))
