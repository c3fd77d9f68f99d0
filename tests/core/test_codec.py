"""Strict DAG-CBOR: the IPLD conformance fixtures, one test per rule, encode refusals, and properties."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import random
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR, RAW
from dmg.core.errors import CIDError, DecodeError, EncodeError
from tests.support.dagcbor import (
    A_CID,
    A_CID_ITEM,
    CODEC_FIXTURES,
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


def refused(hex_or_bytes: str | bytes, rule: str) -> DecodeError:
    data = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
    with pytest.raises(DecodeError, match=rule) as caught:
        codec.decode(data)
    return caught.value


def nested_lists(depth: int, innermost: Any) -> Any:
    value = innermost
    for _ in range(depth):
        value = [value]
    return value


# --- conformance fixtures -----------------------------------------------------------------------------------


def test_all_128_fixtures_are_there() -> None:
    assert len(POSITIVE) == 128
    assert all(len(list(path.glob("*.dag-cbor"))) == 1 for path in POSITIVE)


@pytest.mark.parametrize("fixture", POSITIVE, ids=[path.name for path in POSITIVE])
def test_fixture_decodes_re_encodes_identically_and_has_its_cid(fixture: Path) -> None:
    (block,) = fixture.glob("*.dag-cbor")
    data = block.read_bytes()
    value = codec.decode(data)
    cid, encoded = codec.encode_block(value)
    assert encoded == data
    assert str(cid) == block.stem
    assert codec.decode_block(CID.parse(block.stem), data) == value


def test_fixture_integers_beyond_int64_keep_their_value() -> None:
    # The fixtures beyond signed 64 bits still fit CBOR's [-2**64, 2**64 - 1]; they must not change.
    for name, expected in [
        ("int-18446744073709551615", 2**64 - 1),
        ("int-11959030306112471731", 11959030306112471731),
        ("int--11959030306112471732", -11959030306112471732),
    ]:
        (block,) = (CODEC_FIXTURES / "fixtures" / name).glob("*.dag-cbor")
        assert codec.decode(block.read_bytes()) == expected


@pytest.mark.parametrize("case", NEGATIVE, ids=[case["name"] for case in NEGATIVE])
def test_negative_fixture_is_refused(case: dict[str, str]) -> None:
    refused(case["hex"], "duplicate map key 'foo'")


# --- one test per rule, on hand-built bytes -----------------------------------------------------------------


@pytest.mark.parametrize("hex_bytes", NON_MINIMAL)
def test_non_minimal_integers_and_lengths(hex_bytes: str) -> None:
    refused(hex_bytes.replace(" ", ""), "not in its shortest form")


def test_non_minimal_tag_number() -> None:
    refused(b"\xd9\x00\x2a\x58\x25\x00" + A_CID.bytes, "tag 42 is not in its shortest form")


def test_error_names_the_offset() -> None:
    assert str(refused("83 01 02 1900ff".replace(" ", ""), "shortest form")).endswith("at byte 3")


@pytest.mark.parametrize(("hex_bytes", "width"), SHORT_FLOATS)
def test_short_floats(hex_bytes: str, width: int) -> None:
    refused(hex_bytes.replace(" ", ""), f"{width}-bit float is not allowed \\(floats must be 64-bit\\)")


@pytest.mark.parametrize(("hex_bytes", "rule"), NAN_AND_INFINITY)
def test_nan_and_infinity(hex_bytes: str, rule: str) -> None:
    refused(hex_bytes.replace(" ", ""), rule)


def test_undefined() -> None:
    refused("f7", "undefined is not allowed")
    refused("8201f7", "undefined is not allowed at byte 2")


@pytest.mark.parametrize(("hex_bytes", "number"), SIMPLE_VALUES)
def test_simple_values(hex_bytes: str, number: int) -> None:
    refused(hex_bytes, f"simple value {number} is not allowed")


def test_not_well_formed_major_7() -> None:
    refused("f810", "simple value 16 is not allowed")  # a two-byte simple value below 32
    refused("fc", "reserved additional information 28")
    refused("ff", "unexpected break code")


@pytest.mark.parametrize("number", OTHER_TAGS)
def test_tags_other_than_42(number: int) -> None:
    for content in TAGGED_CONTENTS:
        refused(tag_head(number) + content, f"tag {number} is not allowed \\(only tag 42, for CIDs\\)")


@pytest.mark.parametrize(("content", "rule"), TAG_42_CONTENTS)
def test_tag_42_content(content: bytes, rule: str) -> None:
    refused(b"\xd8\x2a" + content, rule)


@pytest.mark.parametrize("hex_bytes", INDEFINITE_LENGTHS)
def test_indefinite_lengths(hex_bytes: str) -> None:
    refused(hex_bytes.replace(" ", ""), "indefinite-length item is not allowed")


def test_duplicate_keys() -> None:
    refused("a2 6161 01 6161 02".replace(" ", ""), "duplicate map key 'a' at byte 4")


@pytest.mark.parametrize("hex_bytes", UNSORTED_KEYS)
def test_unsorted_keys(hex_bytes: str) -> None:
    refused(hex_bytes.replace(" ", ""), "map keys are not sorted length-first then bytewise")


@pytest.mark.parametrize("key", NON_STRING_KEYS)
def test_non_string_keys(key: str) -> None:
    refused(f"a1{key}01", "map key is not a text string")


def test_trailing_bytes() -> None:
    refused("0102", r"trailing bytes after the first item \(1 bytes\) at byte 1")
    refused("a0a0", "trailing bytes")
    refused(codec.encode({"a": [1, 2]}) + b"\x00\x00", "trailing bytes")


@pytest.mark.parametrize("hex_bytes", TRUNCATED)
def test_truncated_input(hex_bytes: str) -> None:
    refused(hex_bytes, "unexpected end of data")


def test_truncated_real_block() -> None:
    data = codec.encode({"payload": {"type": "release", "prev": A_CID}, "signatures": [{"sig": bytes(64)}]})
    for cut in range(len(data)):
        refused(data[:cut], "empty input" if cut == 0 else "unexpected end of data")


def test_empty_input() -> None:
    refused(b"", "empty input")


def test_invalid_utf8() -> None:
    refused("62c328", "text string is not valid UTF-8")
    refused("63eda080", "text string is not valid UTF-8")  # an encoded surrogate
    refused("a1 62c328 01".replace(" ", ""), "map key is not valid UTF-8")


def test_nesting_limit() -> None:
    assert codec.decode(b"\x81" * codec.MAX_DEPTH + b"\x00") == nested_lists(codec.MAX_DEPTH, 0)
    refused(b"\x81" * (codec.MAX_DEPTH + 1) + b"\x00", "nesting deeper than 256 levels")
    refused(b"\xa1\x61a" * (codec.MAX_DEPTH + 1) + b"\x00", "nesting deeper than 256 levels")
    # A CID's tag is a level of its own.
    assert codec.decode(b"\x81" * (codec.MAX_DEPTH - 1) + A_CID_ITEM) == nested_lists(codec.MAX_DEPTH - 1, A_CID)
    refused(b"\x81" * codec.MAX_DEPTH + A_CID_ITEM, "nesting deeper than 256 levels")


class Blob(bytes):
    pass


def test_decode_takes_bytes_like_only() -> None:
    assert codec.decode(bytearray(b"\x01")) == 1
    assert codec.decode(Blob(b"\x61a")) == "a"
    assert codec.decode(memoryview(b"\x82\x01\x02")) == [1, 2]
    with pytest.raises(DecodeError, match="expected bytes, got str"):
        codec.decode("01")  # type: ignore[arg-type]


# --- encoding -----------------------------------------------------------------------------------------------


def test_encoding_examples() -> None:
    assert codec.encode(None) == b"\xf6"
    assert codec.encode([True, False]) == b"\x82\xf5\xf4"
    assert codec.encode(23) == b"\x17" and codec.encode(24) == b"\x18\x18" and codec.encode(-25) == b"\x38\x18"
    assert codec.encode(2**64 - 1) == b"\x1b" + b"\xff" * 8
    assert codec.encode(-(2**64)) == b"\x3b" + b"\xff" * 8
    assert codec.encode("é") == b"\x62\xc3\xa9"
    assert codec.encode(b"\x00") == b"\x41\x00"
    assert codec.encode({"link": A_CID}) == b"\xa1\x64link" + A_CID_ITEM


@pytest.mark.parametrize(("value", "hex_bytes"), FLOATS)
def test_floats_are_always_64_bit(value: float, hex_bytes: str) -> None:
    assert codec.encode(value).hex() == hex_bytes
    assert str(codec.decode(codec.encode(value))) == str(value)  # -0.0 keeps its sign


def test_key_order_is_length_first_then_bytewise_utf8() -> None:
    assert list(codec.decode(codec.encode({"b": 1, "aa": 2, "a": 3}))) == ["a", "b", "aa"]
    # "éé" is 2 code points but 4 UTF-8 bytes, so it sorts after the 3-byte "abc".
    assert list(codec.decode(codec.encode({"éé": 1, "abc": 2, "z": 3}))) == ["z", "abc", "éé"]
    assert list(codec.decode(codec.encode({"zz": 1, "é": 2}))) == ["zz", "é"]  # 7a7a < c3a9


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_convenient_python_types_encode_as_their_data_model_kind() -> None:
    assert codec.encode((1, (2,))) == codec.encode([1, [2]])
    assert codec.encode(bytearray(b"ab")) == codec.encode(memoryview(b"ab")) == codec.encode(b"ab")
    assert codec.encode({Colour.RED: Level.HIGH}) == codec.encode({"red": 3})
    assert codec.encode(collections.OrderedDict([("b", 1), ("a", 2)])) == codec.encode({"a": 2, "b": 1})
    assert codec.encode({"x": collections.defaultdict(int, {"k": 1})}) == codec.encode({"x": {"k": 1}})


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (float("nan"), "float nan is not allowed \\(DAG-CBOR has no NaN or Infinity\\)"),
        (float("inf"), "float inf is not allowed"),
        (float("-inf"), "float -inf is not allowed"),
        ({"a": [1, {"b": float("nan")}]}, "float nan is not allowed"),
        ({1, 2}, "set is not in the DAG-CBOR data model"),
        (frozenset(), "frozenset is not in the DAG-CBOR data model"),
        ({1: "a"}, "map key 1 is not a string"),
        ({"a": 1, b"k": 2}, "map key b'k' is not a string"),
        ({None: 1}, "map key None is not a string"),
        ({("a",): 1}, "map key \\('a',\\) is not a string"),
        (2**64, "integer 18446744073709551616 is outside the DAG-CBOR range"),
        (-(2**64) - 1, "integer -18446744073709551617 is outside the DAG-CBOR range"),
        ([object()], "object is not in the DAG-CBOR data model"),
        (datetime.datetime(2026, 1, 1), "datetime is not in the DAG-CBOR data model"),
        (decimal.Decimal("1.5"), "Decimal is not in the DAG-CBOR data model"),
        (1j, "complex is not in the DAG-CBOR data model"),
        (cbor2.undefined, "UndefinedType is not in the DAG-CBOR data model"),
        (cbor2.CBORTag(1, 0), "CBORTag is not in the DAG-CBOR data model"),
        (cbor2.CBORSimpleValue(16), "CBORSimpleValue is not in the DAG-CBOR data model"),
        (range(3), "range is not in the DAG-CBOR data model"),
        ("\ud800", "lone surrogate"),
        ({"\ud800é": 1, "a": 2}, "map key .* lone surrogate"),
    ],
)
def test_encode_refuses_what_the_data_model_lacks(value: Any, rule: str) -> None:
    with pytest.raises(EncodeError, match=rule):
        codec.encode(value)


def test_encode_nesting_limit_matches_decode() -> None:
    assert codec.decode(codec.encode(nested_lists(codec.MAX_DEPTH, 0))) == nested_lists(codec.MAX_DEPTH, 0)
    assert codec.encode(nested_lists(codec.MAX_DEPTH - 1, A_CID)) == b"\x81" * (codec.MAX_DEPTH - 1) + A_CID_ITEM
    for too_deep in (nested_lists(codec.MAX_DEPTH + 1, 0), nested_lists(codec.MAX_DEPTH, A_CID)):
        with pytest.raises(EncodeError, match="nesting deeper than 256 levels"):
            codec.encode(too_deep)
    deep_map: Any = {}
    for _ in range(codec.MAX_DEPTH + 1):
        deep_map = {"a": deep_map}
    with pytest.raises(EncodeError, match="nesting deeper than 256 levels"):
        codec.encode(deep_map)


def test_encode_refuses_cycles() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(EncodeError, match="nesting deeper than 256 levels"):
        codec.encode({"a": loop})


def test_encode_block() -> None:
    value = {"type": "release", "seq": 1, "record": A_CID}
    cid, data = codec.encode_block(value)
    assert data == codec.encode(value) and cid == CID.of(data, DAG_CBOR)
    assert codec.decode_block(cid, data) == value


def test_decode_block_checks_the_cid_and_the_codec() -> None:
    cid, data = codec.encode_block({"a": 1})
    with pytest.raises(CIDError, match="does not match its CID"):
        codec.decode_block(cid, codec.encode({"a": 2}))
    assert codec.decode_block(CID.of(b"\xff\xff", RAW), b"\xff\xff") == b"\xff\xff"  # raw blocks are not decoded
    cidv0 = CID(b"\x12\x20" + bytes(32))
    with pytest.raises(CIDError, match="unsupported codec dag-pb"):
        codec.decode_block(cidv0, data)
    non_canonical = b"\xa1\x61a\x18\x01"
    with pytest.raises(DecodeError, match="shortest form"):
        codec.decode_block(CID.of(non_canonical), non_canonical)


# --- properties ---------------------------------------------------------------------------------------------


def reordered(value: Any, shuffle: random.Random) -> Any:
    """The same value with every map's insertion order shuffled."""
    if isinstance(value, dict):
        keys = list(value)
        shuffle.shuffle(keys)
        return {key: reordered(value[key], shuffle) for key in keys}
    if isinstance(value, list):
        return [reordered(item, shuffle) for item in value]
    return value


@given(values)
def test_round_trip(value: Any) -> None:
    data = codec.encode(value)
    assert codec.decode(data) == value
    assert codec.encode(codec.decode(data)) == data


@given(values, st.randoms(use_true_random=False))
def test_encoding_is_deterministic_and_ignores_insertion_order(value: Any, shuffle: random.Random) -> None:
    data = codec.encode(value)
    assert codec.encode(value) == data
    assert codec.encode(reordered(value, shuffle)) == data
    assert codec.encode_block(reordered(value, shuffle))[0] == CID.of(data)


@given(values)
def test_encoding_is_accepted_by_the_reference_reader(value: Any) -> None:
    # The pure-Python reader checks every rule item by item, independently of cbor2.
    assert codec._diagnose(codec.encode(value)) == value


def _verdict(data: bytes) -> tuple[bool, Any]:
    try:
        return True, codec.decode(data)
    except DecodeError:
        return False, None


def _reference_verdict(data: bytes) -> tuple[bool, Any]:
    try:
        return True, codec._diagnose(data)
    except DecodeError:
        return False, None


@settings(max_examples=300)
@given(values, st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0), st.integers(0, 255))))
def test_mutated_bytes_get_the_same_verdict_from_both_decoders(value: Any, edits: list[tuple[str, int, int]]) -> None:
    data = mutated(codec.encode(value), edits)
    accepted, decoded = _verdict(data)
    assert (accepted, decoded) == _reference_verdict(data)
    if accepted:
        assert codec.encode(decoded) == bytes(data)


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_random_bytes_get_the_same_verdict_from_both_decoders(data: bytes) -> None:
    assert _verdict(data) == _reference_verdict(data)
