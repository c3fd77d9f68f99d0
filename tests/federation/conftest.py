"""Registries to federate: a home served on loopback behind a proxy (so a test can make it lie or go down), and
an embedded mirror whose federation syncs it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from federation.core import Federation
from federation.peers import Peer
from tests.support.federation import NAMESPACE, Home
from tests.support.proxy import Proxy
from tests.support.servers import serve, server_settings


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
