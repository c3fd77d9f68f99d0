"""CARv1 (Content Addressable aRchive) reading and writing.

A CAR is ``varint(len(header)) + header`` followed by sections ``varint(len(cid + block)) + cid + block``, where
the header is the DAG-CBOR map ``{"roots": [CID, ...], "version": 1}``. DMG carries publishes and block transfers
in CARs, so reading is strict and defensive:

- every block is checked against its CID (sha2-256, or identity) before it is handed out; :func:`read_car`
  returns nothing until the whole CAR has been checked;
- the header must be exactly ``version`` (``1``) and ``roots`` (a list of CIDs, possibly empty, as js-car and
  go-car/v2 write); unknown header keys are refused;
- zero-length, truncated and oversized sections, malformed CIDs, unsupported multihashes and trailing bytes are
  refused with :class:`CARError` (:class:`TooLargeError` for limits), whose message gives the byte offset;
- a block that appears more than once is kept once (its bytes are necessarily identical, as both copies
  verify against the same hash).

The writer checks every block against its CID too, and writes each block once. Neither side requires the roots
to be present among the blocks (the CARv1 spec leaves that unresolved); callers that need it check it.

This module knows nothing about what the blocks mean; decoding them is :mod:`dmg.core.codec`'s job.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Final

from dmg.core import codec
from dmg.core.cid import CID, read_varint, write_varint
from dmg.core.errors import CARError, CIDError, DecodeError, TooLargeError

MAX_BLOCK_SIZE: Final = 1 << 20
"""Default largest block accepted when reading (1 MiB, the IPFS block size convention). Also bounds the header."""

MAX_BLOCKS: Final = 100_000
"""Default largest number of sections accepted when reading (duplicates count: each costs a hash)."""

_MAX_CID_SIZE: Final = 128
"""Room allowed for the CID when bounding a section before reading it (a sha2-256 CIDv1 takes 36 bytes)."""

_MAX_VARINT_SIZE: Final = 10
_READ_SIZE: Final = 1 << 16
_HEADER_KEYS: Final = frozenset({"version", "roots"})


@dataclass(frozen=True, slots=True)
class Car:
    """A fully read and verified CAR: its roots, and its blocks in file order (each block once)."""

    roots: tuple[CID, ...]
    blocks: dict[CID, bytes]


# --- writing ------------------------------------------------------------------------------------------------


def _encode_header(roots: Sequence[CID]) -> bytes:
    roots = list(roots)
    for position, root in enumerate(roots):
        if not isinstance(root, CID):
            raise CARError(f"roots[{position}] is {type(root).__name__}, not a CID")
    header = codec.encode({"version": 1, "roots": roots})
    return write_varint(len(header)) + header


class CarWriter:
    """Writes a CARv1 to a binary stream: the header on construction, then one section per :meth:`add`."""

    def __init__(self, stream: BinaryIO, roots: Sequence[CID]) -> None:
        self._stream = stream
        self._written: set[CID] = set()
        stream.write(_encode_header(roots))

    def add(self, cid: CID, data: bytes) -> None:
        """Append a block after checking it matches ``cid``; a block already written is skipped."""
        if not isinstance(cid, CID):
            raise CARError(f"block key is {type(cid).__name__}, not a CID")
        if cid in self._written:
            return
        data = bytes(data)
        try:
            matches = cid.matches(data)
        except CIDError as exc:
            raise CARError(f"cannot write block {cid}: {exc}") from exc
        if not matches:
            raise CARError(f"cannot write block {cid}: its bytes do not match the CID")
        raw = cid.bytes
        self._stream.write(write_varint(len(raw) + len(data)))
        self._stream.write(raw)
        self._stream.write(data)
        self._written.add(cid)


def write_car(roots: Sequence[CID], blocks: Iterable[tuple[CID, bytes]]) -> bytes:
    """Return the CARv1 bytes holding ``blocks`` (each checked against its CID, duplicates once) under ``roots``."""
    out = io.BytesIO()
    writer = CarWriter(out, roots)
    for cid, data in blocks:
        writer.add(cid, data)
    return out.getvalue()


# --- reading ------------------------------------------------------------------------------------------------


class _Input:
    """Buffered reads from a bytes object or a binary stream, tracking absolute offsets for error messages."""

    def __init__(self, source: bytes | BinaryIO) -> None:
        if isinstance(source, bytes):
            self._buffer, self._stream = source, None
        else:
            self._buffer, self._stream = b"", source
        self._pos = 0
        self._base = 0

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def _fill(self, count: int) -> int:
        """Try to have ``count`` unread bytes buffered; return how many are (fewer only at end of input)."""
        available = len(self._buffer) - self._pos
        if available >= count or self._stream is None:
            return available
        pieces = [self._buffer[self._pos :]]
        while available < count:
            piece = self._stream.read(max(count - available, _READ_SIZE))
            if not piece:
                break
            pieces.append(piece)
            available += len(piece)
        self._base += self._pos
        self._buffer = b"".join(pieces)
        self._pos = 0
        return available

    def at_end(self) -> bool:
        return self._fill(1) == 0

    def varint(self, what: str) -> int:
        start = self.offset
        available = self._fill(_MAX_VARINT_SIZE)
        try:
            value, end = read_varint(self._buffer, self._pos)
        except CIDError:
            window = self._buffer[self._pos : self._pos + _MAX_VARINT_SIZE]
            if available < _MAX_VARINT_SIZE and all(byte & 0x80 for byte in window):
                raise CARError(f"truncated {what} at byte {start}: the input ends inside its varint") from None
            raise CARError(f"invalid {what} at byte {start}: not a minimal varint of at most 9 bytes") from None
        self._pos = end
        return value

    def take(self, count: int, what: str, start: int) -> memoryview:
        """The next ``count`` bytes, as a view so that slicing off the CID costs no copy."""
        available = self._fill(count)
        if available < count:
            raise CARError(f"truncated {what} at byte {start}: it declares {count} bytes but only {available} remain")
        data = memoryview(self._buffer)[self._pos : self._pos + count]
        self._pos += count
        return data


def _read_header(source: _Input, max_size: int) -> tuple[CID, ...]:
    if source.at_end():
        raise CARError("missing CAR header at byte 0: the input is empty")
    length = source.varint("header length")
    start = source.offset
    if length == 0:
        raise CARError(f"empty CAR header at byte {start}")
    if length > max_size:
        raise TooLargeError(f"CAR header at byte {start} declares {length} bytes, over the {max_size}-byte limit")
    raw = source.take(length, "CAR header", start)
    try:
        header = codec.decode(bytes(raw))
    except DecodeError as exc:
        raise CARError(f"CAR header at byte {start} is not valid DAG-CBOR: {exc} (counted from the header)") from exc
    if type(header) is not dict:
        raise CARError(f"CAR header at byte {start} must be a map, got {type(header).__name__}")
    missing = sorted(_HEADER_KEYS - header.keys())
    if missing:
        raise CARError(f"CAR header at byte {start} lacks {', '.join(map(repr, missing))}")
    unknown = sorted(header.keys() - _HEADER_KEYS)
    if unknown:
        raise CARError(f"CAR header at byte {start} has unknown keys {', '.join(map(repr, unknown))}")
    version = header["version"]
    if type(version) is not int or version != 1:
        hint = " (CARv2 is not supported)" if version == 2 else ""
        raise CARError(f"CAR header at byte {start} has version {version!r}; only version 1 is supported{hint}")
    roots = header["roots"]
    if type(roots) is not list:
        raise CARError(f"CAR header at byte {start}: roots must be a list of CIDs, got {type(roots).__name__}")
    for position, root in enumerate(roots):
        if type(root) is not CID:
            raise CARError(f"CAR header at byte {start}: roots[{position}] is {type(root).__name__}, not a CID")
    return tuple(roots)


def _cid_size(section: memoryview, start: int, cid_start: int) -> int:
    """Length of the binary CID opening the section at ``start``, whose CID begins at ``cid_start``."""
    # Byte by byte: a memoryview equals bytes at run time, but mypy takes the two for types that never compare equal.
    if len(section) >= 4 and section[0] == 1 and section[1] < 0x80 and section[2] == 0x12 and section[3] == 0x20:
        size = 36  # the usual CIDv1: one-byte codec, sha2-256; spares four varint reads per block
    elif len(section) >= 2 and section[0] == 0x12 and section[1] == 0x20:
        size = 34
    else:
        offset = 0
        fields: list[int] = []
        for field in ("CID version", "CID codec", "multihash code", "multihash length"):
            try:
                value, next_offset = read_varint(section, offset)
            except CIDError:
                raise CARError(
                    f"section at byte {start}: malformed {field} varint at byte {cid_start + offset}"
                ) from None
            if not fields and value != 1:
                raise CARError(f"section at byte {start}: unsupported CID version {value} at byte {cid_start}")
            fields.append(value)
            offset = next_offset
        size = offset + fields[3]
    if size > len(section):
        raise CARError(f"section at byte {start}: its CID at byte {cid_start} runs past the end of the section")
    return size


def _read_section(source: _Input, max_block_size: int) -> tuple[CID, bytes]:
    start = source.offset
    length = source.varint("section length")
    if length == 0:
        raise CARError(f"zero-length section at byte {start}")
    if length > max_block_size + _MAX_CID_SIZE:
        raise TooLargeError(
            f"section at byte {start} declares {length} bytes, over the limit for a {max_block_size}-byte block"
        )
    cid_start = source.offset
    section = source.take(length, "section", start)
    cid_size = _cid_size(section, start, cid_start)
    cid = CID(section[:cid_size])  # _cid_size has checked the framing that CID() would refuse
    data = bytes(section[cid_size:])
    if len(data) > max_block_size:
        raise TooLargeError(f"block {cid} at byte {start} is {len(data)} bytes, over the {max_block_size}-byte limit")
    try:
        matches = cid.matches(data)
    except CIDError as exc:
        raise CARError(f"block at byte {start} cannot be verified: {exc}") from exc
    if not matches:
        raise CARError(f"block at byte {start} does not match its CID {cid}")
    return cid, data


class CarReader(Iterator[tuple[CID, bytes]]):
    """Reads a CARv1 section by section: :attr:`roots` on construction, then verified ``(cid, block)`` pairs.

    Each block is verified before it is yielded, but a later section may still be malformed: a caller that must
    act on all blocks or none stages what it receives until iteration ends without error.
    """

    def __init__(
        self, source: bytes | BinaryIO, *, max_block_size: int = MAX_BLOCK_SIZE, max_blocks: int = MAX_BLOCKS
    ) -> None:
        self._source = _Input(source)
        self._max_block_size = max_block_size
        self._max_blocks = max_blocks
        self._sections = 0
        self._seen: set[CID] = set()
        self.roots = _read_header(self._source, max_block_size)

    def __next__(self) -> tuple[CID, bytes]:
        while not self._source.at_end():
            if self._sections == self._max_blocks:
                raise TooLargeError(f"CAR has more than {self._max_blocks} blocks (at byte {self._source.offset})")
            self._sections += 1
            cid, data = _read_section(self._source, self._max_block_size)
            if cid not in self._seen:
                self._seen.add(cid)
                return cid, data
        raise StopIteration


def iter_car(stream: BinaryIO, *, max_block_size: int = MAX_BLOCK_SIZE, max_blocks: int = MAX_BLOCKS) -> CarReader:
    """Start reading a CAR from a binary stream; the header is read now, blocks as the result is iterated."""
    return CarReader(stream, max_block_size=max_block_size, max_blocks=max_blocks)


def read_car(data: bytes, *, max_block_size: int = MAX_BLOCK_SIZE, max_blocks: int = MAX_BLOCKS) -> Car:
    """Read and verify a whole CAR held in memory; raise before returning anything if any part is bad."""
    reader = CarReader(bytes(data), max_block_size=max_block_size, max_blocks=max_blocks)
    return Car(roots=reader.roots, blocks=dict(reader))
