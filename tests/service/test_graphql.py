"""The GraphQL API on real servers: every query field, paging, mutations, the publish subscription over
graphql-transport-ws, error codes, and the depth and cost limits."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from dmg.api.paging import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from dmg.authoring.publisher import claim, grant, release_bundle, revoke, unyank, yank
from dmg.core import codec, dagjson
from dmg.core.bundle import Bundle
from dmg.core.car import read_car
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.service.graphql.schema import cost_rules
from dmg.service.server import BackgroundServer
from tests.support.registries import module_record
from tests.support.servers import claim_over_http, graphql, head, post_car, publish_car, server_settings, snapshot

ECHO = "org.example/function/echo"
Server = tuple[httpx.Client, Path]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("graphql")
    with BackgroundServer(server_settings(data_dir, seed_samples=True)) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir


def errors_of(client: httpx.Client, data_dir: Path, query: str, **variables: Any) -> list[dict[str, Any]]:
    """The errors of a query that must fail without changing the store; each has a code and a message."""
    before = snapshot(data_dir)
    result = graphql(client, query, **variables)
    assert snapshot(data_dir) == before
    assert result.get("errors"), result
    for error in result["errors"]:
        assert error["message"] and error["extensions"]["code"]
    errors: list[dict[str, Any]] = result["errors"]
    return errors


def code_of(client: httpx.Client, data_dir: Path, query: str, **variables: Any) -> str:
    code: str = errors_of(client, data_dir, query, **variables)[0]["extensions"]["code"]
    return code


def envelope_b64(envelope: Any) -> str:
    return base64.b64encode(envelope.block()[1]).decode()


# --- queries -----------------------------------------------------------------------------------------------------


def test_resolve_with_ranges_tags_and_selectors(server: Server) -> None:
    client, _ = server
    query = "query ($dxn: String!, $range: String) { resolve(dxn: $dxn, range: $range) { version yanked } }"
    assert graphql(client, query, dxn=ECHO)["data"]["resolve"]["version"] == "1.1.0"
    assert graphql(client, query, dxn=ECHO, range="~1.0")["data"]["resolve"]["version"] == "1.0.0"
    assert graphql(client, query, dxn=ECHO + "@1.0.0")["data"]["resolve"]["version"] == "1.0.0"
    assert graphql(client, query, dxn=ECHO, range="latest")["data"]["resolve"]["version"] == "1.1.0"


def test_module_has_every_record_field(server: Server) -> None:
    client, _ = server
    query = """{ module(dxn: "org.example/function/greeter", version: "0.1.0") {
        dxn version cid description runtime bundle
        functions { name description inputSchema outputSchema }
        resources apis { provides requires } dependencies { dxn range } triggers
        yanked yankReason publishedAt publisher } }"""
    module = graphql(client, query)["data"]["module"]
    assert module["dxn"] == "org.example/function/greeter" and module["runtime"] == "wasi"
    assert module["cid"].startswith("bafy") and module["bundle"].startswith("bafy")
    assert module["functions"] == [
        {
            "name": "greeter",
            "description": "Greets whoever calls it, through echo",
            "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object"},
        }
    ]
    assert module["resources"] == {"memory": 16 << 20, "cpu": {"timeout": 1000}, "spaces": "none"}
    assert module["apis"] == {"provides": [], "requires": []}
    assert module["dependencies"] == [{"dxn": ECHO, "range": "^1.0"}]
    assert module["triggers"] == [] and module["yanked"] is False
    assert module["publishedAt"] > 1_700_000_000_000 and module["publisher"].startswith("did:key:z6Mk")


def test_modules_search_filters_and_pages(server: Server) -> None:
    client, _ = server
    query = """query ($q: String, $ns: String, $kind: String, $first: Int, $after: String) {
        modules(query: $q, namespace: $ns, kind: $kind, first: $first, after: $after) {
            edges { cursor node { dxn version } } pageInfo { hasNextPage endCursor } totalCount } }"""
    everything = graphql(client, query)["data"]["modules"]
    assert [edge["node"]["dxn"] for edge in everything["edges"]] == [ECHO, "org.example/function/greeter"]
    assert everything["edges"][0]["node"]["version"] == "1.1.0" and everything["totalCount"] == 2
    first = graphql(client, query, first=1)["data"]["modules"]
    assert first["pageInfo"]["hasNextPage"] is True and len(first["edges"]) == 1
    second = graphql(client, query, first=1, after=first["pageInfo"]["endCursor"])["data"]["modules"]
    assert [edge["node"]["dxn"] for edge in second["edges"]] == ["org.example/function/greeter"]
    assert second["pageInfo"] == {"hasNextPage": False, "endCursor": second["edges"][0]["cursor"]}
    greeting = graphql(client, query, q="greets")["data"]["modules"]
    assert [edge["node"]["dxn"] for edge in greeting["edges"]] == ["org.example/function/greeter"]
    assert graphql(client, query, ns="org.other")["data"]["modules"]["totalCount"] == 0
    assert graphql(client, query, kind="function", ns="org.example")["data"]["modules"]["totalCount"] == 2
    nothing = graphql(client, query, q="zzz")["data"]["modules"]
    assert nothing == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}, "totalCount": 0}


def test_versions_history_namespace_and_record(server: Server) -> None:
    client, _ = server
    query = """{ versions(dxn: "org.example/function/echo") { version cid entry yanked publisher }
        history(dxn: "org.example") { cid seq type keys signers }
        namespace(name: "org.example") { name head { cid seq time } keys { did permissions } revoked }
        nobody: namespace(name: "org.nobody") { head { cid seq } keys { did } } }"""
    data = graphql(client, query)["data"]
    assert [row["version"] for row in data["versions"]] == ["1.0.0", "1.1.0"]
    (claimed,) = data["history"]
    assert claimed["type"] == "namespace.claim" and claimed["seq"] == 0 and claimed["keys"] == claimed["signers"]
    namespace = data["namespace"]
    assert namespace["head"]["cid"] == claimed["cid"] and namespace["revoked"] == []
    assert namespace["keys"] == [{"did": claimed["keys"][0], "permissions": ["grant", "release", "yank"]}]
    assert data["nobody"] == {"head": {"cid": None, "seq": -1}, "keys": []}

    record = graphql(client, "query ($cid: String!) { record(cid: $cid) }", cid=data["versions"][0]["cid"])
    envelope = record["data"]["record"]
    assert envelope["payload"]["dxn"] == ECHO and envelope["payload"]["bundle"]["/"].startswith("bafy")
    assert set(envelope["signatures"][0]["key"]["/"]) == {"bytes"}
    entry = graphql(client, "query ($cid: String!) { record(cid: $cid) }", cid=data["versions"][1]["entry"])
    assert entry["data"]["record"]["payload"]["prev"] == {"/": data["versions"][0]["entry"]}


def key_orders(value: Any) -> list[list[str]]:
    """The keys of every map in ``value``, depth first, each map's in its own order; DAG-JSON's links and bytes
    (``{"/": ...}``) are not maps of the data model and are left out."""
    if isinstance(value, list):
        return [order for item in value for order in key_orders(item)]
    if not isinstance(value, dict) or list(value) == ["/"]:
        return []
    return [list(value), *(order for item in value.values() for order in key_orders(item))]


def test_record_is_canonical_dag_json_for_every_block_of_a_module(server: Server) -> None:
    """Every block of a release's DAG, as the record field gives it, is the canonical DAG-JSON encoder's output:
    map keys by their UTF-8 bytes (not DAG-CBOR's shorter-first order) at every level, in the response's order."""
    client, _ = server
    entry = graphql(client, f'{{ versions(dxn: "{ECHO}") {{ entry }} }}')["data"]["versions"][1]["entry"]
    car = read_car(client.get(f"/ipfs/{entry}?format=car").content)
    reordered = 0
    for cid, data in car.blocks.items():
        record = graphql(client, "query ($cid: String!) { record(cid: $cid) }", cid=str(cid))["data"]["record"]
        value = codec.decode(data) if cid.codec == DAG_CBOR else data
        # httpx reads the response with json.loads, which keeps the order of the text's keys
        assert json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() == dagjson.encode(value)
        reordered += key_orders(value) != key_orders(record)
    assert (len(car.blocks), reordered) == (6, 5)  # every map block: two entries, two records, the bundle index
    index = next(data for cid, data in car.blocks.items() if codec.decode(data).get("type") == "bundle")
    bundle = graphql(client, "query ($cid: String!) { record(cid: $cid) }", cid=str(CID.of(index)))["data"]
    assert list(bundle["record"]) == ["chunks", "runtime", "sha256", "size", "type"]


def test_introspection_for_graphiql_is_within_the_limits(server: Server) -> None:
    client, _ = server
    result = graphql(client, get_introspection_query(descriptions=True))
    assert "errors" not in result
    names = {item["name"] for item in result["data"]["__schema"]["types"]}
    assert {"Module", "Resolution", "Timestamp", "JSON"} <= names


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ('{ resolve(dxn: "Not A DXN") { version } }', "BAD_REQUEST", "invalid DXN 'Not A DXN'"),
        ('{ resolve(dxn: "org.example/function/echo", range: ">>1") { version } }', "BAD_REQUEST", ">>1"),
        ('{ resolve(dxn: "org.example/function/echo@1", range: "2") { version } }', "BAD_REQUEST", "give the version"),
        ('{ resolve(dxn: "org.example/function/echo", range: "^7") { version } }', "NOT_FOUND", "no version"),
        ('{ resolve(dxn: "org.example/function/none") { version } }', "NOT_FOUND", "no released versions"),
        ('{ module(dxn: "org.example/function/echo", version: "9.9.9") { cid } }', "NOT_FOUND", "9.9.9"),
        ('{ module(dxn: "org.example/function/echo", version: "1.x") { cid } }', "BAD_REQUEST", "1.x"),
        ('{ record(cid: "bafy-nope") }', "BAD_REQUEST", "invalid CID 'bafy-nope'"),
        ('{ record(cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") }', "NOT_FOUND", "no block"),
        ('{ namespace(name: "Not Valid") { name } }', "BAD_REQUEST", "invalid namespace"),
        ('{ modules(kind: "Func") { totalCount } }', "BAD_REQUEST", "invalid kind"),
        ("{ modules(first: 0) { totalCount } }", "BAD_REQUEST", "page size 0"),
        ('{ modules(after: "garbage") { totalCount } }', "BAD_REQUEST", "cursor"),
        ('{ history(dxn: "x/y") { cid } }', "BAD_REQUEST", "invalid DXN"),
        ("{ resolve(dxn: ", "BAD_REQUEST", "Syntax Error"),
        ("{ nothing }", "BAD_REQUEST", "Cannot query field 'nothing'"),
    ],
)
def test_errors_carry_codes_and_leave_the_store_alone(server: Server, query: str, code: str, message: str) -> None:
    client, data_dir = server
    (error,) = errors_of(client, data_dir, query)
    assert error["extensions"]["code"] == code
    assert message in error["message"]


@pytest.mark.parametrize(
    ("send", "message"),
    [
        (lambda c: c.post("/graphql", content=b"not json", headers={"content-type": "application/json"}), "JSON"),
        (lambda c: c.get("/graphql", params={"query": 'mutation { yank(envelope: "") { cid } }'}), "GET"),
    ],
)
def test_requests_the_view_refuses_are_coded_too(server: Server, send: Any, message: str) -> None:
    client, data_dir = server
    before = snapshot(data_dir)
    answer = send(client)
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and message in error["message"]
    assert snapshot(data_dir) == before


def test_mutations_check_the_entry_type_and_the_encoding(server: Server, key: SigningKey) -> None:
    client, data_dir = server
    mutation = "mutation ($e: String!) { yank(envelope: $e) { cid } }"
    claim_entry = claim("com.mutation", [key], head(client, "com.mutation"), now_ms())
    wrong_type = errors_of(client, data_dir, mutation, e=envelope_b64(claim_entry))[0]
    assert wrong_type["extensions"]["code"] == "BAD_REQUEST" and "'yank' entry" in wrong_type["message"]
    assert code_of(client, data_dir, mutation, e="***") == "BAD_REQUEST"
    assert code_of(client, data_dir, mutation, e=base64.b64encode(b"\xff").decode()) == "BAD_REQUEST"
    assert code_of(client, data_dir, mutation, e="A" * (2 << 20)) == "TOO_LARGE"


def test_mutations_from_claim_to_unyank(server: Server, key: SigningKey, other_key: SigningKey, bundle: Bundle) -> None:
    client, data_dir = server
    namespace = "com.graphql"
    dxn = DXN.parse(f"{namespace}/function/thing")

    def mutate(name: str, envelope: Any) -> str:
        result = graphql(
            client, f"mutation ($e: String!) {{ {name}(envelope: $e) {{ cid }} }}", e=envelope_b64(envelope)
        )
        assert "errors" not in result, result
        assert result["data"][name]["cid"] == str(envelope.cid)
        return str(envelope.cid)

    mutate("claimNamespace", claim(namespace, [key], head(client, namespace), now_ms()))
    again = claim(namespace, [other_key], head(client, namespace), now_ms())
    claim_mutation = "mutation ($e: String!) { claimNamespace(envelope: $e) { cid } }"
    assert code_of(client, data_dir, claim_mutation, e=envelope_b64(again)) == "CONFLICT"
    forged = grant(namespace, other_key.public_key, ["release"], other_key, head(client, namespace), now_ms())
    grant_mutation = "mutation ($e: String!) { grantKey(envelope: $e) { cid } }"
    assert code_of(client, data_dir, grant_mutation, e=envelope_b64(forged)) == "UNAUTHORIZED"
    everything = ["grant", "release", "yank"]
    mutate("grantKey", grant(namespace, other_key.public_key, everything, key, head(client, namespace), now_ms()))
    mutate("revokeKey", revoke(namespace, key.public_key, other_key, head(client, namespace), now_ms()))
    record = module_record(str(dxn), "1.0.0", bundle)
    prepared = release_bundle(record, bundle, other_key, head(client, str(dxn)), now_ms())
    assert post_car(client, "/api/v1/publish", publish_car(prepared)).status_code == 200
    version = Version.parse("1.0.0")
    mutate("yank", yank(dxn, version, "oops", other_key, head(client, str(dxn)), now_ms()))
    assert graphql(client, f'{{ resolve(dxn: "{dxn}@1.0.0") {{ yanked }} }}')["data"]["resolve"]["yanked"] is True
    mutate("unyank", unyank(dxn, version, other_key, head(client, str(dxn)), now_ms()))
    state = graphql(client, f'{{ namespace(name: "{namespace}") {{ keys {{ did }} revoked }} }}')["data"]["namespace"]
    assert state == {"keys": [{"did": other_key.public_key.did}], "revoked": [key.public_key.did]}
    types = [row["type"] for row in graphql(client, f'{{ history(dxn: "{dxn}") {{ type }} }}')["data"]["history"]]
    assert types == ["release", "yank", "unyank"]


# --- limits ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("strict")
    settings = server_settings(data_dir, seed_samples=True, max_query_depth=4, max_query_cost=200)
    with BackgroundServer(settings) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir


def test_deep_queries_are_refused_whole(strict: Server) -> None:
    client, data_dir = strict
    shallow = "{ modules(first: 5) { edges { node { dxn } } } }"
    assert "errors" not in graphql(client, shallow)
    deep = "{ modules(first: 5) { edges { node { functions { name } } } } }"
    (error,) = errors_of(client, data_dir, deep)
    assert error["extensions"]["code"] == "TOO_LARGE" and "5 deep" in error["message"]
    via_fragment = (
        "query Q { modules(first: 5) { edges { ...E } } } fragment E on ModuleEdge { node { apis { provides } } }"
    )
    (error,) = errors_of(client, data_dir, via_fragment)
    assert "operation 'Q' nests fields 5 deep" in error["message"]


def test_costly_queries_are_refused_whole(strict: Server) -> None:
    client, data_dir = strict
    assert "errors" not in graphql(client, "{ modules(first: 40) { edges { node { dxn } } } }")
    wide = "{ modules(first: 70) { edges { node { dxn } } } }"
    (error,) = errors_of(client, data_dir, wide)
    assert error["extensions"]["code"] == "TOO_LARGE" and "costs 211" in error["message"]
    variable = "query ($n: Int) { modules(first: $n) { edges { node { dxn } } } }"
    assert code_of(client, data_dir, variable, n=1) == "TOO_LARGE"
    aliases = "{ " + " ".join(f'r{i}: resolve(dxn: "{ECHO}") {{ version }}' for i in range(101)) + " }"
    assert "costs 202" in errors_of(client, data_dir, aliases)[0]["message"]


def test_a_fragment_bomb_is_priced_once_per_fragment_and_refused(strict: Server) -> None:
    client, data_dir = strict
    levels = ["fragment F0 on Query { checkpoint { size } }"]
    levels += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 40)]
    bomb = "query { ...F39 } " + " ".join(levels)
    (error,) = errors_of(client, data_dir, bomb)
    assert error["extensions"]["code"] == "TOO_LARGE"
    assert f"costs {2 * 2**39}" in error["message"]


def test_page_size_rules() -> None:
    def first_field(text: str) -> Any:
        return parse(text).definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]

    page_size = cost_rules(10, 1000).page_size
    assert page_size(first_field("{ modules { totalCount } }")) == 20
    assert page_size(first_field("{ modules(first: 3) { totalCount } }")) == 3
    assert page_size(first_field("query ($n: Int) { modules(first: $n) { totalCount } }")) == MAX_PAGE_SIZE
    assert page_size(first_field('{ versions(dxn: "a") { version } }')) is None


def test_cursors_are_read_back_by_their_own_listing_only() -> None:
    assert decode_cursor("modules", encode_cursor("modules", 41)) == 41
    for bad in (encode_cursor("history", 41), "bW9kdWxlczotMQ==", "%%%", "x" * 10_000):
        with pytest.raises(DmgError, match="not one this registry gave out") as caught:
            decode_cursor("modules", bad)
        assert len(str(caught.value)) < 200


# --- subscription ------------------------------------------------------------------------------------------------


async def test_published_subscription_over_graphql_transport_ws(
    server: Server, key: SigningKey, bundle: Bundle
) -> None:
    client, _ = server
    namespace = "com.subscribed"
    ws_url = str(client.base_url).replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        subscription = "subscription ($ns: String) { published(namespace: $ns) { dxn version cid } }"
        payload = {"query": subscription, "variables": {"ns": namespace}}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        for _ in range(100):
            if "dmg_subscribers 1.0" in client.get("/metrics").text:
                break
            await asyncio.sleep(0.02)
        # The server runs on its own thread, so this test's blocking HTTP calls do not hold it up.
        other = "org.example/function/other"
        elsewhere = release_bundle(module_record(other, "1.0.0", bundle), bundle, key, head(client, other), now_ms())
        assert post_car(client, "/api/v1/publish", publish_car(elsewhere)).status_code == 403
        claim_over_http(client, namespace, key)
        name = f"{namespace}/function/live"
        prepared = release_bundle(module_record(name, "0.1.0", bundle), bundle, key, head(client, name), now_ms())
        assert post_car(client, "/api/v1/publish", publish_car(prepared)).status_code == 200
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
    published = {"dxn": name, "version": "0.1.0", "cid": str(prepared.record_envelope.cid)}
    assert message == {"id": "1", "type": "next", "payload": {"data": {"published": published}}}


# --- registry events ---------------------------------------------------------------------------------------------


def test_the_events_query_pages_the_log_by_position(server: Server) -> None:
    client, _ = server
    first = graphql(client, "{ events(after: 0, first: 2) { position kind namespace dxn version envelope } }")
    events = first["data"]["events"]
    assert [event["position"] for event in events] == [1, 2]
    assert events[0]["kind"] == "claim" and events[1]["kind"] == "release"
    assert base64.b64decode(events[0]["envelope"])
    after = graphql(client, "{ events(after: 2, first: 100) { position } }")["data"]["events"]
    assert after and after[0]["position"] == 3
    assert code_of(client, server[1], "{ events(after: -1) { position } }") == "BAD_REQUEST"
    assert code_of(client, server[1], "{ events(first: 0) { position } }") == "BAD_REQUEST"


async def test_events_subscription_resumes_from_a_position_and_sees_writes_from_another_process(
    tmp_path: Path, key: SigningKey
) -> None:
    data_dir = tmp_path / "served"
    with BackgroundServer(server_settings(data_dir, seed_samples=True)) as url:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        async with connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            subscription = "subscription { events(after: 1) { position kind namespace } }"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}}))
            replayed = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(3)]
            assert [message["payload"]["data"]["events"]["position"] for message in replayed] == [2, 3, 4]
            # The CLI writes to the same data directory, in another process, while the server runs on it.
            key_file = tmp_path / "k.key"
            key.save(key_file)
            command = [sys.executable, "-m", "dmg", "namespace", "claim", "com.cli", "--key", str(key_file)]
            done = await asyncio.to_thread(
                subprocess.run, [*command, "--registry", str(data_dir)], capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            message = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert message["payload"]["data"]["events"] == {"position": 5, "kind": "claim", "namespace": "com.cli"}
