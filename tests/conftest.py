"""The fixtures every folder uses: this checkout's entry points, an isolated home, keys, a real WASM bundle, and a
registry on a temporary SQLite file. The helpers are in :mod:`tests.support`."""

from __future__ import annotations

import os
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import wasmtime

from dmg.authoring.samples import ECHO_WAT
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.keys import SigningKey
from dmg.registry import Registry
from tests.support.distributions import write_distribution
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
