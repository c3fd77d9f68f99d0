"""The orchestrator in process, installing from an embedded registry (a real data directory): queue bounds, what a
restart restores from its own caches, invocations cut short by a stop, and which runtime runs what."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from dmg.authoring.publisher import release_bundle
from dmg.core.bundle import build_bundle
from dmg.core.clock import now_ms
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec
from dmg.registry import Registry
from orchestrator.core import INTERRUPTED, Orchestrator
from orchestrator.errors import (
    InvocationError,
    NotInstalledError,
    OrchestratorError,
    QueueFullError,
    UnsupportedModuleError,
)
from orchestrator.lifecycle import FunctionState
from orchestrator.runtimes.wasi import WasiRuntime
from orchestrator.state import InvocationRow, InvocationStatus, StateStore
from tests.support.bundles import oci_layout
from tests.support.registries import claim_namespace, module_record, publish
from tests.support.wasm import function_wasm

ECHO = "com.example/function/echo"
BOX = "com.example/function/box"


@pytest.fixture
async def registry_dir(tmp_path: Path, key: SigningKey) -> Path:
    directory = tmp_path / "registry"
    async with await Registry.open(directory) as registry:
        await claim_namespace(registry, "com.example", key)
        functions = (FunctionSpec(name="event"), FunctionSpec(name="fail"))
        await publish(registry, key, ECHO, "1.0.0", build_bundle(function_wasm("echo"), "wasi"), functions=functions)
    return directory


@pytest.fixture
async def running(tmp_path: Path, registry_dir: Path) -> AsyncIterator[Orchestrator]:
    orchestrator = await Orchestrator.open(tmp_path / "data", registry=str(registry_dir), max_queue=2)
    try:
        await orchestrator.install(ECHO)
        await orchestrator.start(ECHO)
        yield orchestrator
    finally:
        await orchestrator.close()


async def test_a_paused_function_holds_a_bounded_queue(running: Orchestrator) -> None:
    await running.pause(ECHO)
    for n in range(2):
        assert (await running.invoke(ECHO, "event", n)).status is InvocationStatus.QUEUED
    with pytest.raises(QueueFullError, match="paused with 2 invocations queued"):
        await running.invoke(ECHO, "event", 3)
    assert await running.queued(ECHO) == 2


async def test_a_restart_needs_no_registry_and_recompiles_from_cached_blocks(
    tmp_path: Path, running: Orchestrator
) -> None:
    assert (await running.invoke(ECHO, "event", "before")).output == "before"
    await running.close()
    state = await StateStore.open(tmp_path / "data")
    cut_short = InvocationRow("cut-short", ECHO, "event", InvocationStatus.RUNNING, None, created_at=1)
    await state.add_invocation(cut_short)
    await state.close()
    shutil.rmtree(tmp_path / "data" / "compiled")
    nowhere = tmp_path / "no-registry"
    restarted = await Orchestrator.open(tmp_path / "data", registry=str(nowhere))
    try:
        assert restarted.function(ECHO).state is FunctionState.RUNNING
        assert (await restarted.invoke(ECHO, "event", "after")).output == "after"
        record = await restarted.invocation("cut-short")
        assert record.status is InvocationStatus.FAILED and record.error is not None
        assert record.error["code"] == INTERRUPTED
        assert not nowhere.exists(), "the registry was not needed"
        assert list((tmp_path / "data" / "compiled").glob("wasmtime-*/*.cwasm"))
    finally:
        await restarted.close()


async def test_a_lost_block_is_fetched_again_from_the_registry(
    tmp_path: Path, registry_dir: Path, running: Orchestrator
) -> None:
    await running.close()
    shutil.rmtree(tmp_path / "data" / "compiled")
    for block in (tmp_path / "data" / "blocks").iterdir():
        block.unlink()
    restarted = await Orchestrator.open(tmp_path / "data", registry=str(registry_dir))
    try:
        assert (await restarted.invoke(ECHO, "event", 1)).output == 1
        assert any((tmp_path / "data" / "blocks").iterdir())
    finally:
        await restarted.close()


async def test_failures_carry_their_record_and_unknown_names_are_not_installed(running: Orchestrator) -> None:
    with pytest.raises(InvocationError) as caught:
        await running.invoke(ECHO, "fail", None)
    assert caught.value.invocation_id is not None
    record = await running.invocation(caught.value.invocation_id)
    assert record.status is InvocationStatus.FAILED and record.error is not None and record.error["exitCode"] == 3
    with pytest.raises(NotInstalledError, match=r"com\.example/function/other is not installed"):
        running.function("dxn:com.example/function/other@1.0.0")
    with pytest.raises(NotInstalledError, match="no invocation 'missing'"):
        await running.invocation("missing")


async def test_a_module_no_registered_runtime_runs_is_refused_at_plan_time(
    tmp_path: Path, registry_dir: Path, key: SigningKey
) -> None:
    async with await Registry.open(registry_dir) as registry:
        container = build_bundle(oci_layout(), "container")
        record = replace(module_record(BOX, "1.0.0", container), runtime="container")
        prepared = release_bundle(record, container, key, await registry.log_head(BOX), now_ms())
        await registry.publish(prepared.root, prepared.blocks())
    orchestrator = await Orchestrator.open(tmp_path / "data", registry=str(registry_dir))
    try:
        refusal = rf"^{BOX}@1\.0\.0 runs on container, and this orchestrator has no container runtime"
        with pytest.raises(UnsupportedModuleError, match=refusal):
            await orchestrator.plan(BOX)
        with pytest.raises(UnsupportedModuleError, match=refusal):
            await orchestrator.install(BOX)
        assert orchestrator.functions() == [] and not any((tmp_path / "data" / "blocks").iterdir())
    finally:
        await orchestrator.close()


async def test_a_runtime_passed_in_is_the_one_asked_and_is_closed_with_the_orchestrator(
    tmp_path: Path, registry_dir: Path
) -> None:
    given = WasiRuntime(tmp_path / "given-cache")
    orchestrator = await Orchestrator.open(tmp_path / "data", registry=str(registry_dir), runtimes=[given])
    try:
        assert orchestrator.runtimes == {"wasi": given}
        await orchestrator.install(ECHO)
        await orchestrator.start(ECHO)
        assert (await orchestrator.invoke(ECHO, "event", "hi")).output == "hi"
        echo = orchestrator.function(ECHO)
        assert echo.runtime is given
        assert list((tmp_path / "given-cache").glob("wasmtime-*/*.cwasm"))
        assert not (tmp_path / "data" / "compiled").exists(), "no other WASI runtime was built"
    finally:
        await orchestrator.close()
    with pytest.raises(OrchestratorError, match="the WASI runtime is closed"):
        orchestrator.runtimes["wasi"].invoke(echo.binding("event"), "event", 1)
