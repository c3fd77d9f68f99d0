"""Strict DAG-CBOR encoding and decoding.

The data model is: ``None``, ``bool``, ``int`` (within [-2**64, 2**64 - 1]), finite ``float``, ``str``,
``bytes``, ``list``, ``dict`` with ``str`` keys, and :class:`~dmg.core.cid.CID` (CBOR tag 42 holding the
binary CID behind a 0x00 identity-multibase prefix). On encode, ``tuple`` is accepted as a list,
``bytearray``/``memoryview`` as bytes, and subclasses of ``dict``, ``list``, ``str``, ``int`` and ``float``
(enums, ordered dicts) as their base type; everything else is refused with an :class:`EncodeError`.

Encoding is deterministic: map keys are sorted length-first then bytewise (of their UTF-8 form), integers
and lengths take their shortest form, floats are always 64-bit, lengths are always definite. Decoding
accepts exactly those bytes and nothing else: any other input raises a :class:`DecodeError` whose message
names the broken rule and the byte offset. Nesting is limited to 256 levels (arrays, maps and CID tags each
count as one), on both sides.

How: where the optional C extension ``dmg.core._dagcbor`` was built (``pip install -e .`` compiles it when a C
compiler is there) and the environment variable ``DMG_PURE_PYTHON`` is not set to a non-empty value, it does both
directions in one pass each: its encoder walks the value, sorts each map's keys and writes the bytes; its decoder
checks every rule while it builds the value (the CID inside tag 42 is parsed by :class:`CID`). ``ACCELERATED`` says
whether it is in use.

The pure-Python path is always there, and the native one defers to it for anything it refuses. Encoding walks the
value once in Python, checking every item against the data model and rebuilding each map in DAG-CBOR key order
(computed once per distinct key tuple and cached, since records repeat their key sets), then hands the result to
``cbor2.dumps``, which writes shortest-form heads, definite lengths and 64-bit floats by itself; it also converts
what the native encoder takes only in its exact form (subclasses, ``bytearray``, ``memoryview``) and names the error
for anything outside the data model. Decoding is the definition of strictness made executable: ``cbor2.loads``
parses (indefinite lengths and duplicate keys disabled, every tag but 42 refused), and the bytes are accepted only
if encoding the result gives them back exactly. That single comparison covers key order, shortest forms, float
width, NaN, undefined, simple values and trailing bytes. Either decoder only decides; when it refuses, the
pure-Python :class:`_Reader`, an independent strict decoder, walks the bytes to say which rule broke and where, so
error messages do not depend on the path.

This module knows nothing about records, signatures or storage.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable
from typing import Any, Final, Protocol

import cbor2

from dmg.core.cid import CID, DAG_CBOR, RAW
from dmg.core.errors import CIDError, DecodeError, EncodeError

Value = None | bool | int | float | str | bytes | list[Any] | dict[str, Any] | CID

CID_TAG: Final = 42
MAX_DEPTH: Final = 256
_INT_MIN: Final = -(2**64)
_INT_MAX: Final = 2**64 - 1
_NoneType: Final = type(None)

# --- the native accelerator ---------------------------------------------------------------------------------


class _Native(Protocol):
    """The functions of ``dmg.core._dagcbor`` used here: a module cannot be named as a type, a protocol can."""

    def encode(self, value: object, cid_type: type[CID], /) -> bytes: ...

    def decode(self, data: bytes, make_cid: Callable[[bytes], CID], /) -> Any: ...


def _load_native() -> _Native | None:
    """The C codec, or None where it was not built or ``DMG_PURE_PYTHON`` asks for the pure-Python path."""
    if os.environ.get("DMG_PURE_PYTHON"):
        return None
    try:
        from dmg.core import _dagcbor
    except ImportError:
        return None
    return _dagcbor


_NATIVE: Final = _load_native()
ACCELERATED: Final = _NATIVE is not None


# --- map key order ------------------------------------------------------------------------------------------

# Key tuple as found -> the same keys in DAG-CBOR order, for the small maps records are made of. Bounded in
# entries and in keys per entry, so that blocks from strangers cannot make it hold much memory.
_KEY_ORDER: dict[tuple[str, ...], tuple[str, ...]] = {}
_KEY_ORDER_ENTRIES: Final = 4096
_KEY_ORDER_KEYS: Final = 32


def _utf8_order(key: str) -> tuple[int, str]:
    # Code-point order of str equals bytewise order of its UTF-8 form, so only the length needs encoding.
    try:
        return len(key.encode("utf-8")), key
    except UnicodeEncodeError as exc:
        raise EncodeError(f"map key {key!r} is not valid Unicode (it holds a lone surrogate)") from exc


def _learn_key_order(keys: tuple[Any, ...]) -> tuple[str, ...]:
    """Sort a map's keys into DAG-CBOR order (remembered for small maps); refuse keys that are not strings."""
    try:
        ascii_only = "".join(keys).isascii()
    except TypeError:
        bad = next(key for key in keys if not isinstance(key, str))
        raise EncodeError(f"map key {bad!r} is not a string (DAG-CBOR map keys must be strings)") from None
    if ascii_only:
        # Two stable sorts with builtin keys: bytewise, then by length (== UTF-8 length for ASCII).
        in_order = sorted(keys)
        in_order.sort(key=len)
        ordered = tuple(in_order)
    else:
        ordered = tuple(sorted(keys, key=_utf8_order))
    if len(keys) <= _KEY_ORDER_KEYS:
        if len(_KEY_ORDER) >= _KEY_ORDER_ENTRIES:
            _KEY_ORDER.clear()
        _KEY_ORDER[keys] = ordered
    return ordered


# --- encoding -----------------------------------------------------------------------------------------------

# Types cbor2 already writes exactly as DAG-CBOR wants (CID through the ``default`` hook below).
_ENCODED_AS_IS: Final = frozenset({str, bytes, bool, _NoneType, CID})


def _too_deep(container: dict[Any, Any] | list[Any] | tuple[Any, ...], depth: int) -> bool:
    # At the deepest allowed level a container may still hold scalars, but not a CID: its tag is a level too.
    items = container.values() if isinstance(container, dict) else container
    return depth > MAX_DEPTH or any(type(item) is CID for item in items)


def _encode_map(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    if depth >= MAX_DEPTH and _too_deep(value, depth):
        raise EncodeError(f"nesting deeper than {MAX_DEPTH} levels")
    keys = tuple(value)
    ordered = _KEY_ORDER.get(keys) or _learn_key_order(keys)
    result = {}
    for key in ordered:
        item = value[key]
        kind = type(item)
        if kind is str or kind in _ENCODED_AS_IS or (kind is int and _INT_MIN <= item <= _INT_MAX):
            result[key] = item
        elif kind is dict:
            result[key] = _encode_map(item, depth + 1)
        elif kind is list:
            result[key] = _encode_list(item, depth + 1)
        else:
            result[key] = _encode_other(item, depth + 1)
    return result


def _encode_list(value: list[Any] | tuple[Any, ...], depth: int) -> list[Any]:
    if depth >= MAX_DEPTH and _too_deep(value, depth):
        raise EncodeError(f"nesting deeper than {MAX_DEPTH} levels")
    result: list[Any] = []
    append = result.append
    for item in value:
        kind = type(item)
        if kind is str or kind in _ENCODED_AS_IS or (kind is int and _INT_MIN <= item <= _INT_MAX):
            append(item)
        elif kind is dict:
            append(_encode_map(item, depth + 1))
        elif kind is list:
            append(_encode_list(item, depth + 1))
        else:
            append(_encode_other(item, depth + 1))
    return result


def _encode_other(value: Any, depth: int) -> Any:
    """Check or convert anything that is not a plain str, bytes, bool, None, CID, dict or list."""
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodeError(f"integer {value} is outside the DAG-CBOR range [-2**64, 2**64 - 1]")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EncodeError(f"float {value} is not allowed (DAG-CBOR has no NaN or Infinity)")
        return value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        return _encode_map(value, depth)
    if isinstance(value, (list, tuple)):
        return _encode_list(value, depth)
    raise EncodeError(f"{type(value).__name__} is not in the DAG-CBOR data model")


def _canonical(value: Any) -> Any:
    """``value`` checked against the data model, with every map rebuilt in DAG-CBOR key order."""
    kind = type(value)
    if kind is dict:
        return _encode_map(value, 1)
    if kind is list:
        return _encode_list(value, 1)
    if kind in _ENCODED_AS_IS:
        return value
    return _encode_other(value, 1)


def _encode_cid(encoder: cbor2.CBOREncoder, value: CID) -> None:
    """cbor2's ``default`` hook. Only CIDs reach it: every other unknown type was refused before."""
    encoder.encode_semantic(CID_TAG, b"\x00" + value.bytes)


def _encode_pure(value: Any) -> bytes:
    """The pure-Python encoder: the data-model walk above, then cbor2 writes the bytes."""
    try:
        return cbor2.dumps(_canonical(value), default=_encode_cid)
    except UnicodeEncodeError as exc:
        raise EncodeError(f"text is not valid Unicode (it holds a lone surrogate): {exc}") from exc


def encode(value: Any) -> bytes:
    """Encode ``value`` as strict DAG-CBOR; raise :class:`EncodeError` for anything outside the data model."""
    if _NATIVE is not None:
        try:
            return _NATIVE.encode(value, CID)
        except ValueError:
            pass  # the pure path converts what the native encoder takes only in its exact form, or names the error
    return _encode_pure(value)


def encode_block(value: Any) -> tuple[CID, bytes]:
    """Encode ``value`` and return the ``(cid, bytes)`` of the resulting dag-cbor block."""
    data = encode(value)
    return CID.of(data, DAG_CBOR), data


# --- decoding -----------------------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside cbor2 hooks to stop the fast path; :class:`_Reader` then names the rule."""


def _decode_cid(tag: cbor2.CBORTag, immutable: bool) -> CID:
    raw = tag.value
    if tag.tag != CID_TAG or type(raw) is not bytes or raw[:1] != b"\x00":
        raise _Refused
    return CID(raw[1:])


def _refuse_tag(value: Any, immutable: bool) -> None:
    raise _Refused


# cbor2 decodes these tags itself (dates, bignums, decimals, regexes, MIME, sets, shared values, ...) without asking
# the tag hook. Strictness does not depend on refusing them (encode() writes no tag but 42, so the re-encoding would
# differ), but refusing them up front keeps cbor2 from parsing dates, regexes and MIME messages out of untrusted
# bytes. test_codec checks that every tag other than 42 is refused.
_CBOR2_BUILTIN_TAGS: Final = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 38, 52, 54, 100, 256, 258, 260, 261, 1004,
                              55799)  # fmt: skip
_REFUSE_BUILTIN_TAGS: Final = dict.fromkeys(_CBOR2_BUILTIN_TAGS, _refuse_tag)


def _loads(data: bytes) -> Any:
    return cbor2.loads(
        data,
        tag_hook=_decode_cid,
        semantic_decoders=_REFUSE_BUILTIN_TAGS,
        allow_indefinite=False,
        allow_duplicate_keys=False,
        max_depth=MAX_DEPTH,
    )


def decode(data: bytes) -> Any:
    """Decode one strict DAG-CBOR block; raise :class:`DecodeError` naming the broken rule and its offset."""
    if type(data) is not bytes:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    try:
        if _NATIVE is not None:
            return _NATIVE.decode(data, CID)
        value = _loads(data)
        # The definition of strict: the bytes are exactly what encode() makes of the value they hold.
        if _encode_pure(value) == data:
            return value
        fast_path_error = None
    except Exception as exc:  # any refusal by the fast path is explained (or overruled) by the strict reader
        fast_path_error = exc
    _diagnose(data)
    raise DecodeError("bytes are not canonical DAG-CBOR (the fast path refused them)") from fast_path_error


def decode_block(cid: CID, data: bytes) -> Any:
    """Check ``data`` against ``cid``, then decode it (dag-cbor) or return it as is (raw)."""
    codec = cid.codec
    if codec != DAG_CBOR and codec != RAW:
        raise CIDError(f"unsupported codec {cid.codec_name} in {cid} (DMG blocks are dag-cbor or raw)")
    cid.verify(data)
    return decode(data) if codec == DAG_CBOR else data


# --- diagnosis (slow path: runs only on bytes the fast path refused) ----------------------------------------


class _Reader:
    """A pure-Python strict DAG-CBOR decoder that raises at the first rule the bytes break."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, offset: int, message: str) -> DecodeError:
        return DecodeError(f"{message} at byte {offset}")

    def take(self, count: int, start: int) -> bytes:
        if self.pos + count > len(self.data):
            raise self.fail(start, "unexpected end of data (truncated input)")
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
            raise self.fail(start, "indefinite-length item is not allowed (lengths must be definite)")
        if info > 27:
            raise self.fail(start, f"reserved additional information {info} is not well-formed CBOR")
        size = 1 << (info - 24)
        argument = int.from_bytes(self.take(size, start), "big")
        if argument < (24 if info == 24 else 1 << (4 * size)):
            raise self.fail(start, f"integer, length or tag {argument} is not in its shortest form (non-minimal)")
        return major, info, argument, start

    def item(self, depth: int) -> Any:
        """Read one item; ``depth`` is the nesting level it would occupy as an array, map or tag."""
        major, info, argument, start = self.head()
        if major >= 4 and major != 7 and depth > MAX_DEPTH:
            raise self.fail(start, f"nesting deeper than {MAX_DEPTH} levels")
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
            return self.map(argument, depth)
        if major == 6:
            return self.tag(argument, start)
        return self.simple(info, start)

    def map(self, length: int, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        previous: bytes | None = None
        for _ in range(length):
            key_start = self.pos
            major, _info, size, _ = self.head()
            if major != 3:
                raise self.fail(key_start, "map key is not a text string (DAG-CBOR map keys must be strings)")
            raw = self.take(size, key_start)
            try:
                key = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.fail(key_start, "map key is not valid UTF-8") from exc
            if previous is not None:
                if raw == previous:
                    raise self.fail(key_start, f"duplicate map key {key!r}")
                if (len(raw), raw) < (len(previous), previous):
                    raise self.fail(key_start, f"map keys are not sorted length-first then bytewise at {key!r}")
            previous = raw
            result[key] = self.item(depth + 1)
        return result

    def tag(self, number: int, start: int) -> CID:
        if number != CID_TAG:
            raise self.fail(start, f"tag {number} is not allowed (only tag 42, for CIDs)")
        inner = self.pos
        major, _info, size, _ = self.head()
        if major != 2:
            raise self.fail(inner, "tag 42 must wrap a byte string")
        raw = self.take(size, inner)
        if raw[:1] != b"\x00":
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
        if info in (25, 26, 27):
            width = {25: 2, 26: 4, 27: 8}[info]
            value = struct.unpack({2: ">e", 4: ">f", 8: ">d"}[width], self.take(width, start))[0]
            if math.isnan(value):
                raise self.fail(start, "NaN is not allowed")
            if math.isinf(value):
                raise self.fail(start, f"{'-' if value < 0 else ''}Infinity is not allowed")
            if width != 8:
                raise self.fail(start, f"{8 * width}-bit float is not allowed (floats must be 64-bit)")
            return value
        if info == 24:
            raise self.fail(start, f"simple value {self.take(1, start)[0]} is not allowed")
        if info == 31:
            raise self.fail(start, "unexpected break code (indefinite lengths are not allowed)")
        if info > 24:
            raise self.fail(start, f"reserved additional information {info} is not well-formed CBOR")
        raise self.fail(start, f"simple value {info} is not allowed")


def _diagnose(data: bytes) -> Any:
    """Raise the precise :class:`DecodeError` for bad bytes; return the value if the bytes are valid."""
    if not data:
        raise DecodeError("empty input at byte 0")
    reader = _Reader(data)
    value = reader.item(1)
    if reader.pos != len(data):
        raise reader.fail(reader.pos, f"trailing bytes after the first item ({len(data) - reader.pos} bytes)")
    return value
