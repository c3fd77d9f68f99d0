"""GraphQL ``dependencyGraph`` and ``dependents`` on a real server over a registry holding a module graph with a
cycle, a yanked version, an API a module provides, an API only the host offers, and an unsatisfiable module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmg.core.bundle import Bundle
from dmg.core.dxn import DXN
from dmg.core.errors import TooLargeError
from dmg.core.resolver import solver
from dmg.registry import Registry
from dmg.service.graphql.graph import MAX_ROOTS, RecordCache, dependency_graph, record_cache
from dmg.service.server import BackgroundServer
from tests.support.graphs import (
    BRIDGE,
    BROKEN,
    CYC_A,
    CYC_B,
    ECHO,
    GRAPH,
    HOST,
    INBOX,
    LIB,
    MAIL,
    populate,
    publish_graph,
)
from tests.support.servers import graphql, server_settings, snapshot

Server = tuple[httpx.Client, Path, dict[str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("graph")
    cids = populate(data_dir, bundle)
    with BackgroundServer(server_settings(data_dir)) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir, cids


DEPENDENTS = """query ($dxn: String!, $transitive: Boolean) {
    dependents(dxn: $dxn, transitive: $transitive) { dxn version cid yanked distance dependsOn range } }"""


def dependency_graph_of(client: httpx.Client, roots: list[str], host: list[str] | None = None) -> dict[str, Any]:
    result = graphql(client, GRAPH, roots=roots, host=host)
    assert "errors" not in result, result
    found: dict[str, Any] = result["data"]["dependencyGraph"]
    return found


def error_of(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    client, data_dir, _ = server
    before = snapshot(data_dir)
    result = graphql(client, query, **variables)
    assert snapshot(data_dir) == before
    assert result["data"] is None and len(result["errors"]) == 1, result
    error: dict[str, Any] = result["errors"][0]
    return error


# --- dependencyGraph ----------------------------------------------------------------------------------------------


def test_graph_with_a_cycle_a_yanked_version_and_api_bindings(server: Server) -> None:
    client, _, cids = server
    found = dependency_graph_of(client, [f"{INBOX}@^1"], HOST)
    assert found["roots"] == [f"{INBOX}@^1"]
    assert [(node["dxn"], node["version"]) for node in found["nodes"]] == [
        (INBOX, "1.0.0"),
        (BRIDGE, "1.0.0"),
        (CYC_A, "1.0.0"),
        (CYC_B, "1.0.0"),
        (LIB, "1.0.0"),
    ]
    for node in found["nodes"]:
        assert node["cid"] == cids[f"{node['dxn']}@{node['version']}"]
        assert node["bundle"].startswith("bafy") and node["yanked"] is False
    assert found["edges"] == [
        {"from": INBOX, "to": BRIDGE, "range": f"{MAIL}@^1", "kind": "api"},
        {"from": INBOX, "to": CYC_A, "range": "^1", "kind": "dependency"},
        {"from": INBOX, "to": LIB, "range": "^1", "kind": "dependency"},
        {"from": BRIDGE, "to": LIB, "range": "^1.0", "kind": "dependency"},
        {"from": CYC_A, "to": CYC_B, "range": "^1", "kind": "dependency"},
        {"from": CYC_B, "to": BRIDGE, "range": "^1", "kind": "dependency"},
        {"from": CYC_B, "to": CYC_A, "range": "^1", "kind": "dependency"},
    ]
    assert found["apis"] == [
        {"dxn": MAIL, "version": "1.0.0", "provider": BRIDGE},
        {"dxn": ECHO, "version": "0.1.0", "provider": None},
    ]
    assert found["installOrder"] == [[LIB], [BRIDGE], [CYC_A, CYC_B], [INBOX]]
    assert found["cycles"] == [[CYC_A, CYC_B]]
    assert found["conflicts"] == []


def test_a_root_may_pin_a_yanked_version_that_no_range_reaches(server: Server) -> None:
    client, _, cids = server
    pinned = dependency_graph_of(client, [f"{LIB}@1.1.0"])
    assert pinned["nodes"] == [
        {
            "dxn": LIB,
            "version": "1.1.0",
            "cid": cids[f"{LIB}@1.1.0"],
            "bundle": pinned["nodes"][0]["bundle"],
            "yanked": True,
        }
    ]
    assert dependency_graph_of(client, [LIB])["nodes"][0]["version"] == "1.0.0"


def test_unsatisfiable_roots_answer_an_empty_graph_with_the_explanation(server: Server) -> None:
    client, _, _ = server
    broken = dependency_graph_of(client, [BROKEN])
    assert broken["nodes"] == broken["edges"] == broken["installOrder"] == []
    (conflict,) = broken["conflicts"]
    assert conflict["explanation"] == (
        f"Because {BROKEN} 1.0.0 depends on {LIB} ^1.1 which matches only yanked versions, "
        f"{BROKEN} 1.0.0 is forbidden.\nSo, because the request depends on {BROKEN}, version solving failed."
    )
    no_host = dependency_graph_of(client, [INBOX])
    (conflict,) = no_host["conflicts"]
    assert conflict["explanation"] == (
        f"Because {INBOX} 1.0.0 requires {ECHO} ^0.1 which neither the host nor any module in the graph offers, "
        f"{INBOX} 1.0.0 is forbidden.\nSo, because the request depends on {INBOX}, version solving failed."
    )
    missing = dependency_graph_of(client, ["com.example/app/nothing"])
    assert missing["conflicts"] == [
        {
            "explanation": "Because the request depends on com.example/app/nothing which doesn't exist, "
            "version solving failed."
        }
    ]


def test_host_apis_and_roots_must_be_well_formed(server: Server) -> None:
    assert error_of(server, GRAPH, roots=["Not A DXN"])["extensions"]["code"] == "BAD_REQUEST"
    error = error_of(server, GRAPH, roots=[])
    assert error["extensions"]["code"] == "BAD_REQUEST" and "at least one root" in error["message"]
    error = error_of(server, GRAPH, roots=[INBOX], host=[f"{ECHO}@^0.1"])
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == f"host API '{ECHO}@^0.1' must name the exact version the host offers, like {ECHO}@1.0.0"
    error = error_of(server, GRAPH, roots=[f"{INBOX}@nightly"])
    assert error["extensions"]["code"] == "NOT_FOUND" and "nightly" in error["message"]
    error = error_of(server, GRAPH, roots=[LIB] * (MAX_ROOTS + 1))
    assert error["extensions"]["code"] == "TOO_LARGE" and str(MAX_ROOTS) in error["message"]


# --- dependents ---------------------------------------------------------------------------------------------------


def rows(server: Server, dxn: str, transitive: bool | None = None) -> list[tuple[str, str, int, str, str]]:
    client, _, _ = server
    result = graphql(client, DEPENDENTS, dxn=dxn, transitive=transitive)
    assert "errors" not in result, result
    return [
        (row["dxn"], row["version"], row["distance"], row["dependsOn"], row["range"])
        for row in result["data"]["dependents"]
    ]


def test_direct_dependents_of_a_module_and_of_one_version(server: Server) -> None:
    assert rows(server, LIB) == [
        (BROKEN, "1.0.0", 1, LIB, "^1.1"),
        (INBOX, "1.0.0", 1, LIB, "^1"),
        (BRIDGE, "1.0.0", 1, LIB, "^1.0"),
    ]
    assert rows(server, f"{LIB}@1.0.0") == [(INBOX, "1.0.0", 1, LIB, "^1"), (BRIDGE, "1.0.0", 1, LIB, "^1.0")]
    assert rows(server, INBOX) == []


def test_transitive_dependents_go_through_the_cycle_once(server: Server) -> None:
    assert rows(server, LIB, transitive=True) == [
        (BROKEN, "1.0.0", 1, LIB, "^1.1"),
        (INBOX, "1.0.0", 1, LIB, "^1"),
        (BRIDGE, "1.0.0", 1, LIB, "^1.0"),
        (CYC_B, "1.0.0", 2, BRIDGE, "^1"),
        (CYC_A, "1.0.0", 3, CYC_B, "^1"),
    ]
    assert rows(server, CYC_A, transitive=True) == [(INBOX, "1.0.0", 1, CYC_A, "^1"), (CYC_B, "1.0.0", 1, CYC_A, "^1")]


def test_dependents_carry_the_record_cid_and_yank_status(server: Server) -> None:
    client, _, cids = server
    result = graphql(client, DEPENDENTS, dxn=f"{LIB}@1.1.0")["data"]["dependents"]
    assert {row["dxn"]: row["cid"] for row in result} == {
        name: cids[f"{name}@1.0.0"] for name in (BROKEN, INBOX, BRIDGE)
    }
    assert all(row["yanked"] is False for row in result)
    assert (
        graphql(client, DEPENDENTS, dxn=LIB)["data"]["dependents"]
        == graphql(client, DEPENDENTS, dxn=LIB, transitive=False)["data"]["dependents"]
    )


def test_dependents_of_what_is_not_released_or_of_a_range_are_refused(server: Server) -> None:
    error = error_of(server, DEPENDENTS, dxn="com.example/app/nothing")
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "com.example/app/nothing has no released versions in this registry"
    error = error_of(server, DEPENDENTS, dxn=f"{LIB}@9.9.9")
    assert error["extensions"]["code"] == "NOT_FOUND" and error["message"].endswith("is not released in this registry")
    error = error_of(server, DEPENDENTS, dxn=f"{LIB}@^1")
    assert error["extensions"]["code"] == "BAD_REQUEST" and "one exact version" in error["message"]


# --- bounds and the record cache ----------------------------------------------------------------------------------


async def test_a_graph_reading_more_than_its_budget_is_too_large(registry: Registry, bundle: Bundle) -> None:
    await publish_graph(registry, bundle)
    found = await dependency_graph(registry, [INBOX], HOST, budget=6)
    assert [node.dxn for node in found.nodes] == [INBOX, BRIDGE, CYC_A, CYC_B, LIB]
    with pytest.raises(TooLargeError, match="more than 5 module versions"):
        await dependency_graph(registry, [INBOX], HOST, budget=5)


def test_a_graph_whose_solve_exceeds_the_resolver_budget_is_too_large(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server resolves with the resolver's default budget; a budget of a few steps makes this graph too large.
    monkeypatch.setattr(solver, "DEFAULT_MAX_STEPS", 5)
    error = error_of(server, GRAPH, roots=[INBOX], host=HOST)
    assert error["extensions"]["code"] == "TOO_LARGE" and "more than 5 steps" in error["message"]


async def test_the_record_cache_keeps_decoded_records_by_cid(registry: Registry, bundle: Bundle) -> None:
    cids = await publish_graph(registry, bundle)
    cache = RecordCache(size=2)
    records = [(await registry.versions(DXN.parse(name)))[0].record for name in (LIB, BRIDGE, INBOX)]
    assert [str(cid) for cid in records] == [cids[f"{LIB}@1.0.0"], cids[f"{BRIDGE}@1.0.0"], cids[f"{INBOX}@1.0.0"]]
    held = await cache.record(registry, records[0])
    assert await cache.record(registry, records[0]) is held
    await cache.record(registry, records[1])
    await cache.record(registry, records[0])
    await cache.record(registry, records[2])
    assert len(cache) == 2
    assert await cache.record(registry, records[0]) is held
    assert record_cache(registry) is record_cache(registry)
    with pytest.raises(ValueError, match="at least one record"):
        RecordCache(size=0)
