"""The HTTP client against hostile servers: every lie, broken answer and endless body must be refused.

Each test scripts a small Starlette app, served by a real uvicorn on 127.0.0.1, to answer as a compromised or
broken registry would. These are the checks on each answer itself, so the clients here leave the transparency log
out (``check_log=False``); attacks on the log are in tests/client/test_trust_attacks.py. The client against the real
registry service is tested in tests/cli/test_remote.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dmg.authoring.publisher import PreparedRelease, claim, release_bundle
from dmg.client.base import open_client
from dmg.client.errors import BlockMismatchError, MalformedResponseError, RecordMismatchError, RegistryUnavailableError
from dmg.client.http import HttpClient
from dmg.client.local import LocalClient
from dmg.core import codec
from dmg.core.bundle import Bundle
from dmg.core.car import read_car, write_car
from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope, Signature, signing_input
from dmg.core.errors import (
    ConflictError,
    DmgError,
    LogError,
    NotFoundError,
    RateLimitedError,
    SignatureError,
    TooLargeError,
    UnauthorizedError,
)
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.semver import Version
from tests.support.registries import module_record
from tests.support.servers import serve

NAME = "com.example/function/hello"
Handler = Callable[[Request], Awaitable[Response]]


class Hostile:
    """Answers each ``(method, path)`` with whatever the test scripted; 404 for anything else."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self.dispatch, methods=["GET", "POST"])])

    async def dispatch(self, request: Request) -> Response:
        handler = self.handlers.get((request.method, request.url.path))
        if handler is None:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "not scripted"}}, status_code=404)
        return await handler(request)

    def on(self, method: str, path: str, response: Response | Handler) -> None:
        async def fixed(request: Request) -> Response:
            return response  # type: ignore[return-value]

        self.handlers[(method, path)] = fixed if isinstance(response, Response) else response

    def block(self, cid: CID, data: bytes) -> None:
        self.on("GET", f"/ipfs/{cid}", Response(data, media_type="application/vnd.ipld.raw"))

    def graphql(self, field: str, value: Any) -> None:
        self.on("POST", "/graphql", JSONResponse({"data": {field: value}}))


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[tuple[Hostile, str]]:
    hostile = Hostile()
    with serve(hostile.app) as url:
        yield hostile, url


@pytest.fixture
async def hostile(hostile_server: tuple[Hostile, str]) -> AsyncIterator[tuple[Hostile, HttpClient]]:
    server, url = hostile_server
    server.handlers.clear()
    async with HttpClient(url, timeout=5, check_log=False) as client:
        yield server, client


def signed_release(key: SigningKey, bundle: Bundle, version: str = "1.0.0") -> PreparedRelease:
    return release_bundle(module_record(NAME, version, bundle), bundle, key, LogHead(), 1_000)


def resolution(prepared: PreparedRelease, **changes: Any) -> dict[str, Any]:
    answer = {
        "dxn": NAME,
        "version": str(prepared.record.version),
        "cid": str(prepared.record_envelope.cid),
        "bundle": str(prepared.bundle.cid),
        "yanked": False,
    }
    return {**answer, **changes}


async def endless_zeros() -> AsyncIterator[bytes]:
    """A body that never ends."""
    while True:
        yield b"\0" * 65536
        await asyncio.sleep(0)


# --- blocks -------------------------------------------------------------------------------------------------


async def test_get_block_returns_the_block_that_matches(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    cid = CID.of(b"hello", RAW)
    server.block(cid, b"hello")
    assert await client.get_block(cid) == b"hello"


async def test_get_block_refuses_bytes_that_do_not_match(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    cid = CID.of(b"hello", RAW)
    server.block(cid, b"HELLO")
    with pytest.raises(BlockMismatchError, match=f"5 bytes for block {cid} that do not match"):
        await client.get_block(cid)


async def test_endless_block_is_cut_off_at_the_block_size_limit(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    cid = CID.of(b"x", RAW)
    server.on("GET", f"/ipfs/{cid}", StreamingResponse(endless_zeros()))
    with pytest.raises(TooLargeError, match="passed the 1048576-byte limit"):
        await client.get_block(cid)


async def test_endless_export_is_cut_off_at_max_response_bytes(hostile_server: tuple[Hostile, str]) -> None:
    server, url = hostile_server

    async def endless(request: Request) -> Response:
        return StreamingResponse(endless_zeros(), media_type="application/vnd.ipld.car")

    server.handlers = {("GET", "/api/v1/export"): endless}
    async with HttpClient(url, timeout=5, max_response_bytes=3 << 20, check_log=False) as client:
        with pytest.raises(TooLargeError, match="passed the 3145728-byte limit"):
            await client.export([DXN.parse(NAME)])


async def test_a_declared_length_over_the_limit_is_refused_before_reading(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    cid = CID.of(b"x", RAW)
    server.on("GET", f"/ipfs/{cid}", Response(b"x", headers={"Content-Length": str(2 << 20)}))
    with pytest.raises(TooLargeError, match="declares 2097152 bytes"):
        await client.get_block(cid)


# --- records ------------------------------------------------------------------------------------------------


async def test_resolve_accepts_an_honest_answer(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    server.block(*prepared.record_envelope.block())
    server.graphql("resolve", resolution(prepared))
    found = await client.resolve(DXN.parse(f"{NAME}@^1"))
    assert (found.version, found.record, found.bundle) == (Version(1, 0, 0), prepared.record_envelope.cid, bundle.cid)
    envelope, record = await client.record(found.record)
    assert record == prepared.record and envelope.signers == {key.public_key}


async def test_resolve_refuses_an_unsigned_record(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    cid, data = codec.encode_block({"payload": prepared.record.to_dict(), "signatures": []})
    server.block(cid, data)
    server.graphql("resolve", resolution(prepared, cid=str(cid)))
    with pytest.raises(SignatureError, match="envelope has no signatures"):
        await client.resolve(DXN.parse(NAME))


async def test_resolve_refuses_a_record_whose_signature_is_by_another_key(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    payload = signed_release(key, bundle).record.to_dict()
    forged = Envelope(payload, [Signature(key.public_key, other_key.sign(signing_input(codec.encode(payload))))])
    cid, data = forged.block()
    server.block(cid, data)
    server.graphql("resolve", resolution(signed_release(key, bundle), cid=str(cid)))
    with pytest.raises(SignatureError, match=f"signature by {key.public_key.did} does not verify"):
        await client.resolve(DXN.parse(NAME))


async def test_resolve_refuses_a_genuine_record_of_another_version(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    newer = signed_release(key, bundle, "2.0.0")
    server.block(*newer.record_envelope.block())
    server.graphql("resolve", resolution(newer, version="1.0.0"))
    with pytest.raises(
        RecordMismatchError, match=r"is com.example/function/hello@1.0.0, but the signed record is .*@2"
    ):
        await client.resolve(DXN.parse(f"{NAME}@^1"))


@pytest.mark.parametrize(
    ("selector", "version", "yanked", "message"),
    [
        ("^1", "2.0.0", False, "outside the range"),
        ("1.0.0", "2.0.0", False, "answered version 2.0.0"),
        ("^1", "1.0.0", True, "yanked version 1.0.0"),
        (None, "2.0.0-rc.1", False, "prerelease 2.0.0-rc.1 as latest"),
    ],
)
async def test_resolve_refuses_a_version_the_question_cannot_select(
    hostile: tuple[Hostile, HttpClient],
    key: SigningKey,
    bundle: Bundle,
    selector: str | None,
    version: str,
    yanked: bool,
    message: str,
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle, version)
    server.block(*prepared.record_envelope.block())
    server.graphql("resolve", resolution(prepared, yanked=yanked))
    with pytest.raises(RecordMismatchError, match=message):
        await client.resolve(DXN.parse(NAME if selector is None else f"{NAME}@{selector}"))


async def test_resolve_refuses_a_bundle_the_record_does_not_link(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    server.block(*prepared.record_envelope.block())
    server.graphql("resolve", resolution(prepared, bundle=str(CID.of(b"elsewhere", RAW))))
    with pytest.raises(RecordMismatchError, match="but the signed record links"):
        await client.resolve(DXN.parse(NAME))


async def test_resolve_refuses_an_answer_for_another_name(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    server.block(*prepared.record_envelope.block())
    server.graphql("resolve", resolution(prepared))
    with pytest.raises(RecordMismatchError, match=r"asked to resolve com.example/function/other"):
        await client.resolve(DXN.parse("com.example/function/other"))


async def test_module_checks_the_record_and_keeps_the_index_facts(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    server.block(*prepared.record_envelope.block())
    server.graphql(
        "module",
        {**resolution(prepared, yanked=True), "yankReason": "bad", "publishedAt": 5, "publisher": key.public_key.did},
    )
    info = await client.module(DXN.parse(NAME), Version(1, 0, 0))
    assert info.record == prepared.record and info.yanked and info.yank_reason == "bad"
    assert info.publisher == key.public_key.did
    with pytest.raises(RecordMismatchError, match=r"answered version 1.0.0"):
        await client.module(DXN.parse(NAME), Version(1, 0, 1))


async def test_a_missing_module_is_not_found(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    server.graphql("module", None)
    with pytest.raises(NotFoundError, match=r"@1.0.0 was never released"):
        await client.module(DXN.parse(NAME), Version(1, 0, 0))


# --- logs and writes ----------------------------------------------------------------------------------------


async def test_log_head_checks_the_entry_it_points_at(hostile: tuple[Hostile, HttpClient], key: SigningKey) -> None:
    server, client = hostile
    entry = claim("com.example", [key], LogHead(), 1_000)
    server.block(*entry.block())
    server.on("GET", "/api/v1/head/com.example", JSONResponse({"cid": str(entry.cid), "seq": 0, "time": 1_000}))
    assert await client.log_head("com.example") == LogHead(entry.cid, 0, 1_000)

    server.on("GET", "/api/v1/head/com.example", JSONResponse({"cid": str(entry.cid), "seq": 3, "time": 1_000}))
    with pytest.raises(RecordMismatchError, match="has seq 3 and time 1000, but the signed entry has seq 0"):
        await client.log_head("com.example")

    server.on("GET", "/api/v1/head/org.other", JSONResponse({"cid": str(entry.cid), "seq": 0, "time": 1_000}))
    with pytest.raises(RecordMismatchError, match=r"entry of log 'com.example' as the head of 'org.other'"):
        await client.log_head("org.other")


async def test_log_head_of_an_empty_log(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    server.on("GET", f"/api/v1/head/{NAME}", JSONResponse({"cid": None, "seq": -1, "time": 0}))
    assert await client.log_head(NAME) == LogHead()
    server.on("GET", f"/api/v1/head/{NAME}", JSONResponse({"cid": None, "seq": 4, "time": 0}))
    with pytest.raises(MalformedResponseError, match="an empty log has seq -1, not 4"):
        await client.log_head(NAME)


async def test_submit_entry_refuses_an_acknowledgement_of_another_entry(
    hostile: tuple[Hostile, HttpClient], key: SigningKey
) -> None:
    server, client = hostile
    entry = claim("com.example", [key], LogHead(), 1_000)
    received: list[bytes] = []

    async def accept(request: Request) -> Response:
        received.append(await request.body())
        return JSONResponse({"cid": str(CID.of(received[-1]))})

    server.handlers[("POST", "/api/v1/entries")] = accept
    assert await client.submit_entry(entry) == entry.cid
    assert received == [entry.block()[1]]

    server.on("POST", "/api/v1/entries", JSONResponse({"cid": str(CID.of(b"another"))}))
    with pytest.raises(RecordMismatchError, match="the registry says it accepted"):
        await client.submit_entry(entry)


async def test_publish_uploads_one_car_and_reports_progress(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    uploaded: list[bytes] = []

    async def accept(request: Request) -> Response:
        uploaded.append(await request.body())
        return JSONResponse(
            {
                "dxn": NAME,
                "version": "1.0.0",
                "cid": str(prepared.record_envelope.cid),
                "entry": str(prepared.root),
            }
        )

    server.handlers[("POST", "/api/v1/publish")] = accept
    seen: list[tuple[int, int | None]] = []
    client.progress = lambda done, total: seen.append((done, total))
    result = await client.publish(prepared.root, prepared.blocks())
    assert (result.dxn, result.record, result.entry) == (DXN.parse(NAME), prepared.record_envelope.cid, prepared.root)
    car = read_car(uploaded[0])
    assert car.roots == (prepared.root,) and car.blocks == prepared.blocks()
    assert seen[-1] == (len(uploaded[0]), len(uploaded[0]))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_publish_refuses_a_report_of_another_release(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    prepared = signed_release(key, bundle)
    answer = {"dxn": NAME, "version": "9.9.9", "cid": str(prepared.record_envelope.cid), "entry": str(prepared.root)}
    server.on("POST", "/api/v1/publish", JSONResponse(answer))
    with pytest.raises(RecordMismatchError, match=r"the registry reports com.example/function/hello@9.9.9"):
        await client.publish(prepared.root, prepared.blocks())


async def test_publish_needs_its_root_block(hostile: tuple[Hostile, HttpClient], key: SigningKey) -> None:
    _, client = hostile
    entry = claim("com.example", [key], LogHead(), 1_000)
    with pytest.raises(NotFoundError, match="missing from the submission"):
        await client.publish(entry.cid, {})
    with pytest.raises(RecordMismatchError, match="needs a release entry"):
        await client.publish(entry.cid, dict([entry.block()]))


async def test_export_is_verified_before_it_is_returned(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    server, client = hostile
    namespace = claim("com.example", [key], LogHead(), 1_000)
    prepared = signed_release(key, bundle)
    blocks = {**dict([namespace.block()]), **prepared.blocks()}
    honest = write_car([namespace.cid, prepared.root], blocks.items())
    server.on("GET", "/api/v1/export", Response(honest, media_type="application/vnd.ipld.car"))
    seen: list[tuple[int, int | None]] = []
    client.progress = lambda done, total: seen.append((done, total))
    assert await client.export([DXN.parse(f"{NAME}@^1")]) == honest
    assert seen[-1] == (len(honest), len(honest))
    client.progress = None
    with pytest.raises(RecordMismatchError, match=r"holds no release of com.example/function/hello@\^2"):
        await client.export([DXN.parse(f"{NAME}@^2")])

    without_record = write_car(
        [prepared.root], [(cid, data) for cid, data in blocks.items() if cid != prepared.record_envelope.cid]
    )
    server.on("GET", "/api/v1/export", Response(without_record))
    with pytest.raises(RecordMismatchError, match="lacks the record"):
        await client.export([DXN.parse(NAME)])

    without_root = write_car([namespace.cid, prepared.root], [prepared.entry.block()])
    server.on("GET", "/api/v1/export", Response(without_root))
    with pytest.raises(RecordMismatchError, match=f"names the entry {namespace.cid} as a root but lacks its block"):
        await client.export([DXN.parse(NAME)])


async def test_an_export_must_import_into_an_empty_registry(
    hostile: tuple[Hostile, HttpClient], key: SigningKey, bundle: Bundle
) -> None:
    """The logs in an exported CAR are replayed from empty, as the importer will replay them."""
    server, client = hostile
    namespace = claim("com.example", [key], LogHead(), 1_000)
    first = signed_release(key, bundle)
    second = release_bundle(
        module_record(NAME, "1.1.0", bundle), bundle, key, LogHead(first.root, 0, 1_000), 1_001
    )
    blocks = {**dict([namespace.block()]), **first.blocks(), **second.blocks()}
    whole = write_car([namespace.cid, first.root, second.root], blocks.items())
    server.on("GET", "/api/v1/export", Response(whole))
    assert await client.export([DXN.parse(f"{NAME}@1.1.0")]) == whole

    # the report of issue 18, in reverse: the later release alone, without the chain it extends
    server.on("GET", "/api/v1/export", Response(write_car([namespace.cid, second.root], blocks.items())))
    with pytest.raises(LogError, match=rf"does not import into an empty registry at {NAME} #1: .*seq 1, expected 0"):
        await client.export([DXN.parse(f"{NAME}@1.1.0")])
    server.on("GET", "/api/v1/export", Response(write_car([first.root, second.root], blocks.items())))
    with pytest.raises(UnauthorizedError, match=f"does not import into an empty registry at {NAME} #0"):
        await client.export([DXN.parse(f"{NAME}@1.1.0")])
    reordered = write_car([namespace.cid, second.root, first.root], blocks.items())
    server.on("GET", "/api/v1/export", Response(reordered))
    with pytest.raises(LogError):
        await client.export([DXN.parse(f"{NAME}@1.1.0")])


async def test_import_reports_counts(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    server.on("POST", "/api/v1/import", JSONResponse({"entriesAdded": 2, "entriesKnown": 1, "blocksAdded": 7}))
    result = await client.import_car(write_car([], []))
    assert (result.entries_added, result.entries_known, result.blocks_added) == (2, 1, 7)
    server.on("POST", "/api/v1/import", JSONResponse({"entriesAdded": -2, "entriesKnown": 1, "blocksAdded": 7}))
    with pytest.raises(MalformedResponseError, match="'entriesAdded' must not be negative"):
        await client.import_car(write_car([], []))


# --- index answers ------------------------------------------------------------------------------------------


async def test_versions_reads_the_index_rows(hostile: tuple[Hostile, HttpClient], key: SigningKey) -> None:
    server, client = hostile
    row = {
        "version": "1.0.0",
        "cid": str(CID.of(b"r")),
        "entry": str(CID.of(b"e")),
        "yanked": True,
        "yankReason": "broken",
        "publishedAt": 7,
        "publisher": key.public_key.did,
    }
    server.graphql("versions", [{**row, "version": "1.10.0"}, row])
    infos = await client.versions(DXN.parse(f"{NAME}@^1"))
    assert [info.version for info in infos] == ["1.0.0", "1.10.0"]
    assert infos[0].dxn == DXN.parse(NAME) and infos[0].yank_reason == "broken" and infos[0].published_at == 7
    server.graphql("versions", [row, row])
    with pytest.raises(MalformedResponseError, match=r"listed a version of com.example/function/hello twice"):
        await client.versions(DXN.parse(NAME))
    server.graphql("versions", {"version": "1.0.0"})
    with pytest.raises(MalformedResponseError, match="expected a list, got dict"):
        await client.versions(DXN.parse(NAME))


async def test_search_reads_a_connection(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    node = {"dxn": NAME, "version": "1.0.0", "cid": str(CID.of(b"r")), "description": "says hello", "yanked": False}
    connection = {
        "edges": [{"cursor": "c1", "node": node}],
        "pageInfo": {"hasNextPage": True, "endCursor": "c1"},
        "totalCount": 3,
    }
    server.graphql("modules", connection)
    page = await client.search("hello", namespace="com.example", kind="function", first=1)
    assert page.total == 3 and page.has_next and page.end_cursor == "c1"
    assert [(hit.dxn, hit.description) for hit in page.hits] == [(DXN.parse(NAME), "says hello")]
    with pytest.raises(DmgError, match="first must be a positive integer, not 0"):
        await client.search("hello", first=0)
    server.graphql("modules", {**connection, "edges": [{"node": {**node, "version": "one"}}]})
    with pytest.raises(MalformedResponseError, match=r"modules.edges\[0\].node: field 'version': invalid version"):
        await client.search("hello")


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("BAD_REQUEST", 400, DmgError),
        ("INVALID_SIGNATURE", 400, SignatureError),
        ("UNAUTHORIZED", 403, UnauthorizedError),
        ("NOT_FOUND", 404, NotFoundError),
        ("CONFLICT", 409, ConflictError),
        ("TOO_LARGE", 413, TooLargeError),
        ("RATE_LIMITED", 429, RateLimitedError),
        ("SOMETHING_NEW", 400, DmgError),
    ],
)
async def test_error_answers_become_typed_errors(
    hostile: tuple[Hostile, HttpClient], code: str, status: int, kind: type[DmgError]
) -> None:
    server, client = hostile
    server.on("GET", "/api/v1/head/com.example", JSONResponse({"error": {"code": code, "message": "told"}}, status))
    with pytest.raises(kind, match=r"^told$") as caught:
        await client.log_head("com.example")
    assert type(caught.value) is kind

    errors = [{"message": "told by graphql", "extensions": {"code": code}}]
    server.on("POST", "/graphql", JSONResponse({"data": None, "errors": errors}))
    with pytest.raises(kind, match=r"^told by graphql$") as caught:
        await client.resolve(DXN.parse(NAME))
    assert type(caught.value) is kind


async def test_answers_outside_the_contract_are_refused(hostile: tuple[Hostile, HttpClient]) -> None:
    server, client = hostile
    path = "/api/v1/head/com.example"
    server.on("GET", path, Response("upstream down", status_code=502))
    with pytest.raises(RegistryUnavailableError, match="HTTP 502 Bad Gateway"):
        await client.log_head("com.example")
    server.on("GET", path, Response("teapot", status_code=418))
    with pytest.raises(MalformedResponseError, match="HTTP 418"):
        await client.log_head("com.example")
    server.on("GET", path, Response("not json", status_code=200))
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await client.log_head("com.example")
    server.on("GET", path, JSONResponse({"cid": None, "seq": "0", "time": 0}))
    with pytest.raises(MalformedResponseError, match="field 'seq' must be int, not str"):
        await client.log_head("com.example")
    server.on("GET", path, JSONResponse({"cid": "bafynot", "seq": 0, "time": 0}))
    with pytest.raises(MalformedResponseError, match="field 'cid': invalid CID"):
        await client.log_head("com.example")
    server.on("POST", "/graphql", JSONResponse({"data": {}}))
    with pytest.raises(MalformedResponseError, match="lacks 'resolve'"):
        await client.resolve(DXN.parse(NAME))


async def test_an_unreachable_registry_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with HttpClient(f"http://127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(RegistryUnavailableError, match=f"GET http://127.0.0.1:{port}/api/v1/head/x.y failed"):
            await client.log_head("x.y")


async def test_fsck_is_refused_over_http(hostile: tuple[Hostile, HttpClient]) -> None:
    _, client = hostile
    with pytest.raises(DmgError, match="fsck runs on a local data directory"):
        await client.fsck()


def test_constructor_refuses_bad_settings() -> None:
    with pytest.raises(DmgError, match="not an http"):
        HttpClient("ftp://example.com")
    with pytest.raises(DmgError, match="must be positive"):
        HttpClient("http://example.com", max_response_bytes=0)


async def test_open_client_picks_the_transport(tmp_path: Any) -> None:
    remote = await open_client("https://registry.example/")
    assert isinstance(remote, HttpClient) and remote.base_url == "https://registry.example"
    await remote.close()
    local = await open_client(str(tmp_path / "data"))
    assert isinstance(local, LocalClient)
    await local.close()
