"""The fixtures every folder uses: this checkout's entry points, an isolated home, keys, a real WASM bundle, and a
registry on a temporary SQLite file. The helpers are in :mod:`tests.support`."""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import AsyncIterator, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
import wasmtime

from dmg.authoring.samples import ECHO_WAT
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.keys import SigningKey
from dmg.registry import Registry
from dmg.service.server import BackgroundServer as RegistryServer
from dmg.service.settings import Settings
from orchestrator.client import OrchestratorClient
from orchestrator.service.server import BackgroundServer
from tests.support.distributions import write_distribution
from tests.support.orchestrators import Orchestrator, Pong, orchestrator_settings, publish_fixtures
from tests.support.paths import ROOT


@pytest.fixture(scope="session", autouse=True)
def project_entry_points(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Expose the entry points ``pyproject.toml`` declares (the ``dmg.commands`` that add ``dmg fn``...) as the
    metadata of a throwaway distribution, first on ``sys.path`` and on the ``PYTHONPATH`` of subprocesses.

    The installed metadata has them only once ``pip install -e .`` has run from this checkout (CI does); a checkout
    tested through ``PYTHONPATH`` beside an install made elsewhere would otherwise test stale entry points.
    """
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("entry-points", {})
    site = write_distribution(tmp_path_factory.mktemp("entry-points"), "dmg_test_plugins", declared)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), str(ROOT), os.environ.get("PYTHONPATH")])))
        yield site


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's trust store, keys or default registry."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("DMG_REGISTRY", raising=False)


@pytest.fixture(scope="session")
def wasm() -> bytes:
    return wasmtime.wat2wasm(ECHO_WAT)


@pytest.fixture(scope="session")
def bundle(wasm: bytes) -> Bundle:
    return build_bundle(wasm, "wasi")


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_seed(bytes(range(32)))


@pytest.fixture
def other_key() -> SigningKey:
    return SigningKey.from_seed(bytes(range(1, 33)))


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    async with await Registry.open(tmp_path / "registry") as opened:
        yield opened


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
