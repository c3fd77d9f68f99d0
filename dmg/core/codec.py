"""Strict DAG-CBOR encoding and decoding.

The data model is: ``None``, ``bool``, ``int`` (within [-2**64, 2**64 - 1]), finite ``float``, ``str``,
``bytes``, ``list`` (``tuple`` is accepted on encode), ``dict`` with ``str`` keys, and :class:`~dmg.core.cid.CID`
(CBOR tag 42 with the 0x00 identity-multibase prefix).

Encoding is deterministic: map keys are sorted length-first then bytewise, integers and lengths use their
shortest form, floats are always 64-bit, lengths are definite. Decoding accepts exactly those bytes and nothing
else: a block that would not re-encode to itself is rejected with a :class:`DecodeError` naming the rule and the
byte offset.

How: cbor2's C implementation does the work. Encoding sorts map keys first; decoding lets cbor2 parse (refusing
indefinite lengths, duplicate keys, unsorted keys and foreign tags as it goes) and then checks that the value
re-encodes to the same bytes, which proves every shortest-form rule at C speed. Only when that check fails does
the pure-Python :func:`_diagnose` walk the bytes, to say precisely which rule broke and where.

This module knows nothing about records, signatures or storage.
"""

from __future__ import annotations

import math
import struct
from typing import Any, Final

import cbor2

from dmg.core.cid import CID, DAG_CBOR
from dmg.core.errors import CIDError, DecodeError, EncodeError

Value = None | bool | int | float | str | bytes | list[Any] | dict[str, Any] | CID

CID_TAG: Final = 42
_MAX_DEPTH: Final = 256
_INT_MIN: Final = -(2**64)
_INT_MAX: Final = 2**64 - 1


# --- encoding -----------------------------------------------------------------------------------------------


def _map_key_order(key: str) -> tuple[int, str]:
    # Code-point order of str equals bytewise order of its UTF-8 form, so only the length needs encoding.
    return (len(key) if key.isascii() else len(key.encode("utf-8"))), key


def _canonical(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with every map's keys in DAG-CBOR order, refusing what the data model lacks."""
    kind = type(value)
    if kind is dict:
        if depth > _MAX_DEPTH:
            raise EncodeError(f"nesting deeper than {_MAX_DEPTH}")
        for key in value:
            if type(key) is not str:
                raise EncodeError(f"map key {key!r} is not a string")
        return {key: _canonical(value[key], depth + 1) for key in sorted(value, key=_map_key_order)}
    if kind is list or kind is tuple:
        if depth > _MAX_DEPTH:
            raise EncodeError(f"nesting deeper than {_MAX_DEPTH}")
        return [_canonical(item, depth + 1) for item in value]
    if kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodeError(f"integer {value} does not fit in 64 bits")
        return value
    if kind is str or kind is bytes or kind is bool or value is None or kind is CID or kind is float:
        return value
    if kind is bytearray or kind is memoryview:
        return bytes(value)
    raise EncodeError(f"{kind.__name__} is not in the DAG-CBOR data model")


def _encode_float(encoder: cbor2.CBOREncoder, value: float) -> None:
    if not math.isfinite(value):
        raise EncodeError(f"{value} is not allowed in DAG-CBOR")
    encoder.write(b"\xfb" + struct.pack(">d", value))


def _encode_cid(encoder: cbor2.CBOREncoder, value: CID) -> None:
    encoder.write(b"\xd8\x2a")
    encoder.encode(b"\x00" + value.bytes)


def _refuse(encoder: cbor2.CBOREncoder, value: object) -> None:
    raise EncodeError(f"{type(value).__name__} is not in the DAG-CBOR data model")


_ENCODERS: Final = {
    float: _encode_float,
    CID: _encode_cid,
    type(cbor2.undefined): _refuse,
    cbor2.CBORSimpleValue: _refuse,
    cbor2.CBORTag: _refuse,
}


def encode(value: Any) -> bytes:
    """Encode ``value`` as strict DAG-CBOR bytes; raise :class:`EncodeError` for values outside the model."""
    try:
        return cbor2.dumps(_canonical(value), encoders=_ENCODERS)
    except EncodeError:
        raise
    except (cbor2.CBOREncodeError, ValueError, TypeError, RecursionError) as exc:
        raise EncodeError(str(exc)) from exc


def encode_block(value: Any) -> tuple[CID, bytes]:
    """Encode ``value`` and return ``(cid, bytes)`` of the resulting dag-cbor block."""
    data = encode(value)
    return CID.of(data, DAG_CBOR), data


# --- decoding -----------------------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside cbor2 hooks; carries the rule that the input broke."""


def _tag_hook(tag: cbor2.CBORTag, immutable: bool = False) -> CID:
    if tag.tag != CID_TAG:
        raise _Refused(f"tag {tag.tag} is not allowed (only tag 42 for CIDs)")
    raw = tag.value
    if type(raw) is not bytes or not raw or raw[0] != 0:
        raise _Refused("tag 42 must wrap a byte string starting with the 0x00 multibase prefix")
    try:
        return CID(raw[1:])
    except CIDError as exc:
        raise _Refused(f"tag 42 holds an invalid CID: {exc}") from exc


def _refuse_tag(*_: object) -> None:
    raise _Refused("only tag 42 (CID) is allowed")


# cbor2 decodes these tags itself (dates, bignums, decimals, sets, ...) without asking the tag hook.
_BUILTIN_TAGS: Final = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 38, 52, 54, 100, 256, 258, 260, 261, 1004,
                        55799)
_SEMANTIC: Final = dict.fromkeys(_BUILTIN_TAGS, _refuse_tag)


def _check_map(value: dict[Any, Any], immutable: bool = False) -> dict[Any, Any]:
    previous: tuple[int, str] | None = None
    for key in value:
        if type(key) is not str:
            raise _Refused(f"map key {key!r} is not a string")
        order = _map_key_order(key)
        if previous is not None and order <= previous:
            raise _Refused(f"map keys are not sorted length-first then bytewise at key {key!r}")
        previous = order
    return value


def decode(data: bytes) -> Any:
    """Decode one strict DAG-CBOR block; raise :class:`DecodeError` naming the broken rule and offset."""
    if not isinstance(data, bytes):
        data = bytes(data)
    try:
        value = cbor2.loads(
            data,
            tag_hook=_tag_hook,
            object_hook=_check_map,
            semantic_decoders=_SEMANTIC,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=_MAX_DEPTH,
        )
        if cbor2.dumps(value, encoders=_ENCODERS) == data:
            return value
    except (cbor2.CBORError, _Refused, EncodeError, ValueError, TypeError, RecursionError):
        pass
    _diagnose(data)
    raise DecodeError("bytes do not re-encode identically (not canonical DAG-CBOR)")


def decode_block(cid: CID, data: bytes) -> Any:
    """Verify ``data`` against ``cid`` and decode it (dag-cbor) or return it unchanged (raw)."""
    cid.verify(data)
    if cid.codec == DAG_CBOR:
        return decode(data)
    return data


# --- diagnosis (slow path: only runs on bytes already known to be bad) -------------------------------------


class _Reader:
    """A pure-Python strict DAG-CBOR reader that raises at the first rule the bytes break."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, offset: int, message: str) -> DecodeError:
        return DecodeError(f"{message} at byte {offset}")

    def take(self, count: int, start: int) -> bytes:
        if self.pos + count > len(self.data):
            raise self.fail(start, "unexpected end of data")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def head(self) -> tuple[int, int, int, int]:
        """Read an item head; return ``(major, info, argument, start_offset)``."""
        start = self.pos
        initial = self.take(1, start)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return major, info, 0, start
        if info < 24:
            return major, info, info, start
        if info == 31:
            raise self.fail(start, "indefinite-length item is not allowed")
        if info > 27:
            raise self.fail(start, f"reserved additional information {info}")
        size = 1 << (info - 24)
        argument = int.from_bytes(self.take(size, start), "big")
        if argument < (24 if info == 24 else 1 << (4 * size)):
            raise self.fail(start, f"integer or length {argument} is not in its shortest form")
        return major, info, argument, start

    def item(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(self.pos, f"nesting deeper than {_MAX_DEPTH}")
        major, info, argument, start = self.head()
        if major == 0:
            return argument
        if major == 1:
            return -1 - argument
        if major == 2:
            return self.take(argument, start)
        if major == 3:
            try:
                return self.take(argument, start).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.fail(start, "text string is not valid UTF-8") from exc
        if major == 4:
            return [self.item(depth + 1) for _ in range(argument)]
        if major == 5:
            return self.map(argument, depth, start)
        if major == 6:
            return self.tag(argument, depth, start)
        return self.simple(info, start)

    def map(self, length: int, depth: int, start: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        previous: bytes | None = None
        for _ in range(length):
            key_start = self.pos
            major, _info, size, _ = self.head()
            if major != 3:
                raise self.fail(key_start, "map key is not a text string")
            raw = self.take(size, key_start)
            if previous is not None:
                if raw == previous:
                    raise self.fail(key_start, f"duplicate map key {raw.decode('utf-8', 'replace')!r}")
                if (len(raw), raw) < (len(previous), previous):
                    raise self.fail(key_start, "map keys are not sorted length-first then bytewise")
            previous = raw
            try:
                key = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.fail(key_start, "map key is not valid UTF-8") from exc
            result[key] = self.item(depth + 1)
        return result

    def tag(self, number: int, depth: int, start: int) -> CID:
        if number != CID_TAG:
            raise self.fail(start, f"tag {number} is not allowed (only tag 42 for CIDs)")
        inner = self.pos
        major, _info, size, _ = self.head()
        if major != 2:
            raise self.fail(inner, "tag 42 must wrap a byte string")
        raw = self.take(size, inner)
        if not raw or raw[0] != 0:
            raise self.fail(inner, "tag 42 byte string must start with the 0x00 multibase prefix")
        try:
            return CID(raw[1:])
        except CIDError as exc:
            raise self.fail(inner, f"tag 42 holds an invalid CID: {exc}") from exc

    def simple(self, info: int, start: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 23:
            raise self.fail(start, "undefined is not allowed")
        if info in (25, 26):
            raise self.fail(start, f"{16 if info == 25 else 32}-bit float is not allowed (floats must be 64-bit)")
        if info == 27:
            value = struct.unpack(">d", self.take(8, start))[0]
            if not math.isfinite(value):
                raise self.fail(start, f"{value} is not allowed")
            return value
        if info == 31:
            raise self.fail(start, "unexpected break code")
        raise self.fail(start, f"simple value {info} is not allowed")


def _diagnose(data: bytes) -> None:
    """Raise the precise :class:`DecodeError` for bytes the fast path refused."""
    if not data:
        raise DecodeError("empty input at byte 0")
    reader = _Reader(data)
    reader.item(0)
    if reader.pos != len(data):
        raise reader.fail(reader.pos, f"{len(data) - reader.pos} trailing bytes after the first item")
