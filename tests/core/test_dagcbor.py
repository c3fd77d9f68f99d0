"""The C codec dmg.core._dagcbor against the pure-Python path of dmg.core.codec.

Skipped where the extension was not built. The decoder must accept exactly the bytes the pure-Python strict reader
(``codec._diagnose``) accepts and build the same value, with the same types and the same key order. The encoder must
write exactly the bytes of the pure-Python encoder (``codec._encode_pure``), and refuse with ``ValueError``, handing
over to that path, whatever it does not take in exact form, so that ``codec.encode`` gives the same bytes or the same
:class:`EncodeError` either way.
"""

from __future__ import annotations

import enum
import math
import os
import struct
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmg.core import codec
from dmg.core.cid import CID, RAW
from dmg.core.errors import CIDError, DecodeError, EncodeError
from tests.support.dagcbor import (
    A_CID,
    A_CID_ITEM,
    FLOATS,
    INDEFINITE_LENGTHS,
    NAN_AND_INFINITY,
    NEGATIVE,
    NON_MINIMAL,
    NON_STRING_KEYS,
    OTHER_TAGS,
    POSITIVE,
    SHORT_FLOATS,
    SIMPLE_VALUES,
    TAG_42_CONTENTS,
    TAGGED_CONTENTS,
    TRUNCATED,
    UNSORTED_KEYS,
    mutated,
    tag_head,
    values,
)

_dagcbor = pytest.importorskip("dmg.core._dagcbor", reason="the C extension dmg.core._dagcbor was not built")

DEPTH = codec.MAX_DEPTH


def shape(value: Any) -> Any:
    """``value`` in a form whose equality also compares types, float bits and map key order."""
    if type(value) is float:
        return "float", value.hex()
    if type(value) is list:
        return "list", [shape(item) for item in value]
    if type(value) is dict:
        return "dict", [(key, shape(item)) for key, item in value.items()]
    return type(value).__name__, value


def native_verdict(data: bytes) -> tuple[bool, Any]:
    try:
        value = _dagcbor.decode(data, CID)
    except ValueError as exc:
        message, offset = exc.args
        assert isinstance(message, str) and message
        assert 0 <= offset <= len(data)
        return False, None
    except CIDError:
        return False, None
    return True, shape(value)


def reference_verdict(data: bytes) -> tuple[bool, Any]:
    try:
        return True, shape(codec._diagnose(data))
    except DecodeError:
        return False, None


def native_accepts(data: bytes) -> bool:
    return native_verdict(data)[0]


def decode_verdict(decode: Callable[[bytes], Any], data: bytes) -> tuple[bool, Any, str]:
    try:
        return True, shape(decode(data)), ""
    except DecodeError as exc:
        return False, None, str(exc)


def assert_same_verdict(data: bytes) -> None:
    assert native_verdict(data) == reference_verdict(data), data.hex()
    accepted, value, message = decode_verdict(codec.decode, data)
    assert (accepted, value, message) == decode_verdict(codec._diagnose, data), data.hex()
    if accepted:
        assert codec.encode(codec.decode(data)) == data


def pure_verdict(value: Any) -> tuple[bool, bytes | str]:
    try:
        return True, codec._encode_pure(value)
    except EncodeError as exc:
        return False, str(exc)


def assert_same_encoding(value: Any) -> None:
    """The native encoder writes the pure path's bytes, or refuses; codec.encode then agrees with the pure path."""
    expected = pure_verdict(value)
    try:
        native = _dagcbor.encode(value, CID)
    except ValueError as exc:
        message, offset = exc.args
        assert isinstance(message, str) and message and offset is None
    else:
        assert (True, native) == expected, repr(value)
    try:
        ours: tuple[bool, bytes | str] = True, codec.encode(value)
    except EncodeError as exc:
        ours = False, str(exc)
    assert ours == expected, repr(value)


# --- the cases test_codec has (tests/support/dagcbor.py) ----------------------------------------------------


def _from_hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def rule_cases() -> Iterator[bytes]:
    """Every hand-built byte string test_codec refuses or writes, whole items as the decoder would see them."""
    yield from map(_from_hex, NON_MINIMAL)
    yield from (_from_hex(hex_bytes) for hex_bytes, _ in SHORT_FLOATS)
    yield from (_from_hex(hex_bytes) for hex_bytes, _ in NAN_AND_INFINITY)
    yield from (_from_hex(hex_bytes) for hex_bytes, _ in SIMPLE_VALUES)
    yield from map(_from_hex, INDEFINITE_LENGTHS)
    yield from map(_from_hex, UNSORTED_KEYS)
    yield from map(_from_hex, TRUNCATED)
    yield from (_from_hex(hex_bytes) for _, hex_bytes in FLOATS)
    for content, _ in TAG_42_CONTENTS:
        yield b"\xd8\x2a" + content
    for key in NON_STRING_KEYS:
        yield _from_hex(f"a1{key}01")
    for number in OTHER_TAGS:
        for content in TAGGED_CONTENTS:
            yield tag_head(number) + content
    yield from (_from_hex(case["hex"]) for case in NEGATIVE)
    yield from map(_from_hex, ["d9002a5825", "83010219 00ff", "f7", "8201f7", "f810", "fc", "ff", "0102", "a0a0"])
    yield from map(_from_hex, ["a2616101616102", "62c328", "63eda080", "a162c32801", ""])
    yield b"\xd9\x00\x2a\x58\x25\x00" + A_CID.bytes
    yield codec.encode({"a": [1, 2]}) + b"\x00\x00"
    real = codec.encode({"payload": {"type": "release", "prev": A_CID}, "signatures": [{"sig": bytes(64)}]})
    yield from (real[:cut] for cut in range(len(real) + 1))


def nesting_cases() -> Iterator[bytes]:
    """Arrays, maps and CID tags at, just under and just over the nesting limit, mixed."""
    for depth in (DEPTH - 2, DEPTH - 1, DEPTH, DEPTH + 1, DEPTH + 2):
        yield b"\x81" * depth + b"\x00"
        yield b"\x81" * depth + b"\x80"
        yield b"\x81" * depth + b"\xa0"
        yield b"\x81" * depth + A_CID_ITEM
        yield b"\xa1\x61a" * depth + b"\x00"
        yield b"\xa1\x61a" * depth + b"\x81\x00"
        yield b"\xa1\x61a" * depth + A_CID_ITEM
        yield (b"\x81\xa1\x61a" * (depth // 2)) + b"\x81" * (depth % 2) + A_CID_ITEM
        # Siblings after a deep branch: the depth must come back down as containers close.
        yield b"\x82" + b"\x81" * (depth - 1) + b"\x00" + b"\x81" * (depth - 1) + b"\x00"
        yield b"\xa2\x61a" + b"\x81" * (depth - 1) + b"\x00" + b"\x61b" + b"\x81" * (depth - 1) + A_CID_ITEM
    yield b"\x81" * 10_000 + b"\x00"
    yield b"\x9f" * 10_000


def _head(major: int, argument: int, width: int) -> bytes:
    """A head with the argument in ``width`` extra bytes (0 for the initial byte), minimal or not."""
    if width == 0:
        return bytes([major << 5 | argument])
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + argument.to_bytes(width, "big")


def head_cases() -> Iterator[bytes]:
    """Every head width of every major type with arguments at the edges of each width, with and without content."""
    edges = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63, 2**64 - 1]
    for major in range(7):
        for width in (0, 1, 2, 4, 8):
            for argument in edges:
                if argument >= 1 << (8 * width if width else 5) or (width == 0 and argument > 23):
                    continue
                head = _head(major, argument, width)
                yield head
                filler = {2: b"\x00", 3: b"a", 4: b"\x00", 5: b"\x61a\x00"}.get(major, b"")
                if major == 5:
                    # Distinct sorted one-byte keys can fill at most a small map.
                    if argument <= 20:
                        yield head + b"".join(bytes([0x61, 0x41 + n, 0x00]) for n in range(argument))
                    yield head + filler * min(argument, 4)
                elif major == 6:
                    yield head + b"\x58\x25\x00" + A_CID.bytes
                elif argument <= 300:
                    yield head + filler * argument
                else:
                    yield head + filler * 300
    for info in range(24, 32):
        for major in range(8):
            yield bytes([major << 5 | info]) + b"\x00" * 8


def float_cases() -> Iterator[bytes]:
    for bits in [0, 1, 0x8000000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x7FF0000000000000]:
        yield b"\xfb" + bits.to_bytes(8, "big")
    for bits in [0xFFF0000000000000, 0x7FF0000000000001, 0x7FF8000000000000, 0xFFFFFFFFFFFFFFFF, 0x000FFFFFFFFFFFFF]:
        yield b"\xfb" + bits.to_bytes(8, "big")
    for value in (1.5, -2.0, 1e300, 5e-324, 0.1):
        yield b"\xfb" + struct.pack(">d", value)
        yield b"\xfa" + struct.pack(">f", value) if abs(value) < 1e38 else b"\xfa\x00\x00\x00\x00"
    yield from (b"\xfb" + bytes(cut) for cut in range(8))
    yield from map(_from_hex, ["f90000", "f93c00", "fa00000000", "f4", "f5", "f6", "f7", "f8", "f818", "f91f", "fa00"])


def text_item(raw: bytes) -> bytes:
    return bytes([0x78, len(raw)]) + raw if len(raw) >= 24 else bytes([0x60 | len(raw)]) + raw


def key_order_cases() -> Iterator[bytes]:
    keys = [b"", b"a", b"b", b"aa", b"ab", b"ba", b"\xc3\xa9", b"zz", b"aaa"]
    for first in keys:
        for second in keys:
            yield b"\xa2" + text_item(first) + b"\x01" + text_item(second) + b"\x02"
    yield b"\xa3\x61a\x01\x61b\x02\x61b\x03"  # a duplicate after a good pair
    yield b"\xa3\x61a\x01\x61c\x02\x61b\x03"  # out of order in third place
    yield b"\xa2\x61a\xa1\x61z\x01\x61b\x02"  # the inner map's key does not count for the outer order
    yield b"\xa2\x61b\xa1\x61a\x01\x61a\x02"


UTF8_BOUNDARIES = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEE, 0xEF]
UTF8_BOUNDARIES += [0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF]


def python_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- tests --------------------------------------------------------------------------------------------------


def test_the_native_path_is_in_use_unless_turned_off() -> None:
    turned_off = bool(os.environ.get("DMG_PURE_PYTHON"))
    assert codec.ACCELERATED is not turned_off


@pytest.mark.parametrize("turned_off", [False, True])
def test_dmg_pure_python_selects_the_pure_path(turned_off: bool) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DMG_PURE_PYTHON"}
    if turned_off:
        environment["DMG_PURE_PYTHON"] = "1"
    script = (
        "from dmg.core import codec\n"
        "from dmg.core.errors import DecodeError\n"
        "print(codec.ACCELERATED, codec._NATIVE is None)\n"
        "assert codec.decode(codec.encode({'a': [1, 2.5]})) == {'a': [1, 2.5]}\n"
        "try:\n"
        "    codec.decode(bytes.fromhex('831900ff0102'))\n"
        "except DecodeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        f"{not turned_off} {turned_off}",
        "integer, length or tag 255 is not in its shortest form (non-minimal) at byte 1",
    ]


def test_decode_reports_the_rule_and_offset() -> None:
    with pytest.raises(ValueError) as caught:
        _dagcbor.decode(bytes.fromhex("83010219 00ff".replace(" ", "")), CID)
    assert caught.value.args == ("integer, length or tag is not in its shortest form (non-minimal)", 3)
    assert _dagcbor.decode(bytearray(b"\x01"), CID) == 1
    assert _dagcbor.decode(memoryview(b"\x82\x01\x02"), CID) == [1, 2]
    with pytest.raises(TypeError):
        _dagcbor.decode("01", CID)
    with pytest.raises(TypeError):
        _dagcbor.decode(b"\x01")
    with pytest.raises(TypeError):
        _dagcbor.encode(1)


@pytest.mark.parametrize("fixture", POSITIVE, ids=[path.name for path in POSITIVE])
def test_fixtures_are_accepted(fixture: Any) -> None:
    (block,) = fixture.glob("*.dag-cbor")
    data = block.read_bytes()
    assert native_accepts(data)
    assert_same_verdict(data)


def test_rule_cases_from_test_codec() -> None:
    cases = list(rule_cases())
    assert len(cases) > 500
    for data in cases:
        assert_same_verdict(data)


def test_nesting_at_the_limit() -> None:
    for data in nesting_cases():
        assert_same_verdict(data)


def test_heads_of_every_width() -> None:
    for data in head_cases():
        assert_same_verdict(data)


def test_floats() -> None:
    for data in float_cases():
        assert_same_verdict(data)


def test_map_key_order() -> None:
    for data in key_order_cases():
        assert_same_verdict(data)


def test_huge_claimed_lengths_are_refused_without_allocating() -> None:
    for major in (2, 3, 4, 5):
        for argument in (2**32, 2**63, 2**64 - 1):
            data = bytes([major << 5 | 27]) + argument.to_bytes(8, "big") + b"\x00" * 16
            with pytest.raises(ValueError, match="unexpected end of data"):
                _dagcbor.decode(data, CID)
            assert_same_verdict(data)
    with pytest.raises(ValueError, match="unexpected end of data"):
        _dagcbor.decode(b"\xd8\x2a\x5b" + b"\xff" * 8 + b"\x00", CID)


def test_utf8_of_one_and_two_bytes_matches_python() -> None:
    for first in range(256):
        assert native_accepts(text_item(bytes([first]))) == python_utf8(bytes([first]))
        for second in range(256):
            raw = bytes([first, second])
            assert native_accepts(text_item(raw)) == python_utf8(raw), raw.hex()


def test_utf8_of_three_and_four_bytes_matches_python() -> None:
    # Leads of two-byte sequences are covered exhaustively above.
    for first in range(0xE0, 0xF8):
        for second in UTF8_BOUNDARIES:
            for third in UTF8_BOUNDARIES:
                for fourth in (None, *UTF8_BOUNDARIES):
                    raw = bytes([first, second, third] if fourth is None else [first, second, third, fourth])
                    assert native_accepts(text_item(raw)) == python_utf8(raw), raw.hex()
    for raw in (b"\xc3\xa9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xf0\x9f\x98\x80"):
        assert native_accepts(b"\xa1" + text_item(raw) + b"\x00") == python_utf8(raw), raw.hex()


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_utf8_of_any_text_is_accepted(text: str) -> None:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")  # an encoded surrogate, which must be refused
    assert native_accepts(text_item(raw)) == python_utf8(raw)


@settings(max_examples=60)
@given(values)
def test_valid_encodings_are_accepted(value: Any) -> None:
    data = codec.encode(value)
    assert native_accepts(data)
    assert codec.decode(data) == value
    for cut in range(len(data)):
        assert not native_accepts(data[:cut])
        assert_same_verdict(data[:cut])


@settings(max_examples=300)
@given(
    values,
    st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0), st.integers(0, 255)), min_size=1),
)
def test_mutated_encodings(value: Any, edits: list[tuple[str, int, int]]) -> None:
    assert_same_verdict(mutated(codec.encode(value), edits))


@settings(max_examples=200)
@given(values, st.integers(0), st.binary(min_size=1, max_size=9))
def test_spliced_encodings(value: Any, where: int, inserted: bytes) -> None:
    data = codec.encode(value)
    at = where % (len(data) + 1)
    assert_same_verdict(data[:at] + inserted + data[at:])
    assert_same_verdict(data[:at] + inserted + data[at + len(inserted) :])


@settings(max_examples=500)
@given(st.binary(max_size=40))
def test_random_bytes(data: bytes) -> None:
    assert_same_verdict(data)


# Initial bytes that start valid items, so random strings of them get past the first head more often.
ITEM_BYTES = [0x00, 0x17, 0x18, 0x19, 0x1B, 0x20, 0x38, 0x40, 0x41, 0x58, 0x60, 0x61, 0x62, 0x78, 0x80, 0x81, 0x82]
ITEM_BYTES += [0x98, 0xA0, 0xA1, 0xA2, 0xB8, 0xD8, 0x2A, 0xF4, 0xF5, 0xF6, 0xF7, 0xFB, 0xC3, 0xA9, 0xFF, 0x7F]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(ITEM_BYTES), max_size=30))
def test_random_item_bytes(chosen: list[int]) -> None:
    assert_same_verdict(bytes(chosen))


def test_a_cid_link_with_a_bad_cid_gets_the_readers_message() -> None:
    bad_cid = b"\xd8\x2a\x45\x00\x02\x55\x12\x00"
    with pytest.raises(CIDError, match="unsupported CID version 2"):
        _dagcbor.decode(bad_cid, CID)  # the binary CID is left to the CID class
    with pytest.raises(DecodeError, match="invalid CID: unsupported CID version 2 at byte 2"):
        codec.decode(bad_cid)
    good = codec.encode([CID.of(b"x", RAW)])
    assert codec.decode(good) == [CID.of(b"x", RAW)]


# --- the encoder --------------------------------------------------------------------------------------------


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    pass


class Table(dict):  # type: ignore[type-arg]
    pass


INT_EDGES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1]


@pytest.mark.parametrize("number", [*INT_EDGES, *(-1 - n for n in INT_EDGES)])
def test_integers_at_every_width_edge(number: int) -> None:
    assert_same_encoding(number)
    assert_same_encoding({"n": [number]})


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, -2.0, 1e300, 5e-324, 0.1, 2.0**64])
def test_floats_are_written_as_64_bit(value: float) -> None:
    assert _dagcbor.encode(value, CID) == b"\xfb" + struct.pack(">d", value)
    assert_same_encoding(value)


@pytest.mark.parametrize(
    "value",
    [
        2**64,
        -(2**64) - 1,
        10**40,
        math.nan,
        math.inf,
        -math.inf,
        "lone \ud800 surrogate",
        {"\udfff": 1},
        {1: "not a str key"},
        {None: 1},
        {b"bytes": 1},
        {1, 2},
        object(),
        [1, [2, {"deep": [complex(1, 2)]}]],
        {"a": {"b": frozenset()}},
    ],
    ids=repr,
)
def test_values_outside_the_data_model_get_the_pure_paths_error(value: Any) -> None:
    with pytest.raises(ValueError):
        _dagcbor.encode(value, CID)
    assert not pure_verdict(value)[0]
    assert_same_encoding(value)


@pytest.mark.parametrize(
    "value",
    [
        Colour.RED,
        Label("text"),
        Table(b=1, a=2),
        OrderedDict([("zz", 1), ("a", 2)]),
        bytearray(b"\x00\x01"),
        memoryview(b"view"),
        {"nested": [Label("x"), (Colour.RED, bytearray(b"y"))]},
        {Label("key"): 1, "a": 2},
    ],
    ids=repr,
)
def test_subclasses_and_buffers_are_handed_to_the_pure_path(value: Any) -> None:
    with pytest.raises(ValueError):
        _dagcbor.encode(value, CID)
    assert_same_encoding(value)
    assert codec.encode(value) == codec._encode_pure(value)


def test_tuples_are_written_as_arrays() -> None:
    assert _dagcbor.encode((1, ("a", [2.5])), CID) == codec._encode_pure([1, ["a", [2.5]]])


def test_map_keys_are_sorted_by_length_then_utf8_bytes() -> None:
    keys = ["b", "a", "aa", "é", "z", "", "ab", "\U0001f600", "ba", "e", "\x7f", "ÿ", "zzz"]
    assert_same_encoding(dict.fromkeys(keys, 0))
    many = {f"key{n * 7919 % 1000}": n for n in range(200)}  # larger than the small-map insertion sort
    many.update({"é" * n: n for n in range(1, 40)})
    assert_same_encoding(many)
    assert list(codec.decode(_dagcbor.encode(many, CID))) == sorted(many, key=lambda key: (len(key.encode()), key))


def test_nesting_limit_with_containers_and_cids() -> None:
    for depth in (DEPTH - 1, DEPTH, DEPTH + 1):
        for innermost in (0, [], {}, A_CID):
            value: Any = innermost
            for level in range(depth):
                value = [value] if level % 2 else {"a": value}
            assert_same_encoding(value)
    deep: list[Any] = []
    deep.append(deep)
    with pytest.raises(ValueError, match="nesting deeper"):
        _dagcbor.encode(deep, CID)
    with pytest.raises(EncodeError, match="nesting deeper"):
        codec.encode(deep)


def test_large_values_grow_the_output() -> None:
    big = {"blob": bytes(range(256)) * 4096, "text": "é" * 100_000, "list": list(range(70_000))}
    assert _dagcbor.encode(big, CID) == codec._encode_pure(big)
    assert codec.decode(codec.encode(big)) == big


def test_no_references_are_leaked_or_lost() -> None:
    key, text, cid = "some-key-" + "x" * 30, "some text " * 5, CID.of(b"leak", RAW)
    value = {key: [text, cid, {"k": text}], "bad": [text, math.nan]}
    good = {key: [text, cid]}
    data = codec.encode(good)
    before = [sys.getrefcount(item) for item in (key, text, cid, CID)]
    for _ in range(1000):
        _dagcbor.encode(good, CID)
        with pytest.raises(ValueError):
            _dagcbor.encode(value, CID)
        _dagcbor.decode(data, CID)
        with pytest.raises(ValueError):
            _dagcbor.decode(data[:-1], CID)
    assert [sys.getrefcount(item) for item in (key, text, cid, CID)] == before


@settings(max_examples=300)
@given(values)
def test_any_value_encodes_as_the_pure_path_does(value: Any) -> None:
    assert_same_encoding(value)
    assert codec.decode(_dagcbor.encode(value, CID)) == value
