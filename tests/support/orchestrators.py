"""The orchestrator end to end: the C fixture functions as the modules a registry service holds
(:func:`fixture_modules`, published by :func:`publish_fixtures`), the local HTTP server the network grant reaches
(:class:`Pong`), and :class:`Orchestrator`, the orchestrator server under test. The servers themselves are the
fixtures of tests/orchestrator/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from dmg.authoring.publisher import claim, release_bundle
from dmg.client.http import HttpClient
from dmg.client.trust import TrustPolicy, TrustStore
from dmg.core.bundle import build_bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec, Mode, ModuleRecord, Requirement, Resources
from dmg.core.semver import Version
from orchestrator.client import OrchestratorClient
from orchestrator.service.server import BackgroundServer
from orchestrator.service.settings import OrchestratorSettings
from tests.support.wasm import function_wasm

NS = "com.example"
ECHO, TRANSFORM, HOSTILE = f"{NS}/function/echo", f"{NS}/function/transform", f"{NS}/function/hostile"
COUNTER, STORAGE, FETCH = f"{NS}/function/counter", f"{NS}/function/storage", f"{NS}/function/fetch"
CALLER, LIBRARY, GREEDY = f"{NS}/function/caller", f"{NS}/function/library", f"{NS}/function/greedy"
HOSTILE_FUNCTIONS = ("loop", "sleep", "bomb", "flood", "trap", "recurse", "exit")
TEXT_OUT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def specs(*names: str, **schemas: Any) -> tuple[FunctionSpec, ...]:
    """Function specs named ``names``; ``schemas`` gives a function's schemas under its name, ``-`` as ``_``."""
    return tuple(FunctionSpec(name=name, **schemas.get(name.replace("-", "_"), {})) for name in names)


def fixture_modules(http_port: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, fixture, record fields) of every module the tests publish."""
    quick = Resources(memory=16 << 20, cpu_timeout_ms=1000, cpu_fuel=500_000_000)
    greedy = Resources(memory=512 << 20, network=("evil.example.net",))
    return [
        (ECHO, "echo", {"functions": specs("echo", "event", "fail")}),
        (LIBRARY, "echo", {"functions": specs("event")}),
        (
            TRANSFORM,
            "transform",
            {
                "functions": specs(
                    "shout",
                    "bad-output",
                    "not-json",
                    shout={"input_schema": {"type": "object", "required": ["text"]}, "output_schema": TEXT_OUT},
                    bad_output={"output_schema": TEXT_OUT},
                )
            },
        ),
        (HOSTILE, "hostile", {"functions": specs(*HOSTILE_FUNCTIONS), "resources": quick}),
        (COUNTER, "counter", {"functions": specs("count", "trap"), "mode": Mode.LONG_LIVED}),
        (STORAGE, "storage", {"functions": specs("append", "count"), "resources": Resources(storage=64 << 10)}),
        (FETCH, "fetch", {"functions": specs("fetch"), "resources": Resources(network=(f"127.0.0.1:{http_port}",))}),
        (
            CALLER,
            "caller",
            {"functions": specs("call"), "dependencies": (Requirement(dxn=DXN.parse(LIBRARY), spec="^1"),)},
        ),
        (GREEDY, "echo", {"functions": specs("echo"), "resources": greedy}),
    ]


async def publish_fixtures(url: str, http_port: int, trust: Path) -> None:
    """Claim :data:`NS` and publish every module of :func:`fixture_modules` to the registry service at ``url``."""
    key = SigningKey.generate()
    async with HttpClient(url, trust=TrustPolicy(TrustStore(trust))) as client:
        await client.submit_entry(claim(NS, [key], await client.log_head(NS), now_ms()))
        for name, fixture, fields in fixture_modules(http_port):
            bundle = build_bundle(function_wasm(fixture), "wasi")
            record = ModuleRecord(
                dxn=DXN.parse(name), version=Version.parse("1.0.0"), runtime="wasi", bundle=bundle.cid,
                description=f"the {fixture} fixture", **fields,
            )  # fmt: skip
            prepared = release_bundle(record, bundle, key, await client.log_head(name), now_ms())
            await client.publish(prepared.root, prepared.blocks())


class Pong(BaseHTTPRequestHandler):
    """Answers every GET with ``pong <path>``: the host the network grant lets a function reach."""

    def do_GET(self) -> None:
        body = f"pong {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Orchestrator:
    """The orchestrator server under test, restartable on its data directory."""

    server: BackgroundServer
    data_dir: Path
    client: OrchestratorClient

    def restart(self) -> None:
        self.server.stop()
        self.client.close()
        self.client = OrchestratorClient(self.server.start())

    def ready(self, name: str, *grants: str) -> None:
        """``name`` installed and running, whatever earlier tests left."""
        known = {item["dxn"]: item["state"] for item in self.client.functions()}
        if name not in known:
            self.client.install(name, list(grants))
        if known.get(name) != "RUNNING":
            if known.get(name) == "PAUSED":
                self.client.act("resume", name)
            else:
                self.client.act("start", name)


def orchestrator_settings(data_dir: Path, registry: str, policy: Path) -> OrchestratorSettings:
    """An orchestrator service on ``data_dir`` and a free port, installing from ``registry`` under ``policy``."""
    return OrchestratorSettings(registry=registry, data_dir=data_dir, port=0, policy=str(policy), workers=4)
