"""Shared fixtures: keys, a real WASM bundle, registries on temporary SQLite files, and this checkout's entry
points."""

from __future__ import annotations

import os
import tomllib
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import pytest
import wasmtime

from dmg.authoring.publisher import PreparedRelease, claim, release_bundle
from dmg.authoring.samples import ECHO_WAT
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec, ModuleRecord, Requirement
from dmg.core.semver import Version
from dmg.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def write_distribution(site: Path, name: str, entry_points: Mapping[str, Mapping[str, str]]) -> Path:
    """Write the metadata of a distribution ``name`` that declares ``entry_points`` (group → name → target) into
    the directory ``site``, for ``importlib.metadata`` to find once ``site`` is on ``sys.path``; returns ``site``."""
    info = site / f"{name}-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{entry} = {target}\n" for entry, target in entries.items())
            for group, entries in entry_points.items()
        )
    )
    return site


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


def module_record(
    name: str, version: str, bundle: Bundle, dependencies: dict[str, str] | None = None, **fields: object
) -> ModuleRecord:
    defaults: dict[str, object] = {
        "description": f"{name} for tests",
        "functions": (
            FunctionSpec(
                name="run", description="runs", input_schema={"type": "object"}, output_schema={"type": "object"}
            ),
        ),
    }
    return ModuleRecord(
        dxn=DXN.parse(name),
        version=Version.parse(version),
        runtime="wasi",
        bundle=bundle.cid,
        dependencies=tuple(Requirement(dxn=DXN.parse(dxn), spec=spec) for dxn, spec in (dependencies or {}).items()),
        **{**defaults, **fields},  # type: ignore[arg-type]
    )


async def claim_namespace(registry: Registry, namespace: str, key: SigningKey) -> None:
    await registry.submit_entry(claim(namespace, [key], await registry.log_head(namespace), now_ms()).block()[1])


async def prepare(
    registry: Registry, key: SigningKey, name: str, version: str, bundle: Bundle, **kwargs: object
) -> PreparedRelease:
    record = module_record(name, version, bundle, **kwargs)  # type: ignore[arg-type]
    return release_bundle(record, bundle, key, await registry.log_head(name), now_ms())


async def publish(
    registry: Registry, key: SigningKey, name: str, version: str, bundle: Bundle, **kwargs: object
) -> PreparedRelease:
    prepared = await prepare(registry, key, name, version, bundle, **kwargs)
    await registry.publish(prepared.root, prepared.blocks())
    return prepared
