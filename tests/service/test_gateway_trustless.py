"""``/ipfs`` against the IPFS Trustless Gateway specification (2026-03-05), on a real server: the response headers it
requires (Content-Disposition, the CAR Content-Type with its version, order and dups), content negotiation,
``dag-scope`` and ``entity-bytes``, identity CIDs and the ``bafkqaaa`` probe. Sections are the spec's headings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest

from dmg.core import codec
from dmg.core.car import read_car
from dmg.core.cid import CID, DAG_CBOR, IDENTITY, RAW, write_varint
from dmg.service.gateway import links
from dmg.service.server import BackgroundServer
from dmg.service.settings import Settings

RAW_TYPE: Final = "application/vnd.ipld.raw"
CAR_TYPE: Final = "application/vnd.ipld.car"
SERVED_CAR: Final = "application/vnd.ipld.car; version=1; order=dfs; dups=n"
PROBE: Final = "bafkqaaa"
"""The empty identity CID (raw codec): the spec's probe path."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("trustless"), port=0, seed_samples=True)
    with BackgroundServer(settings) as url, httpx.Client(base_url=url) as opened:
        yield opened


def release_entry(client: httpx.Client) -> CID:
    """The second release of the sample echo module: its DAG holds the first release, records and a bundle."""
    query = '{ versions(dxn: "org.example/function/echo") { entry } }'
    answer = client.post("/graphql", json={"query": query}).json()
    return CID.parse(answer["data"]["versions"][1]["entry"])


def whole_dag(client: httpx.Client, root: CID) -> list[CID]:
    """The DAG under ``root`` depth-first, each block once, walked block by block over ``format=raw``."""
    order: list[CID] = []

    def walk(cid: CID) -> None:
        if cid in order:
            return
        order.append(cid)
        if cid.codec == DAG_CBOR:
            for link in links(codec.decode(client.get(f"/ipfs/{cid}?format=raw").content)):
                walk(link)

    walk(root)
    return order


def identity(codec_number: int, data: bytes) -> CID:
    """The CIDv1 whose multihash is ``data`` itself (identity, 0x00)."""
    return CID(write_varint(1) + write_varint(codec_number) + write_varint(IDENTITY) + write_varint(len(data)) + data)


def refused(answer: httpx.Response, text: str) -> None:
    assert answer.status_code == 400, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == "BAD_REQUEST" and text in error["message"], error


# --- Response Headers: Content-Disposition, Content-Type, Content-Location ------------------------------------


def test_every_response_is_an_attachment_named_after_its_cid(client: httpx.Client) -> None:
    root = release_entry(client)
    for method in ("GET", "HEAD"):
        raw = client.request(method, f"/ipfs/{root}?format=raw")
        assert raw.headers["content-disposition"] == f'attachment; filename="{root}.bin"'
        car = client.request(method, f"/ipfs/{root}?format=car")
        assert car.headers["content-disposition"] == f'attachment; filename="{root}.car"'
    cached = client.get(f"/ipfs/{root}?format=car", headers={"if-none-match": f'"{root}.car"'})
    assert cached.status_code == 304 and cached.headers["content-disposition"].startswith("attachment")


def test_a_car_says_its_version_order_and_dups_and_keeps_to_them(client: httpx.Client) -> None:
    root = release_entry(client)
    for method in ("GET", "HEAD"):
        assert client.request(method, f"/ipfs/{root}?format=car").headers["content-type"] == SERVED_CAR
    car = read_car(client.get(f"/ipfs/{root}?format=car").content)
    assert car.roots == (root,)
    assert list(car.blocks) == whole_dag(client, root)  # order=dfs, and read_car keeps each block once: dups=n


def test_the_format_chosen_by_accept_is_named_in_content_location(client: httpx.Client) -> None:
    root = release_entry(client)
    by_accept = client.get(f"/ipfs/{root}?dag-scope=block", headers={"accept": CAR_TYPE})
    assert by_accept.headers["content-location"] == f"/ipfs/{root}?format=car&dag-scope=block"
    assert client.get(f"/ipfs/{root}", headers={"accept": RAW_TYPE}).headers["content-location"] == (
        f"/ipfs/{root}?format=raw"
    )
    assert "content-location" not in client.get(f"/ipfs/{root}?format=car").headers


# --- Accept and format (request) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "query", "served"),
    [
        (f"{CAR_TYPE}; version=1; order=dfs; dups=n", "", SERVED_CAR),
        (f"{CAR_TYPE}; order=unk", "", SERVED_CAR),  # any order will do, so depth-first does
        (f"{RAW_TYPE};q=0.5, {CAR_TYPE}", "", SERVED_CAR),  # by weight, not by position
        (f"{CAR_TYPE}; dups=y, {RAW_TYPE};q=0.5", "", RAW_TYPE),  # the CAR asked for is not offered; raw is
        (CAR_TYPE, "?format=raw", RAW_TYPE),  # format takes precedence over Accept
        (f"{CAR_TYPE}; dups=y", "?car-dups=n", SERVED_CAR),  # so do the car-* parameters over Accept's
        ("text/html, */*;q=0.8", "?format=car&car-version=1&car-order=dfs", SERVED_CAR),
    ],
)
def test_content_negotiation(client: httpx.Client, accept: str, query: str, served: str) -> None:
    root = release_entry(client)
    answer = client.get(f"/ipfs/{root}{query}", headers={"accept": accept})
    assert answer.status_code == 200 and answer.headers["content-type"] == served


@pytest.mark.parametrize(
    ("accept", "query", "text"),
    [
        (f"{CAR_TYPE}; dups=y", "", "Accept asks for a CAR with dups=y"),
        (f"{CAR_TYPE}; version=2", "", "Accept asks for a CAR with version=2"),
        (f"{CAR_TYPE}; order=bfs", "?format=car", "order=bfs"),
        (CAR_TYPE, "?car-dups=y", "the query asks for a CAR with dups=y"),
        ("", "?format=car&car-version=2", "the query asks for a CAR with version=2"),
    ],
)
def test_a_car_variant_not_offered_is_refused(client: httpx.Client, accept: str, query: str, text: str) -> None:
    answer = client.get(f"/ipfs/{release_entry(client)}{query}", headers={"accept": accept})
    refused(answer, text)
    assert SERVED_CAR in answer.json()["error"]["message"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", f"{RAW_TYPE};q=0"])
def test_a_request_naming_no_verifiable_type_is_400(client: httpx.Client, accept: str | None) -> None:
    """Accept (request header): a strict trustless gateway SHOULD answer 400 when Accept is missing."""
    request = client.build_request("GET", f"/ipfs/{release_entry(client)}")
    del request.headers["accept"]
    if accept is not None:
        request.headers["accept"] = accept
    refused(client.send(request), "ask for a verifiable response")


# --- dag-scope and entity-bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "scope", "etag"),
    [
        ("", "all", "{root}.car"),
        ("&dag-scope=all", "all", "all.{root}.car"),
        ("&dag-scope=entity", "block", "entity.{root}.car"),  # no UnixFS here: an entity is its root block
        ("&dag-scope=block", "block", "block.{root}.car"),
        ("&entity-bytes=0:*", "block", "entity-bytes=0:*.{root}.car"),
        ("&entity-bytes=-10:99", "block", "entity-bytes=-10:99.{root}.car"),
    ],
)
def test_dag_scope_chooses_the_blocks_and_the_etag(client: httpx.Client, query: str, scope: str, etag: str) -> None:
    root = release_entry(client)
    answer = client.get(f"/ipfs/{root}?format=car{query}")
    assert answer.status_code == 200 and answer.headers["etag"] == f'"{etag.format(root=root)}"'
    car = read_car(answer.content)
    assert car.roots == (root,)
    assert list(car.blocks) == (whole_dag(client, root) if scope == "all" else [root])


def test_dag_scope_block_of_a_raw_leaf_and_bad_scopes(client: httpx.Client) -> None:
    root = release_entry(client)
    leaf = next(cid for cid in whole_dag(client, root) if cid.codec == RAW)
    assert list(read_car(client.get(f"/ipfs/{leaf}?format=car&dag-scope=block").content).blocks) == [leaf]
    refused(client.get(f"/ipfs/{root}?format=car&dag-scope=everything"), "dag-scope='everything'")
    refused(client.get(f"/ipfs/{root}?format=car&entity-bytes=1-2"), "entity-bytes='1-2'")
    absent = CID.of(b"absent", DAG_CBOR)
    missing = client.get(f"/ipfs/{absent}?format=car&dag-scope=block")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == f"no block {absent}"


# --- identity CIDs and the probe (Dedicated Probe Paths) -------------------------------------------------------


def test_the_bafkqaaa_probe(client: httpx.Client) -> None:
    assert CID.parse(PROBE) == identity(RAW, b"")
    raw = client.get(f"/ipfs/{PROBE}?format=raw", headers={"accept": RAW_TYPE})
    assert (raw.status_code, raw.content, raw.headers["content-type"]) == (200, b"", RAW_TYPE)
    assert raw.headers["content-disposition"] == f'attachment; filename="{PROBE}.bin"'
    head = client.head(f"/ipfs/{PROBE}?format=raw")
    assert head.status_code == 200 and head.headers["content-length"] == "0"
    car = client.get(f"/ipfs/{PROBE}?format=car", headers={"accept": CAR_TYPE})
    assert car.status_code == 200 and car.headers["content-type"] == SERVED_CAR
    parsed = read_car(car.content)
    assert parsed.roots == (CID.parse(PROBE),) and parsed.blocks == {}  # identity blocks are never sent
    assert client.head(f"/ipfs/{PROBE}?format=car").status_code == 200


def test_identity_blocks_are_followed_but_never_sent(client: httpx.Client) -> None:
    root = release_entry(client)
    inline = identity(DAG_CBOR, codec.encode({"entry": root}))
    assert client.get(f"/ipfs/{inline}?format=raw").content == codec.encode({"entry": root})
    car = read_car(client.get(f"/ipfs/{inline}?format=car").content)
    assert car.roots == (inline,)
    assert list(car.blocks) == whole_dag(client, root)
    assert list(read_car(client.get(f"/ipfs/{inline}?format=car&dag-scope=block").content).blocks) == []
