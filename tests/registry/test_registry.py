"""The registry over a real SQLite file: publish, resolve, yank, export/import, fsck, and refusals that
leave the store byte-for-byte unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import pytest

from dmg.authoring.publisher import claim, grant, release_bundle, revoke, yank
from dmg.core import codec
from dmg.core.bundle import Bundle, BundleIndex, build_bundle
from dmg.core.car import read_car, write_car
from dmg.core.cid import CID, RAW
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope, Signature
from dmg.core.errors import (
    BundleError,
    CIDError,
    ConflictError,
    DmgError,
    LogError,
    NotFoundError,
    RecordError,
    SignatureError,
    UnauthorizedError,
)
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import Release
from dmg.core.semver import Range, Version
from dmg.registry import Registry
from dmg.store.sqlite import DATABASE_NAME
from tests.support.registries import claim_namespace, module_record, prepare, publish

X = "com.example/function/x"


def snapshot(registry: Registry) -> list[str]:
    """Every row of every table, as SQL text: equal snapshots mean equal stored data."""
    path = Path(registry.store.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


async def test_publish_and_resolve(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    first = await publish(registry, key, X, "1.0.0", bundle)
    await publish(registry, key, X, "1.2.0", bundle)
    await publish(registry, key, X, "2.0.0-beta.1", bundle)
    latest = await registry.resolve(DXN.parse(X))
    assert str(latest.version) == "1.2.0" and latest.bundle == bundle.cid and not latest.yanked
    assert str((await registry.resolve(DXN.parse(X + "@~1.0"))).version) == "1.0.0"
    assert str((await registry.resolve(DXN.parse(X + "@>=2.0.0-beta"))).version) == "2.0.0-beta.1"
    exact = await registry.resolve(DXN.parse(X), Version.parse("1.0.0"))
    assert exact.record == first.record_envelope.cid
    envelope, record = await registry.record(exact.record)
    assert record.dxn == DXN.parse(X) and envelope.verify() == {key.public_key}
    infos = await registry.versions(DXN.parse(X))
    assert [info.version for info in infos] == ["1.0.0", "1.2.0", "2.0.0-beta.1"]
    assert infos[0].publisher == key.public_key.did


async def test_yank_hides_from_ranges_but_not_exact(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    await publish(registry, key, X, "1.1.0", bundle)
    dxn = DXN.parse(X)
    entry = yank(dxn, Version.parse("1.1.0"), "broken", key, await registry.log_head(X), now_ms())
    await registry.submit_entry(entry.block()[1])
    assert str((await registry.resolve(dxn)).version) == "1.0.0"
    assert str((await registry.resolve(dxn, Range.parse("^1"))).version) == "1.0.0"
    pinned = await registry.resolve(dxn, Version.parse("1.1.0"))
    assert pinned.yanked
    assert [(i.version, i.yanked, i.yank_reason) for i in await registry.versions(dxn)] == [
        ("1.0.0", False, ""),
        ("1.1.0", True, "broken"),
    ]


async def test_resolve_errors(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    with pytest.raises(NotFoundError, match="no released versions"):
        await registry.resolve(DXN.parse(X))
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    with pytest.raises(NotFoundError, match="no version"):
        await registry.resolve(DXN.parse(X + "@^2"))
    with pytest.raises(NotFoundError, match="unknown tag"):
        await registry.resolve(DXN.parse(X + "@nightly"))


async def refused(registry: Registry, error: type[Exception], root: CID, blocks: dict[CID, bytes]) -> None:
    before = snapshot(registry)
    with pytest.raises(error):
        await registry.publish(root, blocks)
    assert snapshot(registry) == before


async def test_publish_without_claim_is_unauthorised(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    prepared = await prepare(registry, key, X, "1.0.0", bundle)
    await refused(registry, UnauthorizedError, prepared.root, prepared.blocks())


async def test_publish_by_an_unauthorised_key(
    registry: Registry, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    prepared = await prepare(registry, other_key, X, "1.0.0", bundle)
    await refused(registry, UnauthorizedError, prepared.root, prepared.blocks())


async def test_duplicate_version_conflicts(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    again = await prepare(registry, key, X, "1.0.0", bundle, description="different")  # type: ignore[arg-type]
    await refused(registry, ConflictError, again.root, again.blocks())


async def test_tampered_block_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    prepared = await prepare(registry, key, X, "1.0.0", bundle)
    blocks = prepared.blocks()
    chunk = bundle.index.chunks[0]
    blocks[chunk] = blocks[chunk][:-1] + b"\x00"
    await refused(registry, CIDError, prepared.root, blocks)


async def test_missing_bundle_block_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    prepared = await prepare(registry, key, X, "1.0.0", bundle)
    blocks = prepared.blocks()
    del blocks[bundle.index.chunks[0]]
    await refused(registry, NotFoundError, prepared.root, blocks)


async def test_wrong_signature_is_refused(
    registry: Registry, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    prepared = await prepare(registry, key, X, "1.0.0", bundle)
    forged = prepared.entry.to_dict()
    forged["signatures"][0]["sig"] = other_key.sign(b"something else")
    cid, data = codec.encode_block(forged)
    await refused(registry, SignatureError, cid, {**prepared.blocks(), cid: data})


async def test_record_for_another_version_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    good = await prepare(registry, key, X, "1.0.0", bundle)
    entry = Release(
        seq=0,
        prev=None,
        time=now_ms(),
        dxn=DXN.parse(X),
        version=Version.parse("9.9.9"),
        record=good.record_envelope.cid,
    )
    envelope = Envelope.sign(entry.to_dict(), [key])
    await refused(registry, RecordError, envelope.cid, {**good.blocks(), envelope.cid: envelope.block()[1]})


async def test_broken_chain_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    stale = await prepare(registry, key, X, "1.0.0", bundle)
    await publish(registry, key, X, "1.1.0", bundle)
    await refused(registry, LogError, stale.root, stale.blocks())


async def test_invalid_wasm_is_refused(registry: Registry, key: SigningKey) -> None:
    await claim_namespace(registry, "com.example", key)
    garbage = b"\0asm\x01\0\0\0" + b"\xff" * 40
    chunk = CID.of(garbage, RAW)
    index = BundleIndex(runtime="wasi", size=len(garbage), sha256=hashlib.sha256(garbage).digest(), chunks=(chunk,))
    fake = Bundle(index=index, chunks=[(chunk, garbage)])
    prepared = release_bundle(module_record(X, "1.0.0", fake), fake, key, await registry.log_head(X), now_ms())
    await refused(registry, BundleError, prepared.root, prepared.blocks())


async def test_a_bundle_checked_for_one_runtime_is_checked_again_for_another(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    claimed = claim("com.example", [key], LogHead(), now_ms())
    wasi = release_bundle(module_record(X, "1.0.0", bundle), bundle, key, LogHead(), now_ms())
    head = LogHead(wasi.root, 0, wasi.entry.payload["time"])
    container = dataclasses.replace(module_record(X, "1.1.0", bundle), runtime="container")
    mislabelled = release_bundle(container, bundle, key, head, now_ms())
    blocks = {claimed.cid: claimed.block()[1], **wasi.blocks(), **mislabelled.blocks()}
    before = snapshot(registry)
    with pytest.raises(BundleError, match="for runtime 'wasi', the record says 'container'"):
        await registry.import_car(write_car([claimed.cid, wasi.root, mislabelled.root], blocks.items()))
    assert snapshot(registry) == before


async def test_future_entry_is_refused(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    record = module_record(X, "1.0.0", bundle)
    prepared = release_bundle(record, bundle, key, await registry.log_head(X), now_ms() + 3_600_000)
    await refused(registry, LogError, prepared.root, prepared.blocks())


async def test_entry_times_are_bounded_by_the_clock_as_it_moves(
    tmp_path: Path, key: SigningKey, other_key: SigningKey
) -> None:
    """A batch judges each entry against the clock at that entry: one ahead of the clock when the batch started is
    accepted once the clock has caught up; one ahead of the clock as it reads then is refused."""
    minute = 60_000
    readings = iter(range(0, 100 * minute, 10 * minute))
    async with await Registry.open(tmp_path / "r", clock=lambda: next(readings)) as registry:
        claimed = claim("com.example", [key], LogHead(), 0)
        granted = grant("com.example", other_key.public_key, ["release"], key, LogHead(claimed.cid, 0, 0), 6 * minute)
        blocks = [claimed.block(), granted.block()]
        assert (await registry.import_car(write_car([cid for cid, _ in blocks], blocks))).entries_added == 2
        head = await registry.log_head("com.example")
        too_late = grant("com.example", other_key.public_key, ["yank"], key, head, 60 * minute)
        with pytest.raises(LogError, match="more than 5 minutes ahead"):
            await registry.import_car(write_car([too_late.cid], [too_late.block()]))


async def test_release_cannot_be_submitted_as_a_bare_entry(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    prepared = await prepare(registry, key, X, "1.0.0", bundle)
    with pytest.raises(RecordError, match="use publish"):
        await registry.submit_entry(prepared.entry.block()[1])


async def test_rotation_keeps_old_releases_valid(
    registry: Registry, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    head = await registry.log_head("com.example")
    await registry.submit_entry(
        grant("com.example", other_key.public_key, ["grant", "release", "yank"], key, head, now_ms()).block()[1]
    )
    head = await registry.log_head("com.example")
    await registry.submit_entry(revoke("com.example", key.public_key, other_key, head, now_ms()).block()[1])
    stale = await prepare(registry, key, X, "1.1.0", bundle)
    await refused(registry, UnauthorizedError, stale.root, stale.blocks())
    await publish(registry, other_key, X, "1.1.0", bundle)
    report = await registry.fsck()
    assert report.ok, report.problems
    assert report.entries == 5


async def test_export_import_round_trip(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "a") as source, await Registry.open(tmp_path / "b") as target:
        await claim_namespace(source, "com.example", key)
        await publish(source, key, X, "1.0.0", bundle)
        await publish(source, key, "com.example/function/y", "0.1.0", bundle, dependencies={X: "^1"})
        car = await source.export([DXN.parse(X), DXN.parse("com.example/function/y")])
        result = await target.import_car(car)
        assert result.entries_added == 3 and result.entries_known == 0 and result.blocks_added > 3
        assert str((await target.resolve(DXN.parse("com.example/function/y"))).version) == "0.1.0"
        again = await target.import_car(car)
        assert again.entries_added == 0 and again.entries_known == 3
        assert (await target.fsck()).ok


async def test_import_counts_only_the_blocks_it_added(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "a") as source, await Registry.open(tmp_path / "b") as target:
        await claim_namespace(source, "com.example", key)
        await publish(source, key, X, "1.0.0", bundle)
        first = await source.export([DXN.parse(X)])
        assert (await target.import_car(first)).blocks_added == len(read_car(first).blocks)
        await publish(source, key, X, "1.1.0", bundle)
        result = await target.import_car(await source.export([DXN.parse(X)]))
        assert (result.entries_added, result.entries_known, result.blocks_added) == (1, 2, 2)


def forged(envelope: Envelope, key: SigningKey) -> tuple[CID, bytes]:
    """``envelope``'s payload under a signature by ``key`` that does not verify."""
    return Envelope(envelope.payload, [Signature(key.public_key, bytes(64))]).block()


async def test_import_raises_for_the_first_failing_entry(
    registry: Registry, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    """Entries are checked on their own before any log state is judged, yet the error is the first entry's."""
    claimed = claim("com.example", [key], LogHead(), now_ms())
    stranger = release_bundle(module_record(X, "1.0.0", bundle), bundle, other_key, LogHead(), now_ms())
    release = release_bundle(module_record(X, "1.0.0", bundle), bundle, key, LogHead(), now_ms())
    bad = forged(claim("com.other", [key], LogHead(), now_ms()), key)
    blocks = {**stranger.blocks(), **release.blocks(), claimed.cid: claimed.block()[1], bad[0]: bad[1]}
    before = snapshot(registry)
    with pytest.raises(UnauthorizedError):
        await registry.import_car(write_car([claimed.cid, stranger.root, bad[0]], blocks.items()))
    with pytest.raises(SignatureError):
        await registry.import_car(write_car([claimed.cid, bad[0], release.root], blocks.items()))
    assert snapshot(registry) == before
    await registry.import_car(write_car([claimed.cid, release.root], blocks.items()))
    assert str((await registry.resolve(DXN.parse(X))).version) == "1.0.0"


async def test_import_of_a_root_without_its_block_is_refused(registry: Registry, key: SigningKey) -> None:
    claimed = claim("com.example", [key], LogHead(), now_ms())
    with pytest.raises(NotFoundError, match="has no block in the CAR"):
        await registry.import_car(write_car([claimed.cid], []))
    assert (await registry.store.stats()).entries == 0


async def test_import_of_a_tampered_car_stores_nothing(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "a") as source, await Registry.open(tmp_path / "b") as target:
        await claim_namespace(source, "com.example", key)
        await publish(source, key, X, "1.0.0", bundle)
        car = bytearray(await source.export([DXN.parse(X)]))
        car[-5] ^= 0x01
        before = snapshot(target)
        with pytest.raises(DmgError):
            await target.import_car(bytes(car))
        assert snapshot(target) == before


async def test_fsck_detects_a_corrupted_block(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    assert (await registry.fsck()).ok
    path = Path(registry.store.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE blocks SET data = x'00' WHERE cid = ?", (bundle.index.chunks[0].bytes,))
    report = await registry.fsck()
    assert not report.ok
    assert any(str(bundle.index.chunks[0]) in problem for problem in report.problems)


async def test_fsck_detects_stored_states_that_differ_from_the_replayed_logs(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, X, "1.0.0", bundle)
    path = Path(registry.store.path)  # type: ignore[attr-defined]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE namespaces SET seq = 7 WHERE namespace = 'com.example'")
        connection.execute("UPDATE versions SET yanked = 1, yank_reason = 'forged' WHERE dxn = ?", (X,))
    assert (await registry.fsck()).problems == [
        "namespace com.example: stored state differs from the replayed log",
        f"{X}: stored versions differ from the replayed log",
    ]


async def test_store_survives_reopen(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await claim_namespace(registry, "com.example", key)
        await publish(registry, key, X, "1.0.0", bundle)
    assert (tmp_path / "r" / DATABASE_NAME).exists()
    async with await Registry.open(tmp_path / "r") as registry:
        assert str((await registry.resolve(DXN.parse(X))).version) == "1.0.0"
        assert (await registry.namespace("com.example")).holders("release") == {key.public_key}


def test_bundle_fixture_is_real_wasm(wasm: bytes) -> None:
    assert build_bundle(wasm, "wasi").size == len(wasm)
