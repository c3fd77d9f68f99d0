"""The REST write and transfer endpoints on real servers: a whole publisher's journey end to end, then every kind
of bad submission, each refused with its typed error and leaving the store unchanged."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dmg.authoring.publisher import release_bundle, yank
from dmg.core import codec
from dmg.core.bundle import Bundle
from dmg.core.car import MAX_BLOCK_SIZE, read_car, write_car
from dmg.core.cid import CID, RAW
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.service.server import BackgroundServer
from tests.support.registries import module_record
from tests.support.servers import (
    CAR,
    DAG_CBOR,
    claim_over_http,
    error_code,
    graphql,
    head,
    post_car,
    publish_car,
    refused,
    server_settings,
)

X = "com.example/function/x"

Server = tuple[httpx.Client, Path]


def start(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(name)
    with BackgroundServer(server_settings(data_dir)) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(tmp_path_factory, "source")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(tmp_path_factory, "mirror")


@pytest.fixture(scope="module")
def publisher() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def claimed(source: Server, publisher: SigningKey, bundle: Bundle) -> Server:
    """The source server with com.example claimed and com.example/function/x@1.0.0 published, over HTTP."""
    client, _ = source
    claim_over_http(client, "com.example", publisher)
    prepared = release_bundle(module_record(X, "1.0.0", bundle), bundle, publisher, head(client, X), now_ms())
    answer = post_car(client, "/api/v1/publish", publish_car(prepared))
    assert answer.status_code == 200, answer.text
    return source


def test_keygen_claim_publish_query_fetch_export_import(
    claimed: Server, mirror: Server, publisher: SigningKey, bundle: Bundle
) -> None:
    client, _ = claimed
    record = module_record(X, "1.1.0", bundle, description="the second one")
    prepared = release_bundle(record, bundle, publisher, head(client, X), now_ms())
    answer = post_car(client, "/api/v1/publish", publish_car(prepared))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "dxn": X,
        "version": "1.1.0",
        "cid": str(prepared.record_envelope.cid),
        "entry": str(prepared.root),
    }

    query = """query ($dxn: String!) {
        resolve(dxn: $dxn, range: "^1") { dxn version cid bundle yanked }
        module(dxn: $dxn, version: "1.1.0") { description publisher functions { name } }
        versions(dxn: $dxn) { version entry }
        history(dxn: $dxn) { type version signers }
    }"""
    data = graphql(client, query, dxn=X)["data"]
    assert data["resolve"] == {
        "dxn": X,
        "version": "1.1.0",
        "cid": str(prepared.record_envelope.cid),
        "bundle": str(bundle.cid),
        "yanked": False,
    }
    did = publisher.public_key.did
    assert data["module"] == {"description": "the second one", "publisher": did, "functions": [{"name": "run"}]}
    assert [row["version"] for row in data["versions"]] == ["1.0.0", "1.1.0"]
    assert data["versions"][1]["entry"] == str(prepared.root)
    assert [(row["type"], row["version"]) for row in data["history"]] == [("release", "1.0.0"), ("release", "1.1.0")]
    assert data["history"][0]["signers"] == [publisher.public_key.did]

    raw = client.get(f"/ipfs/{bundle.index.chunks[0]}", headers={"accept": "application/vnd.ipld.raw"})
    bundle.index.chunks[0].verify(raw.content)
    dag = read_car(client.get(f"/ipfs/{prepared.record_envelope.cid}?format=car").content)
    assert dag.roots == (prepared.record_envelope.cid,)
    assert set(dag.blocks) == {prepared.record_envelope.cid, bundle.cid, *bundle.index.chunks}

    exported = client.get("/api/v1/export", params=[("dxn", X + "@~1.0"), ("dxn", X)])
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(CAR)
    mirror_client, _ = mirror
    imported = post_car(mirror_client, "/api/v1/import", exported.content)
    assert imported.status_code == 200, imported.text
    assert imported.json()["entriesAdded"] == 3 and imported.json()["entriesKnown"] == 0
    assert imported.json()["blocksAdded"] > 3
    assert graphql(mirror_client, '{ resolve(dxn: "com.example/function/x") { version } }')["data"] == {
        "resolve": {"version": "1.1.0"}
    }
    again = post_car(mirror_client, "/api/v1/import", exported.content).json()
    assert again == {"entriesAdded": 0, "entriesKnown": 3, "blocksAdded": 0}

    metrics = client.get("/metrics").text
    assert "dmg_publishes_total 2.0" in metrics
    assert 'dmg_entries_total{source="entry"} 1.0' in metrics


def test_yank_through_the_entries_endpoint(claimed: Server, publisher: SigningKey) -> None:
    client, _ = claimed
    entry = yank(DXN.parse(X), Version.parse("1.0.0"), "broken", publisher, head(client, X), now_ms())
    answer = client.post("/api/v1/entries", content=entry.block()[1], headers={"content-type": DAG_CBOR})
    assert answer.status_code == 200 and answer.json() == {"cid": str(entry.cid)}
    rows = graphql(client, "query ($dxn: String!) { versions(dxn: $dxn) { version yanked yankReason } }", dxn=X)
    assert rows["data"]["versions"][0] == {"version": "1.0.0", "yanked": True, "yankReason": "broken"}
    assert head(client, X).cid == entry.cid


def test_head_of_logs(claimed: Server) -> None:
    client, _ = claimed
    empty = client.get("/api/v1/head/org.nobody")
    assert empty.json() == {"cid": None, "seq": -1, "time": 0}
    assert client.get("/api/v1/head/COM.Example").json()["seq"] >= 0
    assert client.get("/api/v1/head/com.example/function/x@1.0.0").json()["seq"] >= 1


# --- bad submissions ---------------------------------------------------------------------------------------------


def release_car(client: httpx.Client, key: SigningKey, bundle: Bundle, version: str, **fields: object) -> bytes:
    record = module_record(X, version, bundle, **fields)  # type: ignore[arg-type]
    return publish_car(release_bundle(record, bundle, key, head(client, X), now_ms()))


def test_malformed_and_truncated_cars(claimed: Server, publisher: SigningKey, bundle: Bundle) -> None:
    client, data_dir = claimed
    good = release_car(client, publisher, bundle, "5.0.0")
    for path in ("/api/v1/publish", "/api/v1/import"):
        garbage = refused(client, data_dir, 400, "BAD_REQUEST", lambda c, p=path: post_car(c, p, b"\x05not a car"))
        assert "byte" in garbage.json()["error"]["message"]
        cut = refused(client, data_dir, 400, "BAD_REQUEST", lambda c, p=path: post_car(c, p, good[:-7]))
        assert "truncated" in cut.json()["error"]["message"]
        refused(client, data_dir, 400, "BAD_REQUEST", lambda c, p=path: post_car(c, p, b""))


def test_a_block_that_does_not_match_its_cid(claimed: Server, publisher: SigningKey, bundle: Bundle) -> None:
    client, data_dir = claimed
    tampered = bytearray(release_car(client, publisher, bundle, "5.0.0"))
    tampered[-3] ^= 0x01
    answer = refused(client, data_dir, 400, "BAD_REQUEST", lambda c: post_car(c, "/api/v1/publish", bytes(tampered)))
    assert "does not match its CID" in answer.json()["error"]["message"]


def test_signature_by_the_wrong_key(claimed: Server, bundle: Bundle) -> None:
    client, data_dir = claimed
    stranger = SigningKey.generate()
    car = release_car(client, stranger, bundle, "5.0.0")
    refused(client, data_dir, 403, "UNAUTHORIZED", lambda c: post_car(c, "/api/v1/publish", car))
    prepared = release_bundle(module_record(X, "5.0.0", bundle), bundle, stranger, head(client, X), now_ms())
    forged = prepared.entry.to_dict()
    forged["signatures"][0]["sig"] = bytes(64)
    cid, data = codec.encode_block(forged)
    forged_car = write_car([cid], [(cid, data), *prepared.blocks().items()])
    refused(client, data_dir, 400, "INVALID_SIGNATURE", lambda c: post_car(c, "/api/v1/publish", forged_car))


def test_duplicate_version(claimed: Server, publisher: SigningKey, bundle: Bundle) -> None:
    client, data_dir = claimed
    car = release_car(client, publisher, bundle, "1.0.0", description="again")
    answer = refused(client, data_dir, 409, "CONFLICT", lambda c: post_car(c, "/api/v1/publish", car))
    assert "1.0.0" in answer.json()["error"]["message"]


def test_oversized_block_and_wrong_shapes(claimed: Server, publisher: SigningKey, bundle: Bundle) -> None:
    client, data_dir = claimed
    huge = b"\x00" * (MAX_BLOCK_SIZE + 1)
    huge_car = write_car([CID.of(huge, RAW)], [(CID.of(huge, RAW), huge)])
    refused(client, data_dir, 413, "TOO_LARGE", lambda c: post_car(c, "/api/v1/publish", huge_car))
    refused(
        client,
        data_dir,
        413,
        "TOO_LARGE",
        lambda c: c.post("/api/v1/entries", content=huge, headers={"content-type": DAG_CBOR}),
    )
    good = read_car(release_car(client, publisher, bundle, "5.0.0"))
    two_roots = write_car([*good.roots, next(iter(good.blocks))], good.blocks.items())
    answer = refused(client, data_dir, 400, "BAD_REQUEST", lambda c: post_car(c, "/api/v1/publish", two_roots))
    assert "exactly one root" in answer.json()["error"]["message"]
    record_cid = codec.decode(good.blocks[good.roots[0]])["payload"]["record"]
    no_record = write_car(good.roots, [(cid, data) for cid, data in good.blocks.items() if cid != record_cid])
    refused(client, data_dir, 404, "NOT_FOUND", lambda c: post_car(c, "/api/v1/publish", no_record))
    as_json = refused(
        client,
        data_dir,
        400,
        "BAD_REQUEST",
        lambda c: c.post("/api/v1/publish", content=b"{}", headers={"content-type": "application/json"}),
    )
    assert "Content-Type" in as_json.json()["error"]["message"]
    release_entry = good.blocks[good.roots[0]]
    as_entry = refused(
        client,
        data_dir,
        400,
        "BAD_REQUEST",
        lambda c: c.post("/api/v1/entries", content=release_entry, headers={"content-type": DAG_CBOR}),
    )
    assert "use publish" in as_entry.json()["error"]["message"]
    refused(
        client,
        data_dir,
        400,
        "BAD_REQUEST",
        lambda c: c.post("/api/v1/entries", content=base64.b64encode(b"x"), headers={"content-type": DAG_CBOR}),
    )


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/export?dxn=Not%20A%20Name", 400, "BAD_REQUEST"),
        ("/api/v1/export?dxn=com.example/function/x@%3E%3E1", 400, "BAD_REQUEST"),
        ("/api/v1/export?dxn=com.example/function/x@%5E9", 404, "NOT_FOUND"),
        ("/api/v1/export?dxn=com.example/function/nothing", 404, "NOT_FOUND"),
        ("/api/v1/export", 400, "BAD_REQUEST"),
        ("/api/v1/head/bad_namespace!", 400, "BAD_REQUEST"),
        ("/api/v1/head/com.example/Function/x", 400, "BAD_REQUEST"),
    ],
)
def test_invalid_names_and_ranges(claimed: Server, path: str, status: int, code: str) -> None:
    client, data_dir = claimed
    answer = refused(client, data_dir, status, code, lambda c: c.get(path))
    assert error_code(answer) == code
