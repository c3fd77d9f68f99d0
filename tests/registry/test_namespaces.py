"""Namespaces and keys: m-of-n thresholds, key rotation and recovery, reserved names, and old signatures staying
valid after a revocation; from the claim payload through the log state machine to a registry on a real file.

They cross the records, the namespace log (dmg.core.namelog) and the registry; they are here, with the registry,
which enforces the rules end to end (the log state machine alone is in tests/core/test_namelog.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dmg.authoring.publisher import grant, revoke
from dmg.client.local import LocalClient
from dmg.core import codec
from dmg.core.bundle import Bundle
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import ConfigError, ConflictError, RecordError, SignatureError, UnauthorizedError
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.namelog import LogHead, NamespaceState
from dmg.core.records import NamespaceClaim, NamespaceGrant, NamespaceRevoke, parse_entry
from dmg.core.semver import Version
from dmg.registry import Registry
from dmg.service.settings import Settings
from tests.support.registries import prepare, publish

NS = "com.example"
X = "com.example/function/x"
ALICE, BOB, CAROL, DAVE = (SigningKey.from_seed(bytes([n]) * 32) for n in (1, 2, 3, 4))


def cid(n: int) -> CID:
    return CID.of(str(n).encode())


def claim_entry(keys: list[SigningKey], threshold: int = 1, **chain: Any) -> NamespaceClaim:
    return NamespaceClaim(
        **{"seq": 0, "prev": None, "time": 10, **chain},
        namespace=NS,
        keys=tuple(key.public_key for key in keys),
        threshold=threshold,
    )


def signed_by(*keys: SigningKey) -> frozenset[PublicKey]:
    return frozenset(key.public_key for key in keys)


def team() -> NamespaceState:
    """com.example claimed by Alice, Bob and Carol, two of whom must sign every grant and revoke."""
    return NamespaceState(NS).apply(cid(0), claim_entry([ALICE, BOB, CAROL], 2), signed_by(ALICE, BOB))


# --- the claim payload --------------------------------------------------------------------------------------


def test_a_threshold_is_written_only_when_it_is_not_one() -> None:
    assert "threshold" not in claim_entry([ALICE]).to_dict()
    payload = claim_entry([ALICE, BOB], 2).to_dict()
    assert payload["threshold"] == 2
    assert parse_entry(codec.decode(codec.encode(payload))) == claim_entry([ALICE, BOB], 2)


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        (0, r"threshold: must be between 1 and the number of keys \(2\)"),
        (3, r"threshold: must be between 1 and the number of keys \(2\)"),
        (1, "field 'threshold' is omitted when it is 1"),
        (True, "field 'threshold' must be int, not bool"),
        ("2", "field 'threshold' must be int, not str"),
    ],
)
def test_bad_thresholds_are_refused(threshold: object, message: str) -> None:
    payload = {**claim_entry([ALICE, BOB]).to_dict(), "threshold": threshold}
    with pytest.raises(RecordError, match=message):
        parse_entry(payload)


# --- the log state machine ----------------------------------------------------------------------------------


def test_a_claim_with_a_threshold_needs_that_many_claimed_signers() -> None:
    with pytest.raises(UnauthorizedError, match="signed by at least 2 of the keys it claims with"):
        NamespaceState(NS).apply(cid(0), claim_entry([ALICE, BOB, CAROL], 2), signed_by(ALICE, DAVE))
    assert team().threshold == 2 and team().holders("grant") == signed_by(ALICE, BOB, CAROL)


def test_grants_and_revokes_need_the_threshold_of_distinct_granters() -> None:
    grant_dave = NamespaceGrant(
        seq=1, prev=cid(0), time=11, namespace=NS, key=DAVE.public_key, permissions=frozenset({"release"})
    )
    with pytest.raises(UnauthorizedError, match=r"needs 2 distinct signers holding 'grant' .* it has 1"):
        team().apply(cid(1), grant_dave, signed_by(ALICE, DAVE))
    state = team().apply(cid(1), grant_dave, signed_by(ALICE, CAROL))
    assert state.holders("release") == signed_by(ALICE, BOB, CAROL, DAVE)
    revoke_bob = NamespaceRevoke(seq=2, prev=cid(1), time=12, namespace=NS, key=BOB.public_key)
    with pytest.raises(UnauthorizedError, match="it has 1"):
        state.apply(cid(2), revoke_bob, signed_by(BOB, DAVE))


def test_a_lost_key_is_recovered_by_the_remaining_keys() -> None:
    """Carol's key is lost: Alice and Bob revoke it and grant Dave in its place; Carol's signature then counts
    for nothing."""
    revoke_carol = NamespaceRevoke(seq=1, prev=cid(0), time=11, namespace=NS, key=CAROL.public_key)
    state = team().apply(cid(1), revoke_carol, signed_by(ALICE, BOB))
    grant_dave = NamespaceGrant(
        seq=2, prev=cid(1), time=12, namespace=NS, key=DAVE.public_key, permissions=frozenset({"grant", "release"})
    )
    state = state.apply(cid(2), grant_dave, signed_by(ALICE, BOB))
    assert state.holders("grant") == signed_by(ALICE, BOB, DAVE) and state.revoked == signed_by(CAROL)
    revoke_alice = NamespaceRevoke(seq=3, prev=cid(2), time=13, namespace=NS, key=ALICE.public_key)
    with pytest.raises(UnauthorizedError, match=r"it has 1 \(key did:key:.* was revoked\)"):
        state.apply(cid(3), revoke_alice, signed_by(BOB, CAROL))


def test_no_change_may_leave_fewer_granters_than_the_threshold() -> None:
    revoke_carol = NamespaceRevoke(seq=1, prev=cid(0), time=11, namespace=NS, key=CAROL.public_key)
    state = team().apply(cid(1), revoke_carol, signed_by(ALICE, BOB))
    revoke_bob = NamespaceRevoke(seq=2, prev=cid(1), time=12, namespace=NS, key=BOB.public_key)
    with pytest.raises(ConflictError, match=r"would leave 1 keys able to grant .* fewer than its threshold of 2"):
        state.apply(cid(2), revoke_bob, signed_by(ALICE, BOB))
    demote_bob = NamespaceGrant(
        seq=2, prev=cid(1), time=12, namespace=NS, key=BOB.public_key, permissions=frozenset({"release"})
    )
    with pytest.raises(ConflictError, match=r"granting did:key:.* only release would leave 1 keys able to grant"):
        state.apply(cid(2), demote_bob, signed_by(ALICE, BOB))


def test_demoting_the_only_granter_is_refused() -> None:
    state = NamespaceState(NS).apply(cid(0), claim_entry([ALICE]), signed_by(ALICE))
    demote = NamespaceGrant(
        seq=1, prev=cid(0), time=11, namespace=NS, key=ALICE.public_key, permissions=frozenset({"release"})
    )
    with pytest.raises(ConflictError, match="would leave no key able to grant"):
        state.apply(cid(1), demote, signed_by(ALICE))


# --- a registry on a real file ------------------------------------------------------------------------------


async def submit(registry: Registry, envelope: Envelope) -> CID:
    return await registry.submit_entry(envelope.block()[1])


def signed(entry: NamespaceClaim | NamespaceGrant | NamespaceRevoke, *keys: SigningKey) -> Envelope:
    return Envelope.sign(entry.to_dict(), keys)


def claim(namespace: str, key: SigningKey) -> bytes:
    entry = NamespaceClaim(seq=0, prev=None, time=now_ms(), namespace=namespace, keys=(key.public_key,))
    return Envelope.sign(entry.to_dict(), [key]).block()[1]


async def chain(registry: Registry) -> dict[str, Any]:
    head = await registry.log_head(NS)
    return {"seq": head.seq + 1, "prev": head.cid, "time": now_ms()}


async def test_a_two_of_three_namespace_rotates_keys_and_its_releases_stay_verifiable(
    registry: Registry, bundle: Bundle
) -> None:
    await submit(registry, signed(claim_entry([ALICE, BOB, CAROL], 2, time=now_ms()), ALICE, BOB))
    await publish(registry, CAROL, X, "1.0.0", bundle)
    lone = revoke(NS, CAROL.public_key, ALICE, await registry.log_head(NS), now_ms())
    with pytest.raises(UnauthorizedError, match=r"needs 2 distinct signers"):
        await submit(registry, lone)
    revoke_carol = NamespaceRevoke(**await chain(registry), namespace=NS, key=CAROL.public_key)
    await submit(registry, signed(revoke_carol, ALICE, BOB))
    grant_dave = NamespaceGrant(
        **await chain(registry), namespace=NS, key=DAVE.public_key, permissions=frozenset({"release", "yank"})
    )
    await submit(registry, signed(grant_dave, ALICE, BOB))
    stale = await prepare(registry, CAROL, X, "1.1.0", bundle)
    with pytest.raises(UnauthorizedError, match="was revoked"):
        await registry.publish(stale.root, stale.blocks())
    await publish(registry, DAVE, X, "1.1.0", bundle)

    state = await registry.namespace(NS)
    assert state.threshold == 2 and state.revoked == signed_by(CAROL)
    report = await registry.fsck()
    assert report.ok, report.problems
    client = LocalClient(registry)
    old = await client.verify(DXN.parse(X), Version.parse("1.0.0"))
    assert old.signers == (CAROL.public_key.did,)
    assert (await client.verify(DXN.parse(X))).signers == (DAVE.public_key.did,)


async def test_the_threshold_survives_reopening(tmp_path: Path) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await submit(registry, signed(claim_entry([ALICE, BOB], 2, time=now_ms()), ALICE, BOB))
    async with await Registry.open(tmp_path / "r") as registry:
        assert (await registry.namespace(NS)).threshold == 2


async def test_a_reserved_namespace_needs_the_operators_countersignature(tmp_path: Path) -> None:
    async with await Registry.open(tmp_path / "r", reserved=["org.dxos"]) as registry:
        for name in ("org.dxos", "org.dxos.labs"):
            entry = claim(name, ALICE)
            with pytest.raises(UnauthorizedError, match=f"{name!r} is reserved by this registry's operator"):
                await registry.submit_entry(entry)
            await registry.submit_entry(registry.countersign(entry))
            assert (await registry.namespace(name)).holders("grant") == signed_by(ALICE)
        await registry.submit_entry(claim("org.dxosx", ALICE))
        report = await registry.fsck()
        assert report.ok, report.problems


async def test_the_operator_countersigns_only_genuine_claims(registry: Registry) -> None:
    granted = grant(NS, BOB.public_key, ["release"], ALICE, LogHead(cid(0), 0, 1), now_ms())
    with pytest.raises(RecordError, match="countersigns namespace claims only"):
        registry.countersign(granted.block()[1])
    forged = codec.decode(claim(NS, ALICE))
    forged["signatures"][0]["sig"] = bytes(64)
    with pytest.raises(SignatureError, match="does not verify"):
        registry.countersign(codec.encode(forged))
    once = registry.countersign(claim(NS, ALICE))
    with pytest.raises(SignatureError, match="signed twice by the same key"):
        registry.countersign(once)


def test_reserved_names_and_the_origin_are_checked_in_the_settings() -> None:
    assert Settings(reserved_namespaces="org.dxos, com.example").reserved == ("org.dxos", "com.example")
    with pytest.raises(ConfigError, match=r"'Org.dxos' is not a lowercase authority"):
        Settings(reserved_namespaces="Org.dxos")
    with pytest.raises(ConfigError, match="must hold no spaces and no '\\+'"):
        Settings(checkpoint_origin="my log")


async def test_a_reserved_name_that_is_no_authority_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reserved namespace 'no way' is not a lowercase authority"):
        await Registry.open(tmp_path / "r", reserved=["no way"])
    with sqlite3.connect(tmp_path / "r" / "registry.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM entries").fetchone() == (0,)
