"""``dmg namespace``: several owners with a threshold, key rotation, and operator admission of a claim."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from dmg.core.envelope import Envelope
from dmg.registry import Registry
from tests.support.cli import dmg


def keys(tmp_path: Path, *names: str) -> dict[str, tuple[str, str]]:
    made = {}
    for name in names:
        path = str(tmp_path / f"{name}.key")
        did = json.loads(dmg("keygen", "--out", path, "--json").stdout)["did"]
        made[name] = (path, did)
    return made


def test_two_of_three_owners_rotate_a_key(tmp_path: Path) -> None:
    registry = str(tmp_path / "r")
    k = keys(tmp_path, "alice", "bob", "carol", "dave")
    owners = [arg for name in ("alice", "bob", "carol") for arg in ("--key", k[name][0])]
    dmg("namespace", "claim", "com.example", *owners, "--threshold", "2", "--registry", registry)

    alone = dmg(
        "namespace", "grant", "com.example", k["dave"][1], "--key", k["alice"][0], "--registry", registry, ok=False
    )
    assert alone.exit_code == 1 and "dmg: error:" in alone.stderr

    dmg(
        "namespace",
        "grant",
        "com.example",
        k["dave"][1],
        "--permission",
        "grant",
        "--permission",
        "release",
        "--key",
        k["alice"][0],
        "--key",
        k["bob"][0],
        "--registry",
        registry,
    )
    dmg(
        "namespace",
        "revoke",
        "com.example",
        k["carol"][1],
        "--key",
        k["alice"][0],
        "--key",
        k["dave"][0],
        "--registry",
        registry,
    )
    assert json.loads(dmg("fsck", "--registry", registry, "--json").stdout)["ok"] is True


def test_claim_written_to_a_file_then_countersigned_by_the_operator(tmp_path: Path) -> None:
    data = tmp_path / "registry"
    k = keys(tmp_path, "alice")
    claim_file = tmp_path / "claim.cbor"
    dmg("namespace", "claim", "org.reserved", "--key", k["alice"][0], "--out", str(claim_file))
    assert Envelope.decode(claim_file.read_bytes()).verify() and not data.exists()
    again = dmg("namespace", "claim", "org.reserved", "--key", k["alice"][0], "--out", str(claim_file), ok=False)
    assert "already exists" in again.stderr

    accepted = json.loads(dmg("namespace", "countersign", str(claim_file), "--data", str(data), "--json").stdout)

    async def claim_signers() -> int:
        async with await Registry.open(data) as registry:
            assert (await registry.namespace("org.reserved")).claimed
            envelope = Envelope.decode(await registry.get_block((await registry.log_head("org.reserved")).cid))  # type: ignore[arg-type]
            return len(envelope.signatures)

    assert accepted["entry"].startswith("bafy")
    assert asyncio.run(claim_signers()) == 2
