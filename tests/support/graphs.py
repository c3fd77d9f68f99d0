"""A registry holding a module graph with a cycle, a yanked version, an API a module provides, an API only the
host offers, and an unsatisfiable module (:func:`publish_graph`), and the GraphQL query of its dependency graph.
The service's graph queries, ``dmg graph`` and ``dmg lock`` are all tested on it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from dmg.authoring.publisher import yank
from dmg.core.bundle import Bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.records import Requirement
from dmg.core.semver import Version
from dmg.registry import Registry
from tests.support.registries import claim_namespace, publish

INBOX = "com.example/app/inbox"
BROKEN = "com.example/app/broken"
LIB = "com.example/function/lib"
BRIDGE = "com.example/function/bridge"
CYC_A = "com.example/function/cyc-a"
CYC_B = "com.example/function/cyc-b"
MAIL = "com.example/api/mail"
ECHO = "org.dxos/api/echo"
HOST = [f"{ECHO}@0.1.0"]
PUBLISHER = SigningKey.from_seed(bytes(range(7, 39)))


async def publish_graph(registry: Registry, bundle: Bundle) -> dict[str, str]:
    """Publish the test graph; returns the record CID of each ``name@version``.

    inbox 1.0.0 depends on lib ^1 and cyc-a ^1 and requires the echo API (only the host offers it) and the mail
    API (bridge provides it); cyc-a and cyc-b depend on each other, cyc-b also on bridge; bridge depends on lib;
    lib 1.1.0 is yanked, so broken (lib ^1.1) cannot be installed.
    """
    await claim_namespace(registry, "com.example", PUBLISHER)
    releases: list[tuple[str, str, dict[str, Any]]] = [
        (LIB, "1.0.0", {}),
        (LIB, "1.1.0", {}),
        (BRIDGE, "1.0.0", {"dependencies": {LIB: "^1.0"}, "provides": ((DXN.parse(MAIL), Version(1, 0, 0)),)}),
        (CYC_A, "1.0.0", {"dependencies": {CYC_B: "^1"}}),
        (CYC_B, "1.0.0", {"dependencies": {CYC_A: "^1", BRIDGE: "^1"}}),
        (
            INBOX,
            "1.0.0",
            {
                "dependencies": {LIB: "^1", CYC_A: "^1"},
                "requires": (
                    Requirement(dxn=DXN.parse(ECHO), spec="^0.1"),
                    Requirement(dxn=DXN.parse(MAIL), spec="^1"),
                ),
            },
        ),
        (BROKEN, "1.0.0", {"dependencies": {LIB: "^1.1"}}),
    ]
    cids = {}
    for name, version, fields in releases:
        prepared = await publish(registry, PUBLISHER, name, version, bundle, **fields)
        cids[f"{name}@{version}"] = str(prepared.record_envelope.cid)
    await yank_version(registry, LIB, "1.1.0")
    return cids


async def yank_version(registry: Registry, name: str, version: str) -> None:
    """Yank ``name@version`` as :data:`PUBLISHER`."""
    dxn = DXN.parse(name)
    entry = yank(dxn, Version.parse(version), "broken build", PUBLISHER, await registry.log_head(name), now_ms())
    await registry.submit_entry(entry.block()[1])


def populate(data_dir: Path, bundle: Bundle) -> dict[str, str]:
    """:func:`publish_graph` into the registry on ``data_dir``."""

    async def run() -> dict[str, str]:
        async with await Registry.open(data_dir) as registry:
            return await publish_graph(registry, bundle)

    return asyncio.run(run())


# GraphQL: the dependency graph of $roots, with every field.
GRAPH = """query ($roots: [String!]!, $host: [String!]) {
    dependencyGraph(roots: $roots, hostApis: $host) {
        roots nodes { dxn version cid bundle yanked } edges { from to range kind }
        apis { dxn version provider } installOrder cycles conflicts { explanation } } }"""
