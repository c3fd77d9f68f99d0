"""Bundles: a module's executable file, chunked into raw blocks under a DAG-CBOR index node.

A bundle is the file a module record points at: a WebAssembly core module for ``runtime: wasi``, an OCI image
layout tarball for ``runtime: container``. :func:`build_bundle` checks the file suits its runtime, cuts it into raw
blocks (codec 0x55, sha2-256) of :data:`CHUNK_SIZE` bytes (the last one shorter) and describes them in an index
node, the DAG-CBOR map::

    {
      "type": "bundle",
      "runtime": "wasi" | "container",
      "size": int,               # bytes in the whole file, at least 1
      "sha256": bytes,           # 32 bytes: sha2-256 of the whole file
      "chunks": [CID, ...],      # raw sha2-256 CIDs, in file order
      "mediaType": str,          # optional, e.g. "application/wasm"
    }

Chunking is fixed-size, so a file has exactly one bundle CID, and every chunk's length is known from ``size``
before it is fetched; an index whose chunk count does not fit its size is refused. The same chunk may appear at
several positions (a file with repeated content); it is stored and fetched once.

:func:`assemble_bundle` (and :func:`assemble_bundle_async`) fetch an index and its chunks through a callback and
check everything (the index's shape, each chunk against its CID and expected length, the total sha256) before
returning the file. Both drive one I/O-free generator, so the checks exist once.

This module does not run or compile modules, and it does not fetch blocks itself.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import tarfile
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR, RAW, SHA2_256
from dmg.core.errors import BundleError, CIDError, DecodeError, NotFoundError, TooLargeError
from dmg.core.records import Runtime

if TYPE_CHECKING:
    import wasmtime

CHUNK_SIZE: Final = 1 << 20
"""Bytes per chunk block (1 MiB); only a bundle's last chunk is shorter."""

MAX_BUNDLE_SIZE: Final = 1 << 30
"""Default largest bundle built or assembled (1 GiB); assembling holds the whole file in memory."""

_REQUIRED_FIELDS: Final = frozenset({"type", "runtime", "size", "sha256", "chunks"})
_OPTIONAL_FIELDS: Final = frozenset({"mediaType"})
_MEDIA_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")

_WASM_MAGIC: Final = b"\0asm"
_WASM_CORE_VERSION: Final = b"\x01\x00\x00\x00"
_WASM_COMPONENT_LAYER: Final = b"\x01\x00"
_OCI_LAYOUT_FILES: Final = ("oci-layout", "index.json")


# --- runtime checks -----------------------------------------------------------------------------------------


@functools.cache
def _engine() -> wasmtime.Engine:
    import wasmtime

    # One engine serves every validation: engines are thread-safe and cost milliseconds to create.
    return wasmtime.Engine()


def _check_wasm(data: bytes) -> None:
    # wasmtime loads on the first validation, not with this module: reading records and blocks (and starting the
    # command line) should not pay for a WebAssembly engine.
    import wasmtime

    if data[:4] != _WASM_MAGIC:
        raise BundleError("a wasi bundle must be a WebAssembly module, but the file does not start with \\0asm")
    if len(data) < 8:
        raise BundleError(f"the WebAssembly file is truncated: {len(data)} bytes, shorter than its 8-byte preamble")
    version = data[4:8]
    if version != _WASM_CORE_VERSION:
        if version[2:] == _WASM_COMPONENT_LAYER:
            raise BundleError("the file is a WebAssembly component; a wasi bundle must be a core module (version 1)")
        raise BundleError(f"unsupported WebAssembly binary version {version.hex()}; expected 01000000")
    try:
        wasmtime.Module.validate(_engine(), data)
    except wasmtime.WasmtimeError as exc:
        raise BundleError(f"invalid WebAssembly module: {str(exc).strip()}") from exc


def _check_oci_layout(data: bytes) -> None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            names = {name.removeprefix("./") for name in archive.getnames()}
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(
            f"a container bundle must be an OCI image layout tarball, but it is not a tar file: {exc}"
        ) from exc
    missing = [name for name in _OCI_LAYOUT_FILES if name not in names]
    if missing:
        raise BundleError(f"the tarball is not an OCI image layout: it lacks {', '.join(missing)}")


_RUNTIME_CHECKS: Final[dict[str, Callable[[bytes], None]]] = {
    Runtime.WASI: _check_wasm,
    Runtime.CONTAINER: _check_oci_layout,
}


def check_content(data: bytes, runtime: str) -> None:
    """Raise :class:`BundleError` unless ``data`` is a non-empty file that ``runtime`` can use."""
    check = _RUNTIME_CHECKS.get(runtime) if isinstance(runtime, str) else None
    if check is None:
        raise BundleError(f"unknown runtime {runtime!r}; expected one of {', '.join(Runtime)}")
    if not data:
        raise BundleError("the bundle file is empty")
    check(data)


# --- the index node -----------------------------------------------------------------------------------------


def _chunk_count(size: int) -> int:
    return -(-size // CHUNK_SIZE)


@dataclass(frozen=True, slots=True)
class BundleIndex:
    """The contents of a bundle's index node; the constructor checks every field (named as on the wire)."""

    runtime: str
    size: int
    sha256: bytes
    chunks: tuple[CID, ...]
    media_type: str | None = None

    def __post_init__(self) -> None:
        if type(self.runtime) is not str or self.runtime not in _RUNTIME_CHECKS:
            raise BundleError(f"bundle index field 'runtime' must be one of {', '.join(Runtime)}: {self.runtime!r}")
        if type(self.size) is not int or self.size < 1:
            raise BundleError(f"bundle index field 'size' must be a positive integer: {self.size!r}")
        if type(self.sha256) is not bytes or len(self.sha256) != 32:
            raise BundleError("bundle index field 'sha256' must be 32 bytes")
        if type(self.chunks) not in (list, tuple):
            raise BundleError(f"bundle index field 'chunks' must be a list of CIDs: {type(self.chunks).__name__}")
        object.__setattr__(self, "chunks", tuple(self.chunks))
        for position, cid in enumerate(self.chunks):
            if type(cid) is not CID or cid.codec != RAW or cid.hash_code != SHA2_256 or len(cid.digest) != 32:
                raise BundleError(f"bundle index field 'chunks' item {position} is not a raw sha2-256 CID: {cid!r}")
        expected = _chunk_count(self.size)
        if len(self.chunks) != expected:
            raise BundleError(
                f"bundle index field 'chunks' lists {len(self.chunks)} chunks, but 'size' {self.size} needs "
                f"{expected} of {CHUNK_SIZE} bytes"
            )
        if self.media_type is not None and (
            type(self.media_type) is not str or not _MEDIA_TYPE.fullmatch(self.media_type)
        ):
            raise BundleError(
                f"bundle index field 'mediaType' must be a media type like 'type/subtype': {self.media_type!r}"
            )

    def chunk_length(self, position: int) -> int:
        """The length the chunk at ``position`` must have."""
        if position < len(self.chunks) - 1:
            return CHUNK_SIZE
        return self.size - CHUNK_SIZE * (len(self.chunks) - 1)

    @classmethod
    def from_dict(cls, value: object) -> BundleIndex:
        if type(value) is not dict:
            raise BundleError(f"bundle index must be a map, not {type(value).__name__}")
        missing = sorted(_REQUIRED_FIELDS - value.keys())
        if missing:
            raise BundleError(f"bundle index lacks field {', '.join(map(repr, missing))}")
        unknown = sorted(value.keys() - _REQUIRED_FIELDS - _OPTIONAL_FIELDS)
        if unknown:
            raise BundleError(f"bundle index has unknown field {', '.join(map(repr, unknown))}")
        if value["type"] != "bundle":
            raise BundleError(f"bundle index field 'type' must be 'bundle': {value['type']!r}")
        if "mediaType" in value and value["mediaType"] is None:
            raise BundleError("bundle index field 'mediaType' must be a string when present, not null")
        return cls(
            runtime=value["runtime"],
            size=value["size"],
            sha256=value["sha256"],
            chunks=value["chunks"],
            media_type=value.get("mediaType"),
        )

    def to_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "type": "bundle",
            "runtime": self.runtime,
            "size": self.size,
            "sha256": self.sha256,
            "chunks": list(self.chunks),
        }
        if self.media_type is not None:
            value["mediaType"] = self.media_type
        return value


def _read_index(cid: CID, data: bytes) -> BundleIndex:
    try:
        matches = cid.matches(data)
    except CIDError as exc:
        raise BundleError(f"bundle index {cid} cannot be verified: {exc}") from exc
    if not matches:
        raise BundleError(f"bundle index block does not match its CID {cid}")
    try:
        value = codec.decode(data)
    except DecodeError as exc:
        raise BundleError(f"bundle index {cid} is not valid DAG-CBOR: {exc}") from exc
    return BundleIndex.from_dict(value)


# --- building -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A built bundle: its index, the index node's CID and bytes, and its chunk blocks in file order."""

    index: BundleIndex
    chunks: list[tuple[CID, bytes]]
    cid: CID = field(init=False)
    index_bytes: bytes = field(init=False)

    def __post_init__(self) -> None:
        if [cid for cid, _ in self.chunks] != list(self.index.chunks):
            raise BundleError("bundle chunks do not follow the index's chunk list")
        cid, index_bytes = codec.encode_block(self.index.to_dict())
        object.__setattr__(self, "cid", cid)
        object.__setattr__(self, "index_bytes", index_bytes)

    @property
    def size(self) -> int:
        return self.index.size

    def blocks(self) -> Iterator[tuple[CID, bytes]]:
        """Every block of the bundle, the index node first, each distinct chunk once."""
        yield self.cid, self.index_bytes
        yield from dict(self.chunks).items()


def build_bundle(
    data: bytes, runtime: str, *, media_type: str | None = None, max_size: int = MAX_BUNDLE_SIZE
) -> Bundle:
    """Check ``data`` suits ``runtime``, then chunk it into a :class:`Bundle`.

    Raises :class:`BundleError` for an empty file, an unknown runtime or content the runtime cannot use, and
    :class:`TooLargeError` for a file over ``max_size`` bytes.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BundleError(f"bundle content must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_size:
        raise TooLargeError(f"the bundle file is {len(data)} bytes, over the {max_size}-byte limit")
    check_content(data, runtime)
    chunks = []
    for start in range(0, len(data), CHUNK_SIZE):
        piece = data[start : start + CHUNK_SIZE]
        chunks.append((CID.of(piece, RAW), piece))
    index = BundleIndex(
        runtime=runtime,
        size=len(data),
        sha256=hashlib.sha256(data).digest(),
        chunks=tuple(cid for cid, _ in chunks),
        media_type=media_type,
    )
    return Bundle(index=index, chunks=chunks)


def bundle_block_cids(index_bytes: bytes) -> list[CID]:
    """The CIDs of every block of the bundle whose index node is ``index_bytes``: the index first, chunks once."""
    index_cid = CID.of(bytes(index_bytes), DAG_CBOR)
    index = _read_index(index_cid, bytes(index_bytes))
    return [index_cid, *dict.fromkeys(index.chunks)]


# --- assembling ---------------------------------------------------------------------------------------------


def _check_chunk(position: int, cid: CID, data: object) -> bytes:
    if data is None:
        raise BundleError(f"bundle chunk {position} ({cid}) is missing")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BundleError(f"bundle chunk {position} ({cid}) was fetched as {type(data).__name__}, not bytes")
    data = bytes(data)
    if len(data) > CHUNK_SIZE:
        raise BundleError(f"bundle chunk {position} ({cid}) is {len(data)} bytes, over the {CHUNK_SIZE}-byte limit")
    if not cid.matches(data):
        raise BundleError(f"bundle chunk {position} does not match its CID {cid}")
    return data


def _assembly(index_cid: CID, max_size: int) -> Generator[CID, object, bytes]:
    """Yield each CID needed, receive its block (``None`` when missing), return the checked file."""
    if type(index_cid) is not CID:
        raise BundleError(f"bundle index CID must be a CID, not {type(index_cid).__name__}")
    if index_cid.codec != DAG_CBOR:
        raise BundleError(f"bundle index {index_cid} must be a dag-cbor block, not {index_cid.codec_name}")
    index_bytes = yield index_cid
    if index_bytes is None:
        raise BundleError(f"bundle index {index_cid} is missing")
    if not isinstance(index_bytes, bytes | bytearray | memoryview):
        raise BundleError(f"bundle index {index_cid} was fetched as {type(index_bytes).__name__}, not bytes")
    index = _read_index(index_cid, bytes(index_bytes))
    if index.size > max_size:
        raise TooLargeError(f"bundle {index_cid} is {index.size} bytes, over the {max_size}-byte limit")
    fetched: dict[CID, bytes] = {}
    digest = hashlib.sha256()
    parts = []
    for position, cid in enumerate(index.chunks):
        data = fetched.get(cid)
        if data is None:
            data = fetched[cid] = _check_chunk(position, cid, (yield cid))
        expected = index.chunk_length(position)
        if len(data) != expected:
            raise BundleError(
                f"bundle chunk {position} ({cid}) is {len(data)} bytes, but the index's 'size' {index.size} makes "
                f"it {expected} bytes"
            )
        digest.update(data)
        parts.append(data)
    if digest.digest() != index.sha256:
        raise BundleError(f"bundle {index_cid}: the assembled file's sha256 does not match the index's 'sha256'")
    return b"".join(parts)


def assemble_bundle(
    index_cid: CID, get_block: Callable[[CID], bytes | None], *, max_size: int = MAX_BUNDLE_SIZE
) -> bytes:
    """Fetch and check the bundle under ``index_cid`` through ``get_block``; return the file.

    ``get_block`` returns a block's bytes, or ``None`` (or raises :class:`NotFoundError` or :class:`LookupError`)
    when it does not have it, which is reported as a :class:`BundleError` naming the block; anything else it
    raises propagates unchanged.
    """
    steps = _assembly(index_cid, max_size)
    try:
        cid = next(steps)
        while True:
            try:
                data = get_block(cid)
            except (NotFoundError, LookupError):
                data = None
            cid = steps.send(data)
    except StopIteration as done:
        # StopIteration.value is typed Any; what ends _assembly is its return value, the file.
        return cast(bytes, done.value)


async def assemble_bundle_async(
    index_cid: CID, get_block: Callable[[CID], Awaitable[bytes | None]], *, max_size: int = MAX_BUNDLE_SIZE
) -> bytes:
    """:func:`assemble_bundle` with an async ``get_block``; same checks, same errors."""
    steps = _assembly(index_cid, max_size)
    try:
        cid = next(steps)
        while True:
            try:
                data = await get_block(cid)
            except (NotFoundError, LookupError):
                data = None
            cid = steps.send(data)
    except StopIteration as done:
        # StopIteration.value is typed Any; what ends _assembly is its return value, the file.
        return cast(bytes, done.value)
