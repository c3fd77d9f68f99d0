"""Syncing a peer (federation.sync through federation.core): verified entries taken, progress resumable, and every
kind of lie refused, counted and leaving the mirror's store as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from dmg.authoring.publisher import claim, yank
from dmg.client.errors import RegistryKeyError, RegistryUnavailableError
from dmg.core.bundle import Bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import CARError, ConfigError, DmgError, UnauthorizedError
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.semver import Version
from dmg.core.tlog import ProofError, entry_bundle, parse_entry_bundle
from dmg.registry import OPERATOR_KEY_FILE, Registry
from dmg.service.server import BackgroundServer
from federation.core import Federation
from federation.peers import Mode, Peer, Status
from federation.sync import EquivocationError, LyingPeerError
from tests.support.federation import MODULE, NAMESPACE, Home
from tests.support.registries import claim_namespace, prepare, publish, smuggle
from tests.support.servers import server_settings, snapshot

Mirror = tuple[Registry, Federation]


async def test_a_sync_takes_the_homes_entries_and_a_second_takes_nothing(
    home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    registry, federation = mirror
    await home.write(key, bundle, "1.0.0", "1.1.0")
    await home.write(key, bundle, "2.0.0", name="com.elsewhere/function/other")
    report = await federation.sync("home")
    assert (report.entries_taken, report.entries_refused, report.synced_size, report.checkpoint_size) == (3, 0, 5, 5)
    assert (await registry.resolve(DXN.parse(MODULE))).version == Version(1, 1, 0)
    assert await registry.versions(DXN.parse("com.elsewhere/function/other")) == [], "not routed, not taken"
    again = await federation.sync("home")
    assert (again.entries_taken, again.synced_size) == (0, 5)
    (status,) = await federation.statuses()
    assert (status.status, status.homes, status.entries_taken) == (Status.OK, ("com.elsewhere", NAMESPACE), 3)
    assert status.peer.registry_key.startswith(status.peer.origin + "+"), "the key is pinned at first contact"
    assert (await registry.fsck()).ok


async def test_yanks_at_the_home_travel(home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle) -> None:
    registry, federation = mirror
    await home.write(key, bundle, "1.0.0", "1.1.0")
    await federation.sync("home")
    async with await Registry.open(home.data_dir) as writer:
        head = await writer.log_head(MODULE)
        entry = yank(DXN.parse(MODULE), Version(1, 1, 0), "broken", key, head, now_ms())
        await writer.submit_entry(entry.block()[1])
    assert (await federation.sync("home")).entries_taken == 1
    assert (await registry.resolve(DXN.parse(f"{MODULE}@^1"))).version == Version(1, 0, 0)


async def test_a_routed_namespace_is_written_at_its_home_only(mirror: Mirror, key: SigningKey) -> None:
    registry, _ = mirror
    with pytest.raises(UnauthorizedError, match="mirrored here from peer 'home'"):
        await claim_namespace(registry, NAMESPACE, key)
    await claim_namespace(registry, "com.local", key)


async def test_routes_cover_no_local_namespace_and_do_not_overlap(mirror: Mirror, key: SigningKey) -> None:
    registry, federation = mirror
    await claim_namespace(registry, "com.local", key)
    with pytest.raises(ConfigError, match=r"'com\.local' is claimed in this registry"):
        await federation.add_peer(Peer("other", "http://127.0.0.1:1", ("com.local.*",)))
    with pytest.raises(ConfigError, match=r"overlaps com\.home, routed to peer 'home'"):
        await federation.add_peer(Peer("other", "http://127.0.0.1:1", ("com.*",)))
    with pytest.raises(ConfigError, match="there is a peer 'home' already"):
        await federation.add_peer(Peer("home", "http://127.0.0.1:1", ("org.other",)))


async def test_a_sync_cut_short_resumes_where_it_stopped(
    home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    registry, federation = mirror
    federation.chunk_tiles = 1
    await home.write(key, bundle, *(f"0.0.{patch}" for patch in range(1, 300)))

    async def drop(request: Request, upstream: httpx.Response) -> Response:
        return Response(b"", status_code=502)

    home.proxy.on("/tile/entries/001.p/44", drop)
    with pytest.raises(RegistryUnavailableError):
        await federation.sync("home")
    (status,) = await federation.statuses()
    assert (status.status, status.synced_size, status.failures, status.entries_refused) == (Status.FAILING, 256, 1, 0)
    assert len(await registry.versions(DXN.parse(MODULE))) == 255, "the first tile's releases were committed"
    home.proxy.rewrites.clear()
    report = await federation.sync("home")
    assert (report.entries_taken, report.synced_size) == (44, 300)
    assert len(await registry.versions(DXN.parse(MODULE))) == 299
    assert (await registry.fsck()).ok


async def test_a_peer_that_is_down_is_retried_without_counting_a_refusal(
    home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")
    home.proxy.down = True
    with pytest.raises(RegistryUnavailableError):
        await federation.sync("home")
    (status,) = await federation.statuses()
    assert (status.status, status.entries_refused) == (Status.FAILING, 0)
    home.proxy.down = False
    assert (await federation.sync("home")).entries_taken == 2


async def refused(federation: Federation, data_dir: Path, error: type[DmgError], match: str) -> None:
    """A sync that must fail with ``error`` and leave the mirror's store exactly as it was."""
    before = snapshot(data_dir)
    with pytest.raises(error, match=match):
        await federation.sync("home")
    assert snapshot(data_dir) == before
    (status,) = await federation.statuses()
    assert status.status is Status.FAILING and status.entries_refused >= 1


async def test_a_truncated_entry_bundle_is_refused(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")

    async def truncate(request: Request, upstream: httpx.Response) -> Response:
        return Response(upstream.content[:-5])

    home.proxy.on("/tile/entries/000.p/2", truncate)
    await refused(federation, tmp_path / "mirror", ProofError, "the bundle ends at byte")


async def test_a_substituted_entry_does_not_hash_to_the_signed_tree(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")
    impostor = claim(NAMESPACE, [other_key], LogHead(), now_ms())

    async def substitute(request: Request, upstream: httpx.Response) -> Response:
        entries = parse_entry_bundle(upstream.content)
        return Response(entry_bundle([impostor.block()[1], *entries[1:]]))

    home.proxy.on("/tile/entries/000.p/2", substitute)
    await refused(federation, tmp_path / "mirror", LyingPeerError, "do not hash to the root it signed")


async def test_a_tampered_block_is_refused(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")

    async def tamper(request: Request, upstream: httpx.Response) -> Response:
        body = bytearray(upstream.content)
        body[-1] ^= 0x01
        return Response(bytes(body))

    home.proxy.on("/api/v1/blocks", tamper)
    await refused(federation, tmp_path / "mirror", CARError, "does not match its CID")


async def test_a_forged_entry_in_the_homes_own_signed_log_is_refused(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")
    async with await Registry.open(home.data_dir) as writer:
        forged = await prepare(writer, other_key, MODULE, "1.1.0", bundle)
    await smuggle(home.data_dir, forged)
    await refused(federation, tmp_path / "mirror", UnauthorizedError, "no signer of a release")


async def test_a_home_presenting_another_key_is_refused(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, bundle: Bundle
) -> None:
    _, federation = mirror
    await home.write(key, bundle, "1.0.0")
    await federation.sync("home")
    with BackgroundServer(server_settings(tmp_path / "stranger")) as stranger:
        home.proxy.reset(stranger)
        with pytest.raises(RegistryKeyError, match="presents the log key"):
            await federation.sync("home")


async def test_an_equivocating_home_is_quarantined_with_both_checkpoints(
    tmp_path: Path, home: Home, mirror: Mirror, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    registry, federation = mirror
    await home.write(key, bundle, "1.0.0", "1.1.0")
    await federation.sync("home")
    # The same operator key signs a second, different history: a split view.
    fork = tmp_path / "fork"
    fork.mkdir()
    shutil.copy(home.data_dir / OPERATOR_KEY_FILE, fork / OPERATOR_KEY_FILE)
    async with await Registry.open(fork) as writer:
        await claim_namespace(writer, NAMESPACE, other_key)
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            await publish(writer, other_key, MODULE, version, bundle)
    with BackgroundServer(server_settings(fork)) as forked:
        home.proxy.reset(forked)
        with pytest.raises(EquivocationError, match="equivocates"):
            await federation.sync("home")
        (status,) = await federation.statuses()
        assert status.status is Status.QUARANTINED
        (evidence,) = status.evidence
        assert evidence.first != evidence.second and "— " in evidence.first and "— " in evidence.second
        with pytest.raises(EquivocationError):
            await federation.sync("home")
        assert [str(info.version) for info in await registry.versions(DXN.parse(MODULE))] == ["1.0.0", "1.1.0"]
        await federation.reset_trust("home")
        with pytest.raises(DmgError):
            await federation.sync("home")
    (status,) = await federation.statuses()
    assert status.status is Status.FAILING and not status.evidence


async def test_pull_through_fetches_on_a_miss(tmp_path: Path, home: Home, key: SigningKey, bundle: Bundle) -> None:
    await home.write(key, bundle, "1.0.0")
    async with await Registry.open(tmp_path / "edge") as edge:
        federation = await Federation.attach(edge, tmp_path / "edge")
        await federation.add_peer(Peer("home", home.proxied, (NAMESPACE,), Mode.PULL_THROUGH))
        resolution = await edge.resolve(DXN.parse(MODULE))
        assert resolution.version == Version(1, 0, 0)
        assert (await edge.get_block(resolution.bundle))[:1]
        assert await edge.versions(DXN.parse(f"{NAMESPACE}/function/missing")) == []
