"""Blocks over HTTP (``/ipfs/{cid}``) on a real server: raw blocks and CARs of DAGs, headers, negotiation, errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dmg.core import codec
from dmg.core.car import read_car
from dmg.core.cid import CID, RAW
from dmg.core.envelope import Envelope
from dmg.service.gateway import links
from dmg.service.server import BackgroundServer
from dmg.store.sqlite import DATABASE_NAME
from tests.support.servers import error_code, graphql, refused, server_settings

RAW_TYPE = "application/vnd.ipld.raw"
CAR_TYPE = "application/vnd.ipld.car"

Server = tuple[httpx.Client, Path]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("gateway")
    with BackgroundServer(server_settings(data_dir, seed_samples=True)) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir


def echo(client: httpx.Client, version: str = "1.1.0") -> dict[str, str]:
    query = 'query ($v: String!) { module(dxn: "org.example/function/echo", version: $v) { cid bundle } }'
    found: dict[str, str] = graphql(client, query, v=version)["data"]["module"]
    return found


def test_raw_block_with_immutable_caching_headers(server: Server) -> None:
    client, _ = server
    cid = CID.parse(echo(client)["cid"])
    answer = client.get(f"/ipfs/{cid}", headers={"accept": RAW_TYPE})
    assert answer.status_code == 200
    cid.verify(answer.content)
    assert answer.headers["content-type"] == RAW_TYPE
    assert answer.headers["etag"] == f'"{cid}"'
    assert answer.headers["cache-control"] == "public, max-age=29030400, immutable"
    assert answer.headers["x-ipfs-path"] == f"/ipfs/{cid}"
    assert client.get(f"/ipfs/{cid}?format=raw").content == answer.content
    again = client.get(f"/ipfs/{cid}?format=raw", headers={"if-none-match": f'"{cid}"'})
    assert again.status_code == 304 and again.content == b""


def test_head_answers_headers_without_the_body(server: Server) -> None:
    client, _ = server
    cid = echo(client)["cid"]
    size = len(client.get(f"/ipfs/{cid}?format=raw").content)
    answer = client.head(f"/ipfs/{cid}?format=raw")
    assert answer.status_code == 200 and answer.content == b""
    assert int(answer.headers["content-length"]) == size
    assert client.head(f"/ipfs/{cid}?format=car").headers["content-type"].startswith(CAR_TYPE)


def test_car_holds_the_dag_depth_first_each_block_once(server: Server) -> None:
    client, _ = server
    versions = graphql(client, '{ versions(dxn: "org.example/function/echo") { entry } }')["data"]["versions"]
    root = CID.parse(versions[1]["entry"])
    answer = client.get(f"/ipfs/{root}", headers={"accept": f"{CAR_TYPE}; version=1"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{CAR_TYPE}; version=1; order=dfs; dups=n"
    assert answer.headers["etag"] == f'"{root}.car"'
    car = read_car(answer.content)
    assert car.roots == (root,)
    expected: list[CID] = []

    def walk(cid: CID) -> None:
        if cid in expected:
            return
        expected.append(cid)
        if cid.codec != RAW:
            for link in links(codec.decode(car.blocks[cid])):
                walk(link)

    walk(root)
    assert list(car.blocks) == expected
    entry = Envelope.decode(car.blocks[root]).payload
    first_release = entry["prev"]
    # The second release links the first (prev) and its record, which links the bundle shared by both.
    assert {first_release, entry["record"]} <= set(car.blocks)
    assert sum(1 for cid in car.blocks if cid.codec == RAW) == 1


def test_links_are_found_in_encoding_order() -> None:
    a, b, c = (CID.of(bytes([n]), RAW) for n in range(3))
    value = codec.decode(codec.encode({"z": a, "a": [b, {"k": c}], "n": 1, "s": "text"}))
    assert list(links(value)) == [b, c, a]


@pytest.mark.parametrize(
    ("path", "headers", "status", "code", "message"),
    [
        ("/ipfs/bafynotacid?format=raw", {}, 400, "BAD_REQUEST", "invalid CID"),
        (f"/ipfs/{CID.of(b'absent', RAW)}?format=raw", {}, 404, "NOT_FOUND", "no block"),
        (f"/ipfs/{CID.of(b'absent', RAW)}?format=car", {}, 404, "NOT_FOUND", "not in this registry"),
        (f"/ipfs/{CID.of(b'absent', RAW)}/a/b?format=raw", {}, 400, "BAD_REQUEST", "paths below a CID"),
        (f"/ipfs/{CID.of(b'absent', RAW)}?format=tar", {}, 400, "BAD_REQUEST", "format 'tar' is not offered"),
        (f"/ipfs/{CID.of(b'absent', RAW)}", {"accept": "text/html"}, 400, "BAD_REQUEST", "verifiable response"),
    ],
)
def test_bad_requests(server: Server, path: str, headers: dict[str, str], status: int, code: str, message: str) -> None:
    client, data_dir = server
    answer = refused(client, data_dir, status, code, lambda c: c.get(path, headers=headers))
    assert message in answer.json()["error"]["message"]


def test_a_dag_with_a_missing_block_is_404_not_a_truncated_car(server: Server) -> None:
    client, data_dir = server
    resolved = graphql(client, '{ resolve(dxn: "org.example/function/greeter") { cid } }')["data"]["resolve"]
    record = CID.parse(resolved["cid"])
    bundle = CID.parse(echo(client)["bundle"])
    chunk = codec.decode(client.get(f"/ipfs/{bundle}?format=raw").content)["chunks"][0]
    with sqlite3.connect(data_dir / DATABASE_NAME) as connection:
        saved = connection.execute("SELECT data FROM blocks WHERE cid = ?", (chunk.bytes,)).fetchone()[0]
        connection.execute("DELETE FROM blocks WHERE cid = ?", (chunk.bytes,))
    try:
        answer = client.get(f"/ipfs/{record}?format=car")
        assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"
        assert str(chunk) in answer.json()["error"]["message"]
    finally:
        with sqlite3.connect(data_dir / DATABASE_NAME) as connection:
            connection.execute("INSERT INTO blocks VALUES (?, ?)", (chunk.bytes, saved))
    assert client.get(f"/ipfs/{record}?format=car").status_code == 200
