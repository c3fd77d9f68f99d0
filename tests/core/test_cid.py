"""CIDs: making, printing, parsing, comparing and verifying them, and the varints they are built from."""

from __future__ import annotations

import base64
import hashlib
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR, DAG_PB, IDENTITY, RAW, SHA2_256, read_varint, write_varint
from dmg.core.errors import CIDError

# The well-known CIDs of the empty block, as every IPFS implementation prints them.
EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_MAP_DAG_CBOR = "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua"
CIDV0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"


def test_of_raw_and_dag_cbor_match_the_well_known_cids() -> None:
    assert str(CID.of(b"", RAW)) == EMPTY_RAW
    assert str(CID.of(codec.encode({}), DAG_CBOR)) == EMPTY_MAP_DAG_CBOR
    assert str(CID.of(codec.encode({}))) == EMPTY_MAP_DAG_CBOR  # dag-cbor is the default


def test_parts_of_own_cids() -> None:
    cid = CID.of(b"hello", RAW)
    assert (cid.version, cid.codec, cid.codec_name, cid.hash_code) == (1, RAW, "raw", SHA2_256)
    assert cid.digest == hashlib.sha256(b"hello").digest()
    assert cid.bytes == b"\x01\x55\x12\x20" + cid.digest
    assert CID.of(b"x").codec_name == "dag-cbor"


def test_of_refuses_codecs_dmg_does_not_make() -> None:
    with pytest.raises(CIDError, match=r"dag-cbor \(0x71\) and raw \(0x55\) only, not codec 0x70"):
        CID.of(b"x", DAG_PB)


@pytest.mark.parametrize("text", [EMPTY_RAW, EMPTY_MAP_DAG_CBOR, CIDV0])
def test_parse_and_print_round_trip(text: str) -> None:
    cid = CID.parse(text)
    assert str(cid) == text
    assert CID(cid.bytes) == cid
    assert repr(cid) == f"CID({text!r})"


def test_cidv0_parts() -> None:
    cid = CID.parse(CIDV0)
    assert (cid.version, cid.codec, cid.codec_name, cid.hash_code) == (0, DAG_PB, "dag-pb", SHA2_256)
    assert len(cid.bytes) == 34 and cid.digest == cid.bytes[2:]


def test_parse_accepts_other_multibases_of_the_same_cid() -> None:
    cid = CID.parse(EMPTY_RAW)
    upper = "B" + EMPTY_RAW[1:].upper()  # base32upper
    base58 = "z" + _base58(cid.bytes)  # base58btc
    assert CID.parse(upper) == cid
    assert CID.parse(base58) == cid
    assert str(CID.parse(base58)) == EMPTY_RAW  # always printed as base32


def _base58(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + out


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "non-empty"),
        ("b", "empty CID"),
        ("bafy!!!", "bad base32"),
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk1", "bad base32"),
        (EMPTY_RAW[:-8], "digest length"),
        (EMPTY_RAW[:-1] + "v", "not canonical base32"),
        ("Qm" + "1" * 44, "invalid CID"),
        ("not a cid", "invalid CID"),
        ("?abc", "invalid CID"),
    ],
)
def test_parse_refuses_bad_text(text: str, reason: str) -> None:
    with pytest.raises(CIDError, match=reason):
        CID.parse(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(CIDError, match="non-empty string"):
        CID.parse(CID.of(b"").bytes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty CID"),
        (b"\x02\x55\x12\x20" + bytes(32), "unsupported CID version 2"),
        (b"\x00\x55\x12\x20" + bytes(32), "unsupported CID version 0"),
        (b"\x01\x55\x12\x20" + bytes(31), "digest length 31 does not match declared length 32"),
        (b"\x01\x55\x12\x20" + bytes(33), "digest length 33 does not match declared length 32"),
        (b"\x01\xf1", "truncated varint"),
        (b"\x01\x80\x00\x12\x00", "non-minimal varint"),
        (b"\x01" + b"\xff" * 9 + b"\x01", "longer than 9 bytes"),
    ],
)
def test_binary_cids_are_validated(raw: bytes, reason: str) -> None:
    with pytest.raises(CIDError, match=reason):
        CID(raw)


def test_binary_cid_must_be_bytes() -> None:
    with pytest.raises(CIDError, match="must be bytes, not str"):
        CID(EMPTY_RAW)  # type: ignore[arg-type]
    assert CID(bytearray(CID.of(b"").bytes)) == CID.of(b"")
    assert CID(memoryview(CID.of(b"").bytes)) == CID.of(b"")


def test_foreign_cids_are_kept_byte_for_byte() -> None:
    identity = b"\x01\x55\x00\x03abc"
    blake2b = b"\x01\x71\xa0\xe4\x02\x20" + bytes(32)
    assert CID(identity).bytes == identity and CID(identity).hash_code == IDENTITY
    assert CID(blake2b).codec == DAG_CBOR and CID(blake2b).hash_code == 0xB220
    assert CID.parse(str(CID(blake2b))) == CID(blake2b)


def test_equality_hash_and_order_follow_the_bytes() -> None:
    a, b = CID.of(b"a", RAW), CID.of(b"b", RAW)
    assert a == CID(a.bytes) and hash(a) == hash(CID(a.bytes))
    assert a != b and a != a.bytes and a != str(a)
    assert len({a, CID(a.bytes), b}) == 2
    assert sorted([b, a]) == ([a, b] if a.bytes < b.bytes else [b, a])
    assert CID.of(b"a", RAW) != CID.of(b"a", DAG_CBOR)  # same digest, different codec
    with pytest.raises(TypeError):
        _ = a < a.bytes  # type: ignore[operator]


def test_cids_are_immutable_and_pickle() -> None:
    cid = CID.of(b"x")
    with pytest.raises(AttributeError, match="immutable"):
        cid._raw = b""  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(cid)) == cid


def test_verify_and_matches() -> None:
    cid = CID.of(b"block", RAW)
    assert cid.matches(b"block") and not cid.matches(b"other")
    cid.verify(b"block")
    with pytest.raises(CIDError, match="does not match its CID"):
        cid.verify(b"other")


def test_verify_foreign_hashes() -> None:
    cidv0 = CID(bytes([SHA2_256, 32]) + hashlib.sha256(b"pb").digest())
    assert cidv0.matches(b"pb") and not cidv0.matches(b"pc")
    identity = CID(b"\x01\x55\x00\x03abc")
    assert identity.matches(b"abc") and not identity.matches(b"abd")
    with pytest.raises(CIDError, match="unsupported multihash 0xb220"):
        CID(b"\x01\x71\xa0\xe4\x02\x20" + bytes(32)).verify(b"")


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 300, 16383, 16384, 2**32, 2**63 - 1])
def test_varint_round_trip(value: int) -> None:
    encoded = write_varint(value)
    assert read_varint(encoded) == (value, len(encoded))
    assert read_varint(b"\xff" + encoded, 1) == (value, len(encoded) + 1)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trip_property(value: int) -> None:
    encoded = write_varint(value)
    assert len(encoded) <= 9
    assert read_varint(encoded + b"tail") == (value, len(encoded))


def test_varint_refusals() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        write_varint(-1)
    with pytest.raises(CIDError, match="truncated varint at byte 0"):
        read_varint(b"\x80")
    with pytest.raises(CIDError, match="non-minimal varint at byte 1"):
        read_varint(b"\x00\x81\x00", 1)
    with pytest.raises(CIDError, match="longer than 9 bytes"):
        read_varint(b"\x80" * 9 + b"\x00")


def test_cidv0_links_survive_the_codec() -> None:
    cidv0 = CID.parse(CIDV0)
    data = codec.encode({"link": cidv0})
    assert data == b"\xa1\x64link\xd8\x2a\x58\x23\x00" + cidv0.bytes
    decoded = codec.decode(data)["link"]
    assert decoded == cidv0 and str(decoded) == CIDV0


def test_base32_text_is_lowercase_rfc4648_without_padding() -> None:
    cid = CID.of(b"abc")
    assert str(cid) == "b" + base64.b32encode(cid.bytes).decode().lower().rstrip("=")
