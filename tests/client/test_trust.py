"""The client's side of trust, piece by piece: judging checkpoints against the last one seen, proving and
replaying logs, comparing answers with the logs, the trust store on disk, and ``dmg verify`` on a data directory
and on a registry service. The attacks end to end are in tests/client/test_trust_attacks.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dmg.authoring.publisher import claim, release_bundle, yank
from dmg.client.errors import CheckpointRollbackError, InclusionError, LogForkError, RecordMismatchError
from dmg.client.transparency import ProvenEntry, check_consistency, replay_logs
from dmg.client.trust import TrustStore, TrustStoreError
from dmg.core.bundle import Bundle
from dmg.core.checkpoint import NoteSigner, SignedCheckpoint
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import LogError
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import Release
from dmg.core.semver import Range, Version
from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from tests.support.cli import dmg
from tests.support.registries import claim_namespace, module_record, publish
from tests.support.servers import server_settings
from tests.support.tlog import LogTree

X = DXN.parse("com.example/function/x")
ORIGIN = "log.example"
SIGNER = NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(32)))


class Log:
    """A transparency log built in memory, as an honest registry would build it."""

    def __init__(self) -> None:
        self.tree = LogTree()
        self.blocks: list[bytes] = []

    def add(self, envelope: Envelope) -> Envelope:
        self.blocks.append(envelope.block()[1])
        self.tree.append(self.blocks[-1])
        return envelope

    def checkpoint(self, size: int | None = None, time: int = 1_000) -> SignedCheckpoint:
        size = self.tree.size if size is None else size
        return SignedCheckpoint.sign(ORIGIN, size, self.tree.root(size), time, SIGNER)

    def proven(self, leaves: list[int], size: int | None = None) -> list[ProvenEntry]:
        size = self.tree.size if size is None else size
        return [
            ProvenEntry(leaf, self.blocks[leaf], tuple(self.tree.inclusion_proof(leaf, size)) if leaf < size else None)
            for leaf in leaves
        ]


@pytest.fixture
def log(key: SigningKey, bundle: Bundle) -> Log:
    """com.example claimed (leaf 0), x@1.0.0 (1) and x@1.1.0 (2) released, 1.1.0 yanked (3), 2.0.0-rc.1 (4)."""
    built = Log()
    built.add(claim("com.example", [key], LogHead(), 100))
    head = LogHead()
    for version in ("1.0.0", "1.1.0"):
        prepared = release_bundle(module_record(str(X), version, bundle), bundle, key, head, 200)
        head = LogHead(built.add(prepared.entry).cid, head.seq + 1, 200)
    head = LogHead(built.add(yank(X, Version(1, 1, 0), "bad", key, head, 300)).cid, 2, 300)
    prepared = release_bundle(module_record(str(X), "2.0.0-rc.1", bundle), bundle, key, head, 400)
    built.add(prepared.entry)
    return built


def record_of(key: SigningKey, bundle: Bundle, version: str) -> Envelope:
    return Envelope.sign(module_record(str(X), version, bundle).to_dict(), [key])


# --- checkpoints --------------------------------------------------------------------------------------------


def test_a_newer_checkpoint_must_extend_the_last_one(log: Log) -> None:
    old, new = log.checkpoint(2), log.checkpoint(5, time=2_000)
    check_consistency(old, new, log.tree.consistency_proof(2, 5))
    check_consistency(new, new, [])
    check_consistency(log.checkpoint(0), new, [])
    with pytest.raises(CheckpointRollbackError, match="covers 2 entries, fewer than the 5"):
        check_consistency(new, old, [])
    with pytest.raises(CheckpointRollbackError, match="signed at 1970-01-01 00:00:02 UTC, before the one"):
        check_consistency(log.checkpoint(2, time=5_000), new, log.tree.consistency_proof(2, 5))
    bent = [bytes(32), *log.tree.consistency_proof(2, 5)[1:]]
    with pytest.raises(LogForkError, match=r"is not an extension .*consistency proof does not lead"):
        check_consistency(old, new, bent)
    stranger = SigningKey.from_seed(b"s" * 32)
    other = Log()
    for text in ("another", "history"):
        other.add(Envelope.sign({"type": text}, [stranger]))
    with pytest.raises(LogForkError, match="two different roots for the same tree size 2"):
        check_consistency(other.checkpoint(2), old, [])


# --- proving and replaying logs -----------------------------------------------------------------------------


def test_honest_logs_replay_and_agree_with_honest_answers(log: Log, key: SigningKey, bundle: Bundle) -> None:
    verified = replay_logs(log.checkpoint(), X, log.proven([0]), log.proven([1, 2, 3, 4]))
    assert verified.complete and len(verified.entries) == 5
    assert set(verified.releases) == {Version(1, 0, 0), Version(1, 1, 0), Version.parse("2.0.0-rc.1")}
    record = record_of(key, bundle, "1.0.0")
    point = verified.check_release(Version(1, 0, 0), record.cid, record)
    assert (point.leaf_index, point.namespace.head.seq) == (1, 0)
    verified.check_yanked(Version(1, 1, 0), True)
    verified.check_selection(None, Version(1, 0, 0))
    verified.check_selection(Range.parse(">=2.0.0-rc"), Version.parse("2.0.0-rc.1"))


def test_answers_that_disagree_with_the_logs_are_refused(log: Log, key: SigningKey, bundle: Bundle) -> None:
    verified = replay_logs(log.checkpoint(), X, log.proven([0]), log.proven([1, 2, 3, 4]))
    record = record_of(key, bundle, "1.0.0")
    with pytest.raises(RecordMismatchError, match=r"@3.0.0 is not released in the registry's signed log of 5"):
        verified.check_release(Version(3, 0, 0), record.cid, record)
    with pytest.raises(RecordMismatchError, match=f"as record .*; the registry answered {record.cid}"):
        verified.check_release(Version(1, 1, 0), record.cid, record)
    with pytest.raises(RecordMismatchError, match=r"the registry says .*@1.1.0 is not yanked; its signed log says"):
        verified.check_yanked(Version(1, 1, 0), False)
    with pytest.raises(
        RecordMismatchError, match=r"resolved .*@>=1.0.0 <2.0.0-0 to 1.1.0; by its signed log it is 1.0.0"
    ):
        verified.check_selection(Range.parse("^1"), Version(1, 1, 0))
    # An authorised release entry that links a record signed by someone else.
    foreign = Envelope.sign(module_record(str(X), "1.0.0", bundle).to_dict(), [SigningKey.from_seed(b"s" * 32)])
    other = Log()
    other.add(claim("com.example", [key], LogHead(), 100))
    entry = Release(seq=0, prev=None, time=200, dxn=X, version=Version(1, 0, 0), record=foreign.cid)
    other.add(Envelope.sign(entry.to_dict(), [key]))
    unauthorised = replay_logs(other.checkpoint(), X, other.proven([0]), other.proven([1]))
    with pytest.raises(RecordMismatchError, match=r"signed by no key that held 'release' in 'com.example' when"):
        unauthorised.check_release(Version(1, 0, 0), foreign.cid, foreign)


def test_entries_newer_than_the_checkpoint_are_left_out(log: Log) -> None:
    verified = replay_logs(log.checkpoint(3), X, log.proven([0], 3), log.proven([1, 2, 3, 4], 3))
    assert not verified.complete and Version(1, 1, 0) not in verified.dxn_log.yanked
    stale = r"1.1.0 is yanked; its signed log says otherwise \(the registry reports entries newer"
    with pytest.raises(RecordMismatchError, match=stale):
        verified.check_yanked(Version(1, 1, 0), True)


def test_logs_that_are_not_proven_or_do_not_hold_together_are_refused(log: Log) -> None:
    checkpoint = log.checkpoint()
    unproven = [ProvenEntry(1, log.blocks[1], None)]
    with pytest.raises(InclusionError, match="gave no inclusion proof for entry"):
        replay_logs(checkpoint, X, log.proven([0]), unproven)
    wrong_leaf = [ProvenEntry(2, log.blocks[1], log.proven([2])[0].proof)]
    with pytest.raises(InclusionError, match="is not leaf 2 of the registry's signed log of 5 entries"):
        replay_logs(checkpoint, X, log.proven([0]), wrong_leaf)
    with pytest.raises(InclusionError, match="out of log order"):
        replay_logs(checkpoint, X, log.proven([0]), log.proven([2, 1]))
    with pytest.raises(LogError, match=r"at leaf 2 \(com.example/function/x #1\): .*entry has seq 1, expected 0"):
        replay_logs(checkpoint, X, log.proven([0]), log.proven([2, 3]))
    with pytest.raises(LogError, match="not claimed"):
        replay_logs(checkpoint, X, [], log.proven([1]))
    with pytest.raises(RecordMismatchError, match=r"listed an entry of com.example in the log of com.example/function"):
        replay_logs(checkpoint, X, [], log.proven([0]))


# --- the trust store ----------------------------------------------------------------------------------------


def test_the_trust_store_pins_keys_and_keeps_the_newest_checkpoint(tmp_path: Path, log: Log) -> None:
    store = TrustStore(tmp_path / "trust")
    verifier = SIGNER.verifier()
    assert store.pinned_key("http://r") is None and store.last_checkpoint(verifier) is None
    store.pin("http://r", verifier.to_vkey())
    assert TrustStore(tmp_path / "trust").pinned_key("http://r") == verifier.to_vkey()
    store.remember(verifier, log.checkpoint(3, time=5))
    store.remember(verifier, log.checkpoint(2, time=4))
    assert store.last_checkpoint(verifier) == log.checkpoint(3, time=5)
    path = next((tmp_path / "trust" / "checkpoints").iterdir())
    path.write_text(path.read_text().replace("\n3\n", "\n4\n"))
    with pytest.raises(TrustStoreError, match=r"does not verify with log.example's key"):
        store.last_checkpoint(verifier)
    (tmp_path / "trust" / "pins.json").write_text("[1, 2]")
    with pytest.raises(TrustStoreError, match="must map registry URLs to verifier keys"):
        store.pinned_key("http://r")
    (tmp_path / "trust" / "pins.json").write_text("{")
    with pytest.raises(TrustStoreError, match="is not JSON"):
        store.pin("http://r", verifier.to_vkey())


# --- dmg verify ---------------------------------------------------------------------------------------------


@pytest.fixture
def populated(tmp_path: Path, key: SigningKey, bundle: Bundle) -> Path:
    async def fill() -> None:
        async with await Registry.open(tmp_path / "data") as registry:
            await claim_namespace(registry, "com.example", key)
            await publish(registry, key, str(X), "1.0.0", bundle)
            await publish(registry, key, str(X), "1.1.0", bundle)

    asyncio.run(fill())
    return tmp_path / "data"


@pytest.fixture
def served(populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with BackgroundServer(server_settings(populated)) as url:
        yield url


def test_dmg_verify_on_a_data_directory(populated: Path, key: SigningKey) -> None:
    result = json.loads(dmg("verify", f"{X}@1.0.0", "--registry", str(populated), "--json").stdout)
    assert (result["version"], result["leafIndex"], result["namespaceEntries"]) == ("1.0.0", 1, 1)
    assert result["signers"] == [key.public_key.did] and result["checkpoint"]["size"] == 3
    text = dmg("verify", str(X), "--registry", str(populated)).stdout
    assert text.startswith(f"verified {X}@1.1.0\n") and "leaf 2" in text and "3 entries" in text


def test_dmg_verify_on_a_registry_service_pins_its_key(served: str, tmp_path: Path) -> None:
    first = json.loads(dmg("verify", str(X), "--registry", served, "--json").stdout)
    pins = json.loads((tmp_path / "config" / "dmg" / "trust" / "pins.json").read_text())
    assert pins == {served: first["checkpoint"]["verifierKey"]}
    key = first["checkpoint"]["verifierKey"]
    assert json.loads(dmg("verify", str(X), "--registry", served, "--registry-key", key, "--json").stdout) == first
    impostor = NoteSigner(key.split("+")[0], Ed25519PrivateKey.generate()).verifier().to_vkey()
    refused = dmg("verify", str(X), "--registry", served, "--registry-key", impostor, ok=False)
    assert refused.stderr.startswith(f"dmg: error: {served} signs its log with the key {key}, not the pinned")
    stale = dmg("verify", str(X), "--registry", served, "--max-age", "0.000001", ok=False)
    assert "may be frozen" in stale.stderr


def test_local_verify_refuses_a_store_edited_behind_the_registrys_back(populated: Path) -> None:
    with sqlite3.connect(populated / "registry.sqlite3") as connection:
        connection.execute("UPDATE tlog_hashes SET hash = zeroblob(32) WHERE level = 0 AND idx = 0")
    refused = dmg("verify", str(X), "--registry", str(populated), ok=False)
    assert "is not leaf 1 of the registry's signed log of 3 entries" in refused.stderr
