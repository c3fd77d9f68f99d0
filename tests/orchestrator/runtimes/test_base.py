"""The runtime-neutral layer (``orchestrator/runtimes/base.py`` and its sibling modules): it loads no engine, the
agent context's shape, and how a module is matched to a registered runtime."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from dmg.core.bundle import Bundle
from orchestrator.errors import GrantError, UnsupportedModuleError
from orchestrator.runtimes import AgentContext, InvocationContext, Runtime, runtime_for
from orchestrator.runtimes.wasi import WasiRuntime
from tests.support.paths import ROOT
from tests.support.registries import module_record

NEUTRAL_MODULES = (
    "orchestrator.runtimes",
    "orchestrator.runtimes.base",
    "orchestrator.runtimes.context",
    "orchestrator.runtimes.grants",
    "orchestrator.runtimes.limits",
    "orchestrator.runtimes.network",
    "orchestrator.runtimes.schemas",
    "orchestrator.runtimes.storage",
)
APP = "com.example/function/app"


def loaded_after(statement: str) -> set[str]:
    """The top-level modules loaded in a fresh interpreter after it runs ``statement``."""
    script = f"{statement}\nimport sys\nprint(' '.join(sorted({{name.split('.')[0] for name in sys.modules}})))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return set(done.stdout.split())


def test_the_neutral_modules_load_no_engine() -> None:
    assert not {"wasmtime", "httpx"} & loaded_after("\n".join(f"import {name}" for name in NEUTRAL_MODULES))
    assert "wasmtime" in loaded_after("import orchestrator.runtimes.wasi")


def test_the_agent_context_is_shown_as_did_name_and_spaces() -> None:
    agent = AgentContext("did:key:z6Mk", "alice", ["space-1"])  # type: ignore[arg-type]
    assert agent.spaces == ("space-1",)
    assert agent.to_dict() == {"did": "did:key:z6Mk", "name": "alice", "spaces": ["space-1"]}
    context = InvocationContext(module=APP, function="run", invocation_id="inv", agent=agent)
    assert context.to_dict()["agent"] == agent.to_dict()
    assert InvocationContext(module=APP, function="run").to_dict()["agent"] is None
    with pytest.raises(GrantError, match=r"agent\.did: must be a DID"):
        AgentContext("alice", "alice")
    with pytest.raises(GrantError, match=r"agent\.spaces: must be a sequence"):
        AgentContext("did:key:z6Mk", "alice", "space")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def wasi() -> Iterator[WasiRuntime]:
    with WasiRuntime() as runtime:
        yield runtime


def test_a_record_goes_to_the_runtime_it_names(wasi: WasiRuntime, bundle: Bundle) -> None:
    runtimes: dict[str, Runtime[Any]] = {wasi.name: wasi}
    record = module_record(APP, "1.0.0", bundle)
    assert runtime_for(runtimes, record) is wasi
    container = replace(record, runtime="container")
    with pytest.raises(UnsupportedModuleError, match=r"runs on container, and this orchestrator has no container"):
        runtime_for(runtimes, container)
    with pytest.raises(UnsupportedModuleError, match=r"its runtimes: none\)$"):
        runtime_for({}, record)
    with pytest.raises(UnsupportedModuleError, match=r"runs on container; the WASI runtime runs only wasi modules"):
        runtime_for({"container": wasi}, container)

