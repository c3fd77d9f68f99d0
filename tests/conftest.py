"""Shared fixtures: keys, a real WASM bundle, and registries on temporary SQLite files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import wasmtime

from dmg.core.bundle import Bundle, build_bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec, ModuleRecord, Requirement
from dmg.core.semver import Version
from dmg.publisher import PreparedRelease, claim, release_bundle
from dmg.registry import Registry
from dmg.samples import ECHO_WAT


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
