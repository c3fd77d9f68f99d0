import asyncio
import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Awaitable, Callable

import pytest
import wasmtime

from dmg.core import codec
from dmg.core.bundle import (
    CHUNK_SIZE,
    Bundle,
    BundleIndex,
    assemble_bundle,
    assemble_bundle_async,
    build_bundle,
    bundle_block_cids,
)
from dmg.core.car import read_car, write_car
from dmg.core.cid import CID, DAG_CBOR, RAW
from dmg.core.errors import BundleError, NotFoundError, TooLargeError

Blocks = dict[CID, bytes]
Assemble = Callable[..., Awaitable[bytes]]

ANSWER_WAT = '(module (func (export "answer") (result i32) i32.const 42))'
DROP = object()


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def module_with_data(length: int, seed: int = 0) -> bytes:
    """A valid core module whose data segment holds ``length`` pseudo-random letters (so no two chunks match)."""
    letters = random.Random(seed).choices("abcdefghijklmnopqrstuvwxyz", k=length)
    pages = length // 65536 + 1
    return wat(f'(module (memory {pages}) (data (i32.const 0) "{"".join(letters)}"))')


def module_of_size(size: int) -> bytes:
    data_length = size
    module = module_with_data(data_length)
    while len(module) != size:
        data_length -= len(module) - size
        module = module_with_data(data_length)
    return module


def oci_layout(extra: dict[str, bytes] | None = None, *, leave_out: str | None = None) -> bytes:
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps({"schemaVersion": 2, "manifests": []}).encode(),
        **(extra or {}),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, content in files.items():
            if name == leave_out:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


def blocks_of(bundle: Bundle) -> Blocks:
    return dict(bundle.blocks())


def forge(blocks: Blocks, bundle: Bundle, **changes: object) -> CID:
    """Store an altered copy of ``bundle``'s index node (a change of DROP removes the field); return its CID."""
    index = codec.decode(bundle.index_bytes)
    for name, value in changes.items():
        if value is DROP:
            del index[name]
        else:
            index[name] = value
    cid, data = codec.encode_block(index)
    blocks[cid] = data
    return cid


@pytest.fixture(scope="module")
def big_module() -> bytes:
    return module_with_data(2 * CHUNK_SIZE + 300_000)


@pytest.fixture(scope="module")
def big_bundle(big_module: bytes) -> Bundle:
    return build_bundle(big_module, "wasi")


@pytest.fixture(params=["sync", "async"])
def assemble(request: pytest.FixtureRequest) -> Assemble:
    """Assemble from a dict of blocks through either entry point; both must behave the same."""

    async def run(index_cid: CID, blocks: Blocks, **options: int) -> bytes:
        if request.param == "sync":
            return assemble_bundle(index_cid, blocks.get, **options)

        async def get_block(cid: CID) -> bytes | None:
            await asyncio.sleep(0)
            return blocks.get(cid)

        return await assemble_bundle_async(index_cid, get_block, **options)

    return run


# --- building -----------------------------------------------------------------------------------------------


def test_small_module_is_one_chunk_under_a_dag_cbor_index() -> None:
    module = wat(ANSWER_WAT)
    bundle = build_bundle(module, "wasi")
    assert bundle.size == len(module)
    assert bundle.chunks == [(CID.of(module, RAW), module)]
    assert bundle.cid == CID.of(bundle.index_bytes, DAG_CBOR)
    assert codec.decode(bundle.index_bytes) == {
        "type": "bundle",
        "runtime": "wasi",
        "size": len(module),
        "sha256": hashlib.sha256(module).digest(),
        "chunks": [CID.of(module, RAW)],
    }
    assert list(bundle.blocks()) == [(bundle.cid, bundle.index_bytes), (CID.of(module, RAW), module)]


def test_media_type_is_recorded_when_given() -> None:
    bundle = build_bundle(wat(ANSWER_WAT), "wasi", media_type="application/wasm")
    assert codec.decode(bundle.index_bytes)["mediaType"] == "application/wasm"
    assert bundle.index.media_type == "application/wasm"


@pytest.mark.parametrize("media_type", ["", "wasm", "application/", "application/wasm; charset=x", 5])
def test_bad_media_type_is_refused(media_type: object) -> None:
    with pytest.raises(BundleError, match="'mediaType' must be a media type"):
        build_bundle(wat(ANSWER_WAT), "wasi", media_type=media_type)  # type: ignore[arg-type]


def test_building_is_deterministic() -> None:
    assert build_bundle(wat(ANSWER_WAT), "wasi").cid == build_bundle(wat(ANSWER_WAT), "wasi").cid


def test_large_module_is_split_into_full_chunks_and_a_tail(big_module: bytes, big_bundle: Bundle) -> None:
    assert [len(data) for _, data in big_bundle.chunks] == [CHUNK_SIZE, CHUNK_SIZE, len(big_module) - 2 * CHUNK_SIZE]
    assert b"".join(data for _, data in big_bundle.chunks) == big_module
    assert all(cid == CID.of(data, RAW) for cid, data in big_bundle.chunks)


async def test_large_module_round_trips(big_module: bytes, big_bundle: Bundle, assemble: Assemble) -> None:
    assert await assemble(big_bundle.cid, blocks_of(big_bundle)) == big_module


@pytest.mark.parametrize(("size", "chunk_lengths"), [(CHUNK_SIZE, [CHUNK_SIZE]), (CHUNK_SIZE + 1, [CHUNK_SIZE, 1])])
async def test_chunk_boundaries(size: int, chunk_lengths: list[int], assemble: Assemble) -> None:
    module = module_of_size(size)
    bundle = build_bundle(module, "wasi")
    assert [len(data) for _, data in bundle.chunks] == chunk_lengths
    assert await assemble(bundle.cid, blocks_of(bundle)) == module


async def test_repeated_chunks_are_stored_and_fetched_once(assemble: Assemble) -> None:
    layout = oci_layout({"blobs/sha256/zeros": bytes(4 * CHUNK_SIZE)})
    bundle = build_bundle(layout, "container")
    chunk_cids = [cid for cid, _ in bundle.chunks]
    assert len(chunk_cids) == 5
    assert len(set(chunk_cids)) == 3
    assert [cid for cid, _ in bundle.blocks()] == [bundle.cid, *dict.fromkeys(chunk_cids)]
    assert bundle_block_cids(bundle.index_bytes) == [bundle.cid, *dict.fromkeys(chunk_cids)]

    requested: list[CID] = []
    blocks = blocks_of(bundle)

    def get_block(cid: CID) -> bytes:
        requested.append(cid)
        return blocks[cid]

    assert assemble_bundle(bundle.cid, get_block) == layout
    assert requested == [bundle.cid, *dict.fromkeys(chunk_cids)]
    assert await assemble(bundle.cid, blocks) == layout


def test_bundle_travels_in_a_car(big_module: bytes, big_bundle: Bundle) -> None:
    car = read_car(write_car([big_bundle.cid], big_bundle.blocks()))
    assert assemble_bundle(car.roots[0], car.blocks.get) == big_module


def test_bundle_block_cids_lists_index_then_chunks(big_bundle: Bundle) -> None:
    assert bundle_block_cids(big_bundle.index_bytes) == [big_bundle.cid, *(cid for cid, _ in big_bundle.chunks)]


def test_bundle_block_cids_checks_the_index() -> None:
    with pytest.raises(BundleError, match="bundle index lacks field 'chunks'"):
        bundle_block_cids(codec.encode({"type": "bundle", "runtime": "wasi", "size": 1, "sha256": bytes(32)}))
    with pytest.raises(BundleError, match="not valid DAG-CBOR"):
        bundle_block_cids(b"\xff")


def test_bundle_refuses_chunks_that_do_not_follow_its_index(big_bundle: Bundle) -> None:
    with pytest.raises(BundleError, match="do not follow the index"):
        Bundle(index=big_bundle.index, chunks=big_bundle.chunks[:-1])


def test_index_round_trips_through_its_dict(big_bundle: Bundle) -> None:
    assert BundleIndex.from_dict(big_bundle.index.to_dict()) == big_bundle.index


# --- what build_bundle refuses ------------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(BundleError, match="empty"):
        build_bundle(b"", "wasi")


@pytest.mark.parametrize("runtime", ["docker", "WASI", "", None])
def test_unknown_runtime_is_refused(runtime: object) -> None:
    with pytest.raises(BundleError, match=r"unknown runtime .* expected one of wasi, container"):
        build_bundle(wat(ANSWER_WAT), runtime)  # type: ignore[arg-type]


def test_non_bytes_content_is_refused() -> None:
    with pytest.raises(BundleError, match="must be bytes, not str"):
        build_bundle("\0asm", "wasi")  # type: ignore[arg-type]


def test_file_over_the_limit_is_too_large() -> None:
    module = wat(ANSWER_WAT)
    with pytest.raises(TooLargeError, match=f"{len(module)} bytes, over the 10-byte limit"):
        build_bundle(module, "wasi", max_size=10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00", r"does not start with \\0asm"),
        (b"\0as", r"does not start with \\0asm"),
        (b"\0asm\x01\x00", "truncated: 6 bytes"),
        (b"\0asm\x0d\x00\x01\x00", "is a WebAssembly component"),
        (b"\0asm\x02\x00\x00\x00", "unsupported WebAssembly binary version 02000000"),
        (b"\0asm\x01\x00\x00\x00\x01\x05garbage", "invalid WebAssembly module: .*offset"),
        (b"\0asm\x01\x00\x00\x00" + bytes(range(256)) * 4, "invalid WebAssembly module"),
    ],
)
def test_invalid_wasm_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        build_bundle(data, "wasi")


def test_truncated_module_is_refused() -> None:
    module = wat(ANSWER_WAT)
    with pytest.raises(BundleError, match="invalid WebAssembly module"):
        build_bundle(module[:-3], "wasi")


def test_container_accepts_an_oci_layout_tarball_plain_or_gzipped() -> None:
    layout = oci_layout({"blobs/sha256/abc": b"layer"})
    assert build_bundle(layout, "container").size == len(layout)
    assert build_bundle(gzip.compress(layout), "container").index.runtime == "container"


def test_container_refuses_what_is_not_a_tar() -> None:
    with pytest.raises(BundleError, match="not a tar file"):
        build_bundle(wat(ANSWER_WAT), "container")


@pytest.mark.parametrize("left_out", ["oci-layout", "index.json"])
def test_container_refuses_a_tar_that_is_not_an_oci_layout(left_out: str) -> None:
    with pytest.raises(BundleError, match=f"not an OCI image layout: it lacks {left_out}"):
        build_bundle(oci_layout(leave_out=left_out), "container")


def test_wasm_bundle_must_not_be_a_tarball() -> None:
    with pytest.raises(BundleError, match=r"does not start with \\0asm"):
        build_bundle(oci_layout(), "wasi")


# --- what assembly refuses ----------------------------------------------------------------------------------


async def test_tampered_chunk(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    cid, data = big_bundle.chunks[1]
    blocks[cid] = data[:100] + b"X" + data[101:]
    with pytest.raises(BundleError, match=f"bundle chunk 1 does not match its CID {cid}"):
        await assemble(big_bundle.cid, blocks)


async def test_missing_chunk(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    cid = big_bundle.chunks[2][0]
    del blocks[cid]
    with pytest.raises(BundleError, match=rf"bundle chunk 2 \({cid}\) is missing"):
        await assemble(big_bundle.cid, blocks)


async def test_missing_index(big_bundle: Bundle, assemble: Assemble) -> None:
    with pytest.raises(BundleError, match=f"bundle index {big_bundle.cid} is missing"):
        await assemble(big_bundle.cid, {})


@pytest.mark.parametrize("missing", [KeyError("gone"), NotFoundError("gone")])
def test_lookup_failures_from_the_callback_mean_missing(big_bundle: Bundle, missing: Exception) -> None:
    blocks = blocks_of(big_bundle)
    absent = big_bundle.chunks[0][0]

    def get_block(cid: CID) -> bytes:
        if cid == absent:
            raise missing
        return blocks[cid]

    with pytest.raises(BundleError, match=r"bundle chunk 0 .* is missing"):
        assemble_bundle(big_bundle.cid, get_block)


async def test_other_callback_errors_propagate(big_bundle: Bundle) -> None:
    async def get_block(cid: CID) -> bytes:
        raise ConnectionError("registry unreachable")

    with pytest.raises(ConnectionError, match="registry unreachable"):
        await assemble_bundle_async(big_bundle.cid, get_block)


def test_callback_returning_non_bytes(big_bundle: Bundle) -> None:
    with pytest.raises(BundleError, match="was fetched as str, not bytes"):
        assemble_bundle(big_bundle.cid, lambda cid: "text")  # type: ignore[arg-type,return-value]
    blocks: dict[CID, object] = {**blocks_of(big_bundle), big_bundle.chunks[0][0]: 7}
    with pytest.raises(BundleError, match=r"chunk 0 .* was fetched as int, not bytes"):
        assemble_bundle(big_bundle.cid, blocks.get)  # type: ignore[arg-type]


async def test_tampered_index(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    blocks[big_bundle.cid] = big_bundle.index_bytes.replace(b"wasi", b"wasm")
    with pytest.raises(BundleError, match=f"bundle index block does not match its CID {big_bundle.cid}"):
        await assemble(big_bundle.cid, blocks)


async def test_index_cid_must_be_dag_cbor(big_bundle: Bundle, assemble: Assemble) -> None:
    chunk_cid = big_bundle.chunks[0][0]
    with pytest.raises(BundleError, match="must be a dag-cbor block, not raw"):
        await assemble(chunk_cid, blocks_of(big_bundle))
    with pytest.raises(BundleError, match="must be a CID, not str"):
        await assemble(str(big_bundle.cid), blocks_of(big_bundle))


async def test_index_cid_with_an_unsupported_hash(assemble: Assemble) -> None:
    blake2b = CID(b"\x01\x71\xa0\xe4\x02\x20" + bytes(32))
    with pytest.raises(BundleError, match=f"bundle index {blake2b} cannot be verified: unsupported multihash 0xb220"):
        await assemble(blake2b, {blake2b: codec.encode({})})


async def test_index_that_is_not_dag_cbor_or_not_a_map(assemble: Assemble) -> None:
    not_cbor = b"\xa1\x61"
    cid = CID.of(not_cbor, DAG_CBOR)
    with pytest.raises(BundleError, match="is not valid DAG-CBOR"):
        await assemble(cid, {cid: not_cbor})
    cid, data = codec.encode_block(["bundle"])
    with pytest.raises(BundleError, match="bundle index must be a map, not list"):
        await assemble(cid, {cid: data})


@pytest.mark.parametrize("field", ["type", "runtime", "size", "sha256", "chunks"])
async def test_index_missing_a_field(big_bundle: Bundle, field: str, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    with pytest.raises(BundleError, match=f"bundle index lacks field '{field}'"):
        await assemble(forge(blocks, big_bundle, **{field: DROP}), blocks)


async def test_index_with_an_extra_field(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    with pytest.raises(BundleError, match="bundle index has unknown field 'entry'"):
        await assemble(forge(blocks, big_bundle, entry="_start"), blocks)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "module"}, "'type' must be 'bundle'"),
        ({"type": None}, "'type' must be 'bundle'"),
        ({"runtime": "docker"}, "'runtime' must be one of wasi, container: 'docker'"),
        ({"runtime": 1}, "'runtime' must be one of"),
        ({"size": "2"}, "'size' must be a positive integer: '2'"),
        ({"size": 0}, "'size' must be a positive integer: 0"),
        ({"size": -5}, "'size' must be a positive integer"),
        ({"size": 2.5}, "'size' must be a positive integer"),
        ({"size": True}, "'size' must be a positive integer"),
        ({"sha256": "00" * 32}, "'sha256' must be 32 bytes"),
        ({"sha256": bytes(31)}, "'sha256' must be 32 bytes"),
        ({"chunks": "bafk"}, "'chunks' must be a list of CIDs: str"),
        ({"chunks": {}}, "'chunks' must be a list of CIDs: dict"),
        ({"chunks": [b"\x01"]}, "'chunks' item 0 is not a raw sha2-256 CID"),
        ({"chunks": [CID.of(b"x", DAG_CBOR)] * 3}, "'chunks' item 0 is not a raw sha2-256 CID"),
        ({"chunks": [CID(b"\x01\x55\x00\x01x")] * 3}, "'chunks' item 0 is not a raw sha2-256 CID"),
        ({"chunks": [CID(b"\x01\x55\x12\x10" + bytes(16))] * 3}, "'chunks' item 0 is not a raw sha2-256 CID"),
        ({"chunks": []}, "'chunks' lists 0 chunks, but 'size' .* needs 3"),
        ({"size": 4 * CHUNK_SIZE}, "'chunks' lists 3 chunks, but 'size' 4194304 needs 4"),
        ({"mediaType": None}, "'mediaType' must be a string when present, not null"),
        ({"mediaType": "not a media type"}, "'mediaType' must be a media type"),
    ],
)
async def test_index_with_wrong_values(
    big_bundle: Bundle, changes: dict[str, object], message: str, assemble: Assemble
) -> None:
    blocks = blocks_of(big_bundle)
    with pytest.raises(BundleError, match=f"bundle index field {message}"):
        await assemble(forge(blocks, big_bundle, **changes), blocks)


async def test_index_with_a_media_type_assembles(big_module: bytes, big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    assert await assemble(forge(blocks, big_bundle, mediaType="application/wasm"), blocks) == big_module


@pytest.mark.parametrize("delta", [-1, 1])
async def test_wrong_size(big_bundle: Bundle, delta: int, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    with pytest.raises(BundleError, match=r"bundle chunk 2 .* is \d+ bytes, but the index's 'size'"):
        await assemble(forge(blocks, big_bundle, size=big_bundle.size + delta), blocks)


async def test_wrong_sha256(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    with pytest.raises(BundleError, match="sha256 does not match the index's 'sha256'"):
        await assemble(forge(blocks, big_bundle, sha256=bytes(32)), blocks)


async def test_chunk_over_the_chunk_size(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    oversized = bytes(CHUNK_SIZE + 1)
    oversized_cid = CID.of(oversized, RAW)
    blocks[oversized_cid] = oversized
    chunks = [oversized_cid, *(cid for cid, _ in big_bundle.chunks[1:])]
    with pytest.raises(BundleError, match=f"bundle chunk 0 .* is {CHUNK_SIZE + 1} bytes, over the"):
        await assemble(forge(blocks, big_bundle, chunks=chunks), blocks)


async def test_chunks_in_the_wrong_order(big_bundle: Bundle, assemble: Assemble) -> None:
    blocks = blocks_of(big_bundle)
    first, second, tail = (cid for cid, _ in big_bundle.chunks)
    with pytest.raises(BundleError, match="sha256 does not match"):
        await assemble(forge(blocks, big_bundle, chunks=[second, first, tail]), blocks)


async def test_assembly_over_the_limit_is_too_large(big_bundle: Bundle, assemble: Assemble) -> None:
    with pytest.raises(TooLargeError, match=f"{big_bundle.size} bytes, over the {CHUNK_SIZE}-byte limit"):
        await assemble(big_bundle.cid, blocks_of(big_bundle), max_size=CHUNK_SIZE)
