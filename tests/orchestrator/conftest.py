"""The servers the orchestrator's end-to-end tests share, one set per test module: a local HTTP server for the
network grant, a registry service holding the C fixture functions, and an orchestrator service installing from it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from threading import Thread

import pytest

from dmg.service.server import BackgroundServer as RegistryServer
from dmg.service.settings import Settings
from orchestrator.client import OrchestratorClient
from orchestrator.service.server import BackgroundServer
from tests.support.orchestrators import Orchestrator, Pong, orchestrator_settings, publish_fixtures


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    """The port of a :class:`~tests.support.orchestrators.Pong` server on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pong)
    Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory, http_port: int) -> Iterator[str]:
    """A registry service holding the C fixture functions."""
    root = tmp_path_factory.mktemp("registry")
    with RegistryServer(Settings(data_dir=root / "data", port=0, seed_samples=False)) as url:
        asyncio.run(publish_fixtures(url, http_port, root / "publisher-trust"))
        yield url


@pytest.fixture(scope="module")
def orchestrator(tmp_path_factory: pytest.TempPathFactory, registry_url: str, http_port: int) -> Iterator[Orchestrator]:
    """An orchestrator service installing from :func:`registry_url`, allowed storage and the network of
    :func:`http_port`."""
    root = tmp_path_factory.mktemp("orchestrator")
    policy = root / "policy.toml"
    policy.write_text(f'[allow]\nstorage = "1MiB"\nnetwork = ["127.0.0.1:{http_port}"]\n')
    server = BackgroundServer(orchestrator_settings(root / "data", registry_url, policy))
    with OrchestratorClient(server.start()) as client:
        running = Orchestrator(server, root / "data", client)
        yield running
        running.client.close()
    server.stop()
