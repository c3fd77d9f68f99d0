"""Registries to federate: a home served on loopback behind a proxy (so a test can make it lie or go down), and
an embedded mirror whose federation syncs it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dmg.core.bundle import Bundle
from dmg.core.keys import SigningKey
from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from federation.core import Federation
from federation.peers import Peer
from tests.support.proxy import Proxy
from tests.support.registries import claim_namespace, publish
from tests.support.servers import serve, server_settings

NAMESPACE = "com.home"
MODULE = f"{NAMESPACE}/function/shared"


@dataclass
class Home:
    """A home registry on loopback (``url``), reached by the mirror through ``proxy`` (at ``proxied``)."""

    data_dir: Path
    url: str
    proxy: Proxy
    proxied: str

    async def write(self, key: SigningKey, bundle: Bundle, *versions: str, name: str = MODULE) -> None:
        """Publish ``versions`` of ``name`` at the home (claiming its namespace first if need be)."""
        async with await Registry.open(self.data_dir) as registry:
            namespace = name.split("/", 1)[0]
            if (await registry.namespace(namespace)).head.cid is None:
                await claim_namespace(registry, namespace, key)
            for version in versions:
                await publish(registry, key, name, version, bundle)


@pytest.fixture(scope="module")
def proxy_server() -> Iterator[tuple[Proxy, str]]:
    proxy = Proxy()
    with serve(proxy.app) as url:
        yield proxy, url


@pytest.fixture
def home(tmp_path: Path, proxy_server: tuple[Proxy, str]) -> Iterator[Home]:
    proxy, proxied = proxy_server
    data_dir = tmp_path / "home"
    with BackgroundServer(server_settings(data_dir)) as url:
        proxy.reset(url)
        yield Home(data_dir, url, proxy, proxied)


@pytest.fixture
async def mirror(tmp_path: Path, home: Home) -> AsyncIterator[tuple[Registry, Federation]]:
    """An embedded registry with the home as its peer for ``com.home`` (syncs are the test's to run)."""
    registry = await Registry.open(tmp_path / "mirror")
    federation = await Federation.attach(registry, tmp_path / "mirror")
    await federation.add_peer(Peer("home", home.proxied, (NAMESPACE,)))
    try:
        yield registry, federation
    finally:
        await registry.close()
