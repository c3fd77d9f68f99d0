"""Federation inside dmg serve: a home and a mirror on loopback; continuous sync pushed by the home's events; a
client checking mirrored modules against the home's key; discovery; the operator API; dependency graphs across
registries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dmg.api.discovery import Discovery
from dmg.authoring.publisher import yank
from dmg.client.http import HttpClient
from dmg.client.trust import TrustPolicy
from dmg.core.bundle import Bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import UnauthorizedError
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from federation.cli.admin import RemoteAdmin
from tests.support.cli import dmg_json
from tests.support.registries import claim_namespace, publish
from tests.support.servers import server_settings

TOKEN = "operator-secret"
LIBRARY = "org.dxos/function/indexer"
APP = "com.acme/app/inbox"


@dataclass
class Pair:
    home_dir: Path
    home: str
    mirror_dir: Path
    mirror: str


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """org.dxos at its home; acme mirrors it (pushed by the home's events; the interval is long)."""
    with BackgroundServer(server_settings(tmp_path / "dxos")) as home:
        peers = ({"name": "dxos", "url": home, "namespaces": ["org.dxos.*"]},)
        settings = server_settings(tmp_path / "acme", peers=peers, admin_token=TOKEN, sync_interval=300.0)
        with BackgroundServer(settings) as mirror:
            yield Pair(tmp_path / "dxos", home, tmp_path / "acme", mirror)


async def eventually(check: object, timeout: float = 15.0) -> None:
    """Wait until the coroutine function ``check`` returns true (a sync runs on the server's own time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "the mirror did not catch up in time"
        await asyncio.sleep(0.05)


async def write(data_dir: Path, key: SigningKey, bundle: Bundle, name: str, *versions: str, **fields: object) -> None:
    async with await Registry.open(data_dir) as registry:
        namespace = name.split("/", 1)[0]
        if (await registry.namespace(namespace)).head.cid is None:
            await claim_namespace(registry, namespace, key)
        for version in versions:
            await publish(registry, key, name, version, bundle, **fields)


async def test_a_publish_at_the_home_reaches_the_mirror_and_verifies_against_the_homes_key(
    pair: Pair, key: SigningKey, bundle: Bundle
) -> None:
    await write(pair.home_dir, key, bundle, LIBRARY, "1.0.0")
    async with HttpClient(pair.mirror, trust=TrustPolicy(store=None)) as client:

        async def mirrored() -> bool:
            return bool(await client.versions(DXN.parse(LIBRARY)))

        await eventually(mirrored)
        verification = await client.verify(DXN.parse(LIBRARY))
        home_key = (await HttpClient(pair.home, trust=TrustPolicy(store=None)).discovery()).verifier_key
        mirror_key = (await client.discovery()).verifier_key
        assert verification.verifier_key == home_key != mirror_key
        assert (await client.resolve(DXN.parse(LIBRARY))).version == Version(1, 0, 0)

        async with await Registry.open(pair.home_dir) as writer:
            head = await writer.log_head(LIBRARY)
            entry = yank(DXN.parse(LIBRARY), Version(1, 0, 0), "broken", key, head, now_ms())
            await writer.submit_entry(entry.block()[1])

        async def yanked() -> bool:
            return all(info.yanked for info in await client.versions(DXN.parse(LIBRARY)))

        await eventually(yanked)
        assert (await client.verify(DXN.parse(f"{LIBRARY}@1.0.0"))).yanked


async def test_discovery_names_homes_and_mirrors(pair: Pair, key: SigningKey, bundle: Bundle) -> None:
    await write(pair.home_dir, key, bundle, LIBRARY, "1.0.0")
    await write(pair.mirror_dir, key, bundle, APP, "1.0.0")
    async with HttpClient(pair.mirror, trust=TrustPolicy(store=None)) as client:

        async def mirrored() -> bool:
            return bool((await client.discovery()).mirrors)

        await eventually(mirrored)
        found = await client.discovery()
        home = await HttpClient(pair.home, trust=TrustPolicy(store=None)).discovery()
    assert isinstance(found, Discovery) and found.homes == ("com.acme",)
    (mirrored_home,) = found.mirrors
    assert (mirrored_home.origin, mirrored_home.verifier_key, mirrored_home.namespaces) == (
        home.origin,
        home.verifier_key,
        ("org.dxos",),
    )


async def test_a_dependency_graph_crosses_registries_through_the_mirror_alone(
    pair: Pair, key: SigningKey, bundle: Bundle, tmp_path: Path
) -> None:
    await write(pair.home_dir, key, bundle, LIBRARY, "1.0.0", "1.1.0")
    await write(pair.mirror_dir, key, bundle, APP, "1.0.0", dependencies={LIBRARY: "^1"})
    async with HttpClient(pair.mirror, trust=TrustPolicy(store=None)) as client:

        async def mirrored() -> bool:
            return len(await client.versions(DXN.parse(LIBRARY))) == 2

        await eventually(mirrored)
    lock = tmp_path / "dmg.lock"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    await asyncio.to_thread(dmg_json, "lock", APP, "--registry", pair.mirror, "--out", str(lock), env=env)
    text = lock.read_text()
    assert 'dxn = "org.dxos/function/indexer"' in text and 'version = "1.1.0"' in text


async def test_the_operator_api_needs_the_admin_token(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.mirror) as http:
        refused = await http.get("/api/v1/peers")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "UNAUTHORIZED"
        wrong = await http.get("/api/v1/peers", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        listed = await http.get("/api/v1/peers", headers={"Authorization": f"Bearer {TOKEN}"})
        assert [peer["name"] for peer in listed.json()["peers"]] == ["dxos"]
        query = {"query": "{ peers { name status syncedSize evidence { kind } } }"}
        anonymous = (await http.post("/graphql", json=query)).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHORIZED"
        operator = await http.post("/graphql", json=query, headers={"Authorization": f"Bearer {TOKEN}"})
        assert operator.json()["data"]["peers"][0]["name"] == "dxos"
        metrics = (await http.get("/metrics")).text
    assert 'dmg_peer_syncs_total{outcome="ok",peer="dxos"}' in metrics


def test_peers_over_the_cli_against_a_service_and_a_data_directory(pair: Pair, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    listed = dmg_json("peer", "ls", "--registry", pair.mirror, "--token", TOKEN, env=env)
    assert [peer["name"] for peer in listed] == ["dxos"]  # type: ignore[union-attr]
    added = dmg_json(
        "peer", "add", "other", pair.home, "--namespace", "org.other", "--registry", pair.mirror, "--token", TOKEN,
        env=env,
    )
    assert added["name"] == "other"  # type: ignore[index]
    synced = dmg_json("sync", "dxos", "--registry", pair.mirror, "--token", TOKEN, env=env)
    assert synced["dxos"]["syncedSize"] >= 0  # type: ignore[index]
    local = tmp_path / "local"
    dmg_json("peer", "add", "dxos", pair.home, "--namespace", "org.dxos.*", "--registry", str(local), env=env)
    report = dmg_json("sync", "--registry", str(local), env=env)
    assert report["dxos"]["checkpointSize"] >= 0  # type: ignore[index]
    with pytest.raises(UnauthorizedError, match="with --token"):
        RemoteAdmin(pair.mirror, None)
