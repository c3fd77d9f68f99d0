"""Install planning on a real (embedded) registry: resolution in install order, installed versions kept, records
verified, modes read, and the policy's decision on every module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from dmg.authoring.publisher import release_bundle
from dmg.client.errors import RecordMismatchError
from dmg.client.local import LocalClient
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.cid import CID, RAW
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import BundleError, ConflictError
from dmg.core.keys import SigningKey
from dmg.core.lockfile import Lockfile
from dmg.core.records import FunctionSpec, Resources
from dmg.core.resolver import Dependency, Resolver, prefetch
from dmg.core.semver import Version
from dmg.registry import Registry
from orchestrator.errors import UnsupportedModuleError
from orchestrator.install import Installer, entry_modes
from orchestrator.policy import GrantSet, Policy
from orchestrator.runtimes import Mode, Runtime
from orchestrator.runtimes.wasi import WasiRuntime
from tests.support.bundles import oci_layout
from tests.support.registries import claim_namespace, module_record, publish

APP, LIB, BASE = "com.example/function/app", "com.example/function/lib", "com.example/function/base"


def test_modes_default_to_lambda_and_functions_may_choose(bundle: Bundle) -> None:
    functions = (FunctionSpec(name="a"), FunctionSpec(name="b", mode=Mode.LAMBDA))
    assert entry_modes(module_record(APP, "1.0.0", bundle, functions=functions)) == {
        "a": Mode.LAMBDA,
        "b": Mode.LAMBDA,
    }
    record = module_record(APP, "1.0.0", bundle, functions=functions, mode=Mode.LONG_LIVED)
    assert entry_modes(record) == {"a": Mode.LONG_LIVED, "b": Mode.LAMBDA}


@pytest.fixture(scope="module")
def runtimes() -> Iterator[dict[str, Runtime[Any]]]:
    with WasiRuntime() as runtime:
        yield {runtime.name: runtime}


@pytest.fixture
async def graph(registry: Registry, key: SigningKey, bundle: Bundle) -> Registry:
    """lib 1.0.0 and 1.1.0 (asking for storage), base 1.0.0, app 1.0.0 (lib ^1, base ^1) and 2.0.0."""
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, LIB, "1.0.0", bundle)
    await publish(registry, key, LIB, "1.1.0", bundle, resources=Resources(storage=1024))
    await publish(registry, key, BASE, "1.0.0", bundle)
    await publish(registry, key, APP, "1.0.0", bundle, dependencies={LIB: "^1", BASE: "^1"})
    await publish(registry, key, APP, "2.0.0", bundle, dependencies={LIB: "^1"})
    return registry


async def test_a_plan_lists_the_graph_in_install_order_with_decisions(
    graph: Registry, runtimes: dict[str, Runtime[Any]]
) -> None:
    planner = Installer(LocalClient(graph), Policy(), runtimes)
    plan = await planner.plan(DXN.parse(f"{APP}@^1"))
    assert [(module.dxn, str(module.record.version)) for module in plan.modules] == [
        (BASE, "1.0.0"), (LIB, "1.1.0"), (APP, "1.0.0"),
    ]  # fmt: skip
    assert not plan.allowed and [module.decision.allowed for module in plan.modules] == [True, False, True]
    assert plan.decisions[1].refusals == (f"{LIB} asks for storage 1 KiB; the policy allows no storage",)
    granted = await planner.plan(DXN.parse(f"{APP}@^1"), GrantSet.parse(["storage=1KiB"]))
    assert granted.allowed
    for module in plan.modules:
        assert module.record_cid.matches(module.record_block) and not module.installed


async def test_installed_versions_are_kept(graph: Registry, runtimes: dict[str, Runtime[Any]]) -> None:
    planner = Installer(LocalClient(graph), Policy(), runtimes)
    installed = {LIB: Version.parse("1.0.0"), BASE: Version.parse("1.0.0")}
    plan = await planner.plan(DXN.parse(APP), installed=installed)
    assert [(module.dxn, str(module.record.version), module.installed) for module in plan.modules] == [
        (LIB, "1.0.0", True), (APP, "2.0.0", False),
    ]  # fmt: skip
    assert plan.allowed and [module.dxn for module in plan.new] == [APP]
    again = await planner.plan(DXN.parse(f"{APP}@^2"), installed={APP: Version.parse("2.0.0"), **installed})
    assert plan.request == APP and plan.roots == {APP} and again.new == ()
    with pytest.raises(ConflictError, match=rf"{APP} 2\.0\.0 is installed; {APP}@\^1 asks for another version"):
        await planner.plan(DXN.parse(f"{APP}@^1"), installed={APP: Version.parse("2.0.0")})


async def test_only_modules_a_registered_runtime_runs_are_planned(
    registry: Registry, key: SigningKey, bundle: Bundle, runtimes: dict[str, Runtime[Any]]
) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, APP, "1.0.0", bundle)
    oci = build_bundle(oci_layout(), "container")
    record = replace(module_record(LIB, "1.0.0", oci), runtime="container")
    prepared = release_bundle(record, oci, key, await registry.log_head(LIB), now_ms())
    await registry.publish(prepared.root, prepared.blocks())
    refusal = (
        rf"^{LIB}@1\.0\.0 runs on container, "
        r"and this orchestrator has no container runtime \(its runtimes: wasi\)$"
    )
    with pytest.raises(UnsupportedModuleError, match=refusal) as refused:
        await Installer(LocalClient(registry), Policy(), runtimes).plan(DXN.parse(LIB))
    assert isinstance(refused.value, BundleError) and refused.value.code == "BAD_REQUEST"
    with pytest.raises(UnsupportedModuleError, match=r"its runtimes: none\)$"):
        await Installer(LocalClient(registry), Policy(), {}).plan(DXN.parse(APP))


async def locked(registry: Registry, request: str) -> Lockfile:
    client = LocalClient(registry)
    root = Dependency.from_dxn(DXN.parse(request))
    solution = Resolver(await prefetch(client, [DXN.parse(request)])).resolve([root])
    return Lockfile.parse(Lockfile.from_solution(solution).to_text())


async def test_a_lockfile_is_planned_exactly_as_locked(
    graph: Registry, bundle: Bundle, runtimes: dict[str, Runtime[Any]]
) -> None:
    lockfile = await locked(graph, f"{APP}@^1")
    planner = Installer(LocalClient(graph), Policy(), runtimes)
    plan = await planner.plan_locked(lockfile, GrantSet.parse(["storage=1KiB"]))
    assert [(module.dxn, str(module.record.version)) for module in plan.modules] == [
        (BASE, "1.0.0"), (LIB, "1.1.0"), (APP, "1.0.0"),
    ]  # fmt: skip
    assert plan.allowed and plan.roots == {APP} and plan.request == f"dmg.lock ({APP}@^1)"
    with pytest.raises(ConflictError, match=rf"{LIB} 1\.0\.0 is installed; the lockfile locks 1\.1\.0"):
        await planner.plan_locked(lockfile, installed={LIB: Version.parse("1.0.0")})
    text = lockfile.to_text().replace(str(bundle.cid), str(CID.of(b"another bundle", RAW)), 1)
    with pytest.raises(RecordMismatchError, match=r"links bundle .*; the lockfile locks"):
        await planner.plan_locked(Lockfile.parse(text))
