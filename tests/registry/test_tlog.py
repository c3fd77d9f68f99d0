"""The registry's transparency log: every accepted entry a leaf, signed checkpoints, proofs, persistence,
migration, fsck, and the tlog-tiles and GraphQL views of it on a real server."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmg.api.results import EntryKind
from dmg.authoring.publisher import claim, yank
from dmg.core.bundle import Bundle
from dmg.core.checkpoint import NoteVerifier, SignedCheckpoint
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import ConflictError, TooLargeError
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.core.tlog import (
    ProofError,
    leaf_hash,
    parse_entry_bundle,
    verify_consistency,
    verify_inclusion,
)
from dmg.registry import OPERATOR_KEY_FILE, Registry
from dmg.service.server import BackgroundServer
from dmg.store.base import Commit, CommitEntry
from dmg.store.sqlite import DATABASE_NAME
from tests.support.registries import claim_namespace, publish
from tests.support.servers import graphql, server_settings
from tests.support.tlog import LogTree

X = "com.example/function/x"


async def entry_blocks(registry: Registry) -> list[bytes]:
    return [await registry.get_block(stored.cid) async for stored in registry.store.iter_entries()]


async def populate(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    await publish(registry, key, X, "1.1.0", bundle)


def opened(registry: Registry, signed: SignedCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint.open(signed.note, NoteVerifier.from_vkey(registry.log.verifier_key))


async def test_every_accepted_entry_is_a_leaf_in_acceptance_order(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    await populate(registry, key, bundle)
    blocks = await entry_blocks(registry)
    reference = LogTree()
    reference.append_many(blocks)
    signed = opened(registry, await registry.log.checkpoint())
    assert (signed.size, signed.root) == (3, reference.root())
    assert await registry.store.tree_hashes([(0, index) for index in range(3)]) == [leaf_hash(b) for b in blocks]
    assert [entry.leaf_index async for entry in registry.store.iter_entries()] == [0, 1, 2]


async def test_the_checkpoint_names_the_log_and_carries_its_signing_time(tmp_path: Path) -> None:
    times = [1_700_000_000_000]
    async with await Registry.open(tmp_path / "r", clock=lambda: times[0]) as registry:
        operator = SigningKey.load(tmp_path / "r" / OPERATOR_KEY_FILE)
        assert registry.log.origin.startswith("dmg.local/") and len(registry.log.origin) == len("dmg.local/") + 8
        first = opened(registry, await registry.log.checkpoint())
        assert first.note.splitlines()[:4] == [
            registry.log.origin,
            "0",
            first.note.splitlines()[2],
            "timestamp 1700000000000",
        ]
        assert await registry.log.checkpoint() == first
        times[0] += 60_000
        refreshed = await registry.log.checkpoint()
        assert refreshed.time == times[0] and refreshed.root == first.root
        times[0] -= 120_000
        await claim_namespace_at(registry, "com.example", operator, times[0])
        assert (await registry.log.checkpoint()).time == refreshed.time, "checkpoint times never go backwards"
    assert stat.S_IMODE(os.stat(tmp_path / "r" / OPERATOR_KEY_FILE).st_mode) == 0o600
    async with await Registry.open(tmp_path / "r", origin="registry.example.com/log") as registry:
        signed = opened(registry, await registry.log.checkpoint())
        assert signed.origin == "registry.example.com/log" and signed.size == 1
        assert registry.log.verifier_key.startswith("registry.example.com/log+")


async def claim_namespace_at(registry: Registry, namespace: str, key: SigningKey, time: int) -> None:
    await registry.submit_entry(claim(namespace, [key], await registry.log_head(namespace), time).block()[1])


async def test_inclusion_and_consistency_proofs_verify_at_every_size(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    checkpoints = [await registry.log.checkpoint()]
    await claim_namespace(registry, "com.example", key)
    checkpoints.append(await registry.log.checkpoint())
    for version in ("1.0.0", "1.1.0", "1.2.0", "2.0.0"):
        await publish(registry, key, X, version, bundle)
        checkpoints.append(await registry.log.checkpoint())
    blocks = await entry_blocks(registry)
    for checkpoint in checkpoints:
        for index in range(checkpoint.size):
            proof = await registry.log.inclusion_proof(index, checkpoint.size)
            verify_inclusion(leaf_hash(blocks[index]), index, checkpoint.size, proof, checkpoint.root)
        for older in checkpoints[: checkpoint.size + 1]:
            proof = await registry.log.consistency_proof(older.size, checkpoint.size)
            verify_consistency(older.size, checkpoint.size, older.root, checkpoint.root, proof)
    with pytest.raises(ProofError, match="tree size 9 is not one this log has had: it has 5 leaves"):
        await registry.log.inclusion_proof(0, 9)
    with pytest.raises(ProofError, match="old tree size 4 is larger than new tree size 2"):
        await registry.log.consistency_proof(4, 2)


async def test_the_tree_and_the_operator_key_survive_reopening(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await populate(registry, key, bundle)
        before = await registry.log.checkpoint()
        verifier_key = registry.log.verifier_key
    async with await Registry.open(tmp_path / "r") as registry:
        assert registry.log.verifier_key == verifier_key
        after = opened(registry, await registry.log.checkpoint())
        assert (after.size, after.root) == (before.size, before.root)
        await publish(registry, key, X, "2.0.0", bundle)
        grown = await registry.log.checkpoint()
        verify_consistency(3, 4, before.root, grown.root, await registry.log.consistency_proof(3, 4))


async def test_an_entry_too_large_for_a_leaf_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    # The yank's constructor refuses a reason this long, so the payload is signed as a registry would receive it.
    small = yank(DXN.parse(X), Version.parse("1.0.0"), "x", key, await registry.log_head(X), now_ms())
    huge = Envelope.sign({**small.payload, "reason": "x" * 70_000}, [key])
    before = await registry.log.checkpoint()
    with pytest.raises(TooLargeError, match=r"is 70\d\d\d bytes; entries are leaves of the transparency log"):
        await registry.submit_entry(huge.block()[1])
    assert await registry.log.checkpoint() == before


async def test_two_registries_on_one_file_keep_one_tree(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "r") as first, await Registry.open(tmp_path / "r") as second:
        await claim_namespace(first, "com.example", key)
        await publish(second, key, X, "1.0.0", bundle)
        await publish(first, key, X, "1.1.0", bundle)
        assert (await first.log.checkpoint()).root == (await second.log.checkpoint()).root
        stale = Commit(entries=[CommitEntry(CID.of(b"x"), "com.example", EntryKind.NAMESPACE, 9, 0)], tree_size=1)
        with pytest.raises(ConflictError, match="another writer appended to the log first"):
            await first.store.commit(stale)
        report = await second.fsck()
        assert report.ok and report.entries == 3, report.problems


async def test_fsck_recomputes_the_tree_from_the_entries(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    path = Path(registry.store.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE tlog_hashes SET hash = zeroblob(32) WHERE level = 0 AND idx = 1")
    report = await registry.fsck()
    assert report.problems == [
        "transparency log: stored hash at level 0, index 1 differs from the one the entries give"
    ]
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM tlog_hashes WHERE level = 1 AND idx = 0")
    problems = (await registry.fsck()).problems
    assert "transparency log: the transparency log has no hash at level 1, index 0" in problems


async def test_a_schema_2_file_is_migrated_into_the_log(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await populate(registry, key, bundle)
        before = await registry.log.checkpoint()
    with sqlite3.connect(tmp_path / "r" / DATABASE_NAME) as connection:
        connection.execute("DROP TABLE tlog_hashes")
        connection.execute("ALTER TABLE namespaces DROP COLUMN threshold")
        connection.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    async with await Registry.open(tmp_path / "r") as registry:
        after = await registry.log.checkpoint()
        assert (after.size, after.root) == (before.size, before.root)
        assert (await registry.namespace("com.example")).threshold == 1
        assert (await registry.fsck()).ok
    with sqlite3.connect(tmp_path / "r" / DATABASE_NAME) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("3",)


# --- over HTTP ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A registry seeded with the samples (a claim and three releases: four entries)."""
    data_dir = tmp_path_factory.mktemp("transparency")
    with BackgroundServer(server_settings(data_dir, seed_samples=True)) as url, httpx.Client(base_url=url) as client:
        yield client


def checkpoint_of(client: httpx.Client) -> tuple[SignedCheckpoint, dict[str, Any]]:
    answer = graphql(client, "{ checkpoint { note origin size rootHash time verifierKey } }")["data"]["checkpoint"]
    return SignedCheckpoint.open(answer["note"], NoteVerifier.from_vkey(answer["verifierKey"])), answer


def test_checkpoint_is_served_as_a_signed_note(served: httpx.Client) -> None:
    signed, answer = checkpoint_of(served)
    response = served.get("/checkpoint")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == answer["note"]
    assert (answer["origin"], answer["size"], answer["time"]) == (signed.origin, 4, signed.time)
    assert base64.b64decode(answer["rootHash"]) == signed.root
    assert answer["verifierKey"].startswith(f"{signed.origin}+")


def leaf_blocks(client: httpx.Client) -> list[bytes]:
    """Every entry of the seeded registry, in leaf order, from the histories of its three logs."""
    rows = []
    for log in ("org.example", "org.example/function/echo", "org.example/function/greeter"):
        rows += graphql(client, f'{{ history(dxn: "{log}") {{ leafIndex envelope }} }}')["data"]["history"]
    return [base64.b64decode(row["envelope"]) for row in sorted(rows, key=lambda row: row["leafIndex"])]


def test_tiles_hold_the_tree_and_the_entries(served: httpx.Client) -> None:
    signed, _ = checkpoint_of(served)
    blocks = leaf_blocks(served)
    hashes = served.get("/tile/0/000.p/4")
    assert hashes.headers["content-type"] == "application/octet-stream"
    assert hashes.headers["cache-control"] == "public, max-age=10"
    assert hashes.content == b"".join(leaf_hash(block) for block in blocks)
    assert parse_entry_bundle(served.get("/tile/entries/000.p/4").content) == blocks
    assert served.get("/tile/0/000.p/3").content == hashes.content[:96]
    reference = LogTree()
    reference.append_many(blocks)
    assert reference.root() == signed.root
    for path in ("/tile/0/000.p/5", "/tile/0/000", "/tile/1/000.p/1", "/tile/entries/000.p/9", "/tile/0/00", "/tile/x"):
        answer = served.get(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "NOT_FOUND", path


def test_graphql_proofs_verify_against_the_checkpoint(served: httpx.Client) -> None:
    signed, _ = checkpoint_of(served)
    query = """query($size: Int!) { history(dxn: "org.example/function/echo") {
        leafIndex envelope inclusionProof(size: $size) } }"""
    rows = graphql(served, query, size=signed.size)["data"]["history"]
    assert [row["leafIndex"] for row in rows] == [1, 2]
    for row in rows:
        proof = [base64.b64decode(text) for text in row["inclusionProof"]]
        verify_inclusion(
            leaf_hash(base64.b64decode(row["envelope"])), row["leafIndex"], signed.size, proof, signed.root
        )
        direct = graphql(
            served,
            "query($l: Int!, $s: Int!) { inclusionProof(leaf: $l, size: $s) }",
            l=row["leafIndex"],
            s=signed.size,
        )
        assert direct["data"]["inclusionProof"] == row["inclusionProof"]
    assert graphql(served, query, size=2)["data"]["history"][1]["inclusionProof"] is None
    old = graphql(served, "{ consistencyProof(from: 1, to: 4) }")["data"]["consistencyProof"]
    first = graphql(served, "{ inclusionProof(leaf: 0, size: 1) }")["data"]["inclusionProof"]
    assert first == []
    old_root = leaf_hash(
        base64.b64decode(
            graphql(served, '{ history(dxn: "org.example") { envelope } }')["data"]["history"][0]["envelope"]
        )
    )
    verify_consistency(1, signed.size, old_root, signed.root, [base64.b64decode(text) for text in old])
    for bad in (
        "{ inclusionProof(leaf: 0, size: 99) }",
        "{ consistencyProof(from: 3, to: 2) }",
        "{ inclusionProof(leaf: 4, size: 4) }",
    ):
        errors = graphql(served, bad)["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_REQUEST", bad


def test_namespace_reports_its_threshold(served: httpx.Client) -> None:
    answer = graphql(served, '{ namespace(name: "org.example") { threshold keys { did } } }')
    assert answer["data"]["namespace"]["threshold"] == 1
