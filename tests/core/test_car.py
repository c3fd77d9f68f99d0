import hashlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmg.core import codec
from dmg.core.car import MAX_BLOCK_SIZE, Car, CarWriter, iter_car, read_car, write_car
from dmg.core.cid import CID, RAW, write_varint
from dmg.core.errors import CARError, TooLargeError


def raw_block(data: bytes) -> tuple[CID, bytes]:
    return CID.of(data, RAW), data


def car_with_header(header: object) -> bytes:
    encoded = codec.encode(header)
    return write_varint(len(encoded)) + encoded


def section(cid_bytes: bytes, data: bytes) -> bytes:
    return write_varint(len(cid_bytes) + len(data)) + cid_bytes + data


class TrickleStream(io.RawIOBase):
    """A raw stream that returns at most a few bytes per read, as pipes and sockets may."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:
        piece = self._data[self._pos : self._pos + min(len(buffer), self._step)]
        buffer[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)


ROOT, HELLO = raw_block(b"hello")
EMPTY_CAR = write_car([ROOT], [])
HEADER_END = len(EMPTY_CAR)


# --- the format, by hand --------------------------------------------------------------------------------------


def test_hand_computed_bytes_for_a_known_root() -> None:
    assert str(ROOT) == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    cid = bytes.fromhex("01551220") + bytes.fromhex("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    header = (
        b"\xa2"  # map of 2
        + b"\x65roots"
        + b"\x81"  # array of 1
        + b"\xd8\x2a\x58\x25\x00"  # tag 42, bytes(37), identity multibase prefix
        + cid
        + b"\x67version"
        + b"\x01"
    )
    assert len(header) == 0x3A
    expected = b"\x3a" + header + b"\x29" + cid + b"hello"  # section: 36 CID bytes + 5 data bytes = 0x29
    assert write_car([ROOT], [(ROOT, HELLO)]) == expected
    car = read_car(expected)
    assert car == Car(roots=(ROOT,), blocks={ROOT: b"hello"})


def test_reads_cidv0_and_identity_blocks() -> None:
    dag_pb = b"\x0a\x02\x08\x01"
    cidv0 = b"\x12\x20" + hashlib.sha256(dag_pb).digest()
    identity = b"\x01\x55\x00\x03abc"
    data = EMPTY_CAR + section(cidv0, dag_pb) + section(identity, b"abc")
    car = read_car(data)
    assert list(car.blocks) == [CID(cidv0), CID(identity)]
    assert car.blocks[CID(identity)] == b"abc"


def test_identity_block_with_other_bytes_is_refused() -> None:
    identity = b"\x01\x55\x00\x03abc"
    with pytest.raises(CARError, match=f"block at byte {HEADER_END} does not match"):
        read_car(EMPTY_CAR + section(identity, b"abd"))


# --- round trips ------------------------------------------------------------------------------------------------


def test_round_trip_keeps_roots_blocks_and_order() -> None:
    blocks = [raw_block(bytes([n]) * n) for n in range(5)] + [codec.encode_block({"a": [1, 2, {"b": None}]})]
    roots = [blocks[-1][0], blocks[2][0]]
    car = read_car(write_car(roots, blocks))
    assert car.roots == tuple(roots)
    assert list(car.blocks.items()) == blocks


def test_empty_roots_and_no_blocks_are_valid() -> None:
    assert read_car(write_car([], [])) == Car(roots=(), blocks={})


def test_writer_streams_to_a_file_and_iter_car_reads_it_back(tmp_path) -> None:
    blocks = [raw_block(f"block {n}".encode() * 1000) for n in range(20)]
    path = tmp_path / "blocks.car"
    with path.open("wb") as out:
        writer = CarWriter(out, [blocks[0][0]])
        for cid, data in blocks:
            writer.add(cid, data)
    with path.open("rb") as stream:
        reader = iter_car(stream)
        assert reader.roots == (blocks[0][0],)
        assert list(reader) == blocks


def test_iter_car_handles_short_reads() -> None:
    blocks = [raw_block(bytes(range(256)) * n) for n in range(1, 6)]
    reader = iter_car(TrickleStream(write_car([blocks[0][0]], blocks)))
    assert reader.roots == (blocks[0][0],)
    assert list(reader) == blocks


def test_iter_car_raises_at_the_bad_section_after_yielding_good_ones() -> None:
    good = raw_block(b"good")
    bad_cid = CID.of(b"expected", RAW).bytes
    reader = iter_car(io.BytesIO(write_car([], [good]) + section(bad_cid, b"tampered")))
    assert next(reader) == good
    with pytest.raises(CARError, match="does not match its CID"):
        next(reader)


def test_writer_skips_a_duplicate_and_reader_accepts_duplicates_once() -> None:
    block = raw_block(b"twice")
    written = write_car([block[0]], [block, block])
    assert written == write_car([block[0]], [block])
    doubled = written + section(block[0].bytes, block[1])
    assert read_car(doubled).blocks == {block[0]: b"twice"}
    assert list(iter_car(io.BytesIO(doubled))) == [block]


def test_writer_refuses_a_block_that_does_not_match_its_cid() -> None:
    with pytest.raises(CARError, match="do not match the CID"):
        write_car([], [(CID.of(b"one", RAW), b"two")])


def test_writer_refuses_non_cid_roots_and_keys() -> None:
    with pytest.raises(CARError, match=r"roots\[1\] is str"):
        write_car([ROOT, str(ROOT)], [])  # type: ignore[list-item]
    with pytest.raises(CARError, match="block key is bytes"):
        write_car([], [(ROOT.bytes, HELLO)])  # type: ignore[list-item]


def test_writer_refuses_an_unsupported_multihash() -> None:
    blake2b = CID(b"\x01\x55\xa0\xe4\x02\x20" + bytes(32))
    with pytest.raises(CARError, match="unsupported multihash"):
        write_car([], [(blake2b, b"x")])


# --- malformed headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "missing CAR header at byte 0"),
        (b"\x80", "truncated header length at byte 0"),
        (b"\xff" * 10 + b"\x01", "invalid header length at byte 0"),
        (b"\x80\x00", "invalid header length at byte 0"),
        (b"\x00", "empty CAR header at byte 1"),
        (b"\x10\xa0", "truncated CAR header at byte 1: it declares 16 bytes but only 1 remain"),
        (b"\x02\xa0\xff", "CAR header at byte 1 is not valid DAG-CBOR"),
    ],
)
def test_malformed_header_framing(data: bytes, message: str) -> None:
    with pytest.raises(CARError, match=message):
        read_car(data)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([1, [ROOT]], "must be a map, got list"),
        ({"roots": [ROOT]}, "lacks 'version'"),
        ({"version": 1}, "lacks 'roots'"),
        ({"version": 1, "roots": [], "extra": 0}, "unknown keys 'extra'"),
        ({"version": 2, "roots": []}, r"version 2; only version 1 is supported \(CARv2 is not supported\)"),
        ({"version": "1", "roots": []}, "version '1'"),
        ({"version": 1.0, "roots": []}, "version 1.0"),
        ({"version": True, "roots": []}, "version True"),
        ({"version": 1, "roots": ROOT}, "roots must be a list of CIDs, got CID"),
        ({"version": 1, "roots": None}, "roots must be a list of CIDs, got NoneType"),
        ({"version": 1, "roots": [ROOT, 5]}, r"roots\[1\] is int, not a CID"),
        ({"version": 1, "roots": [ROOT.bytes]}, r"roots\[0\] is bytes, not a CID"),
    ],
)
def test_malformed_header_content(header: object, message: str) -> None:
    with pytest.raises(CARError, match=f"CAR header at byte 1.*{message}"):
        read_car(car_with_header(header))


def test_non_canonical_header_is_refused() -> None:
    unsorted = b"\xa2\x67version\x01\x65roots\x80"
    with pytest.raises(CARError, match="not valid DAG-CBOR"):
        read_car(write_varint(len(unsorted)) + unsorted)


def test_header_over_the_limit_is_too_large() -> None:
    header = car_with_header({"version": 1, "roots": [ROOT] * 20})
    with pytest.raises(TooLargeError, match="CAR header at byte 2 declares"):
        read_car(header, max_block_size=100)


# --- malformed sections ------------------------------------------------------------------------------------


def test_truncated_section() -> None:
    data = write_car([ROOT], [(ROOT, HELLO)])
    with pytest.raises(CARError, match=f"truncated section at byte {HEADER_END}: it declares 41 bytes but only 40"):
        read_car(data[:-1])


def test_section_cut_inside_its_cid() -> None:
    data = EMPTY_CAR + section(ROOT.bytes, HELLO)
    with pytest.raises(CARError, match=f"truncated section at byte {HEADER_END}"):
        read_car(data[: HEADER_END + 10])


def test_zero_length_section() -> None:
    data = write_car([ROOT], [(ROOT, HELLO)]) + b"\x00"
    with pytest.raises(CARError, match=f"zero-length section at byte {HEADER_END + 42}"):
        read_car(data)


@pytest.mark.parametrize("garbage", [b"\x80", b"\xff\xff\xff", b"\x05ab", b"\x03abc"])
def test_trailing_garbage(garbage: bytes) -> None:
    data = write_car([ROOT], [(ROOT, HELLO)])
    with pytest.raises(CARError, match=f"at byte {len(data)}"):
        read_car(data + garbage)


@pytest.mark.parametrize(
    ("cid_bytes", "message"),
    [
        (b"\x02\x55\x12\x20" + bytes(32), "unsupported CID version 2 at byte {cid}"),
        (b"\x00\x55\x12\x20" + bytes(32), "unsupported CID version 0 at byte {cid}"),
        (b"\x01\x80\x00\x12\x20" + bytes(32), "malformed CID codec varint at byte {cid_plus_1}"),
        (b"\x01\x55\x12\xff", "malformed multihash length varint at byte {cid_plus_3}"),
        (b"\x01\x55\x12\x7f" + bytes(8), "its CID at byte {cid} runs past the end of the section"),
    ],
)
def test_cid_errors_inside_a_section(cid_bytes: bytes, message: str) -> None:
    cid_offset = HEADER_END + 1
    expected = message.format(cid=cid_offset, cid_plus_1=cid_offset + 1, cid_plus_3=cid_offset + 3)
    with pytest.raises(CARError, match=f"section at byte {HEADER_END}: {expected}"):
        read_car(EMPTY_CAR + section(cid_bytes, b""))


def test_unsupported_multihash_in_a_section() -> None:
    blake2b = b"\x01\x55\xa0\xe4\x02\x20" + bytes(32)
    with pytest.raises(CARError, match=f"block at byte {HEADER_END} cannot be verified: unsupported multihash"):
        read_car(EMPTY_CAR + section(blake2b, b"x"))


def test_block_not_matching_its_cid() -> None:
    with pytest.raises(CARError, match=f"block at byte {HEADER_END} does not match its CID {ROOT}"):
        read_car(EMPTY_CAR + section(ROOT.bytes, b"hellO"))


def test_block_over_the_size_limit() -> None:
    big = raw_block(bytes(1001))
    data = write_car([], [big])
    assert read_car(data, max_block_size=1001).blocks == dict([big])
    with pytest.raises(TooLargeError, match=r"block \S+ at byte \d+ is 1001 bytes, over the 1000-byte limit"):
        read_car(data, max_block_size=1000)


def test_section_length_over_the_limit_is_refused_before_reading() -> None:
    header = write_car([], [])
    declared = MAX_BLOCK_SIZE + 1000
    stream = io.BytesIO(header + write_varint(declared) + b"only a few bytes")
    with pytest.raises(TooLargeError, match=f"section at byte {len(header)} declares {declared} bytes"):
        list(iter_car(stream))


def test_too_many_blocks() -> None:
    data = write_car([], [raw_block(bytes([n])) for n in range(3)])
    assert len(read_car(data, max_blocks=3).blocks) == 3
    with pytest.raises(TooLargeError, match="more than 2 blocks"):
        read_car(data, max_blocks=2)


@pytest.mark.parametrize("size", [0, 1, 91, 92, 16_347, 16_348, 70_000])
def test_blocks_on_both_sides_of_each_section_length_size_read_back(size: int) -> None:
    """Section lengths framed in one, two and three varint bytes, read whole and in small pieces."""
    blocks = [raw_block(bytes(range(256)) * (size // 256) + bytes(size % 256)), raw_block(b"next")]
    assert read_car(write_car([], blocks)).blocks == dict(blocks)
    assert dict(iter_car(TrickleStream(write_car([], blocks), step=1000))) == dict(blocks)


def test_non_minimal_section_length_is_refused() -> None:
    framed = ROOT.bytes + HELLO
    with pytest.raises(CARError, match=f"invalid section length at byte {HEADER_END}: not a minimal varint"):
        read_car(EMPTY_CAR + bytes([0x80 | len(framed), 0x00]) + framed)


def test_read_car_returns_nothing_when_a_late_block_is_bad() -> None:
    good = [raw_block(bytes([n]) * 100) for n in range(10)]
    data = write_car([good[0][0]], good) + section(ROOT.bytes, b"bad")
    with pytest.raises(CARError, match="does not match"):
        read_car(data)


# --- properties --------------------------------------------------------------------------------------------

block_data = st.lists(st.binary(max_size=300), min_size=1, max_size=8)


@given(block_data, st.data())
def test_random_blocks_round_trip(payloads: list[bytes], data: st.DataObject) -> None:
    blocks = [raw_block(payload) for payload in payloads]
    roots = data.draw(st.lists(st.sampled_from([cid for cid, _ in blocks]), max_size=3))
    car = read_car(write_car(roots, blocks))
    assert car.roots == tuple(roots)
    assert car.blocks == dict(blocks)
    assert list(car.blocks) == list(dict(blocks))


@given(block_data.filter(lambda payloads: any(payloads)), st.data())
def test_corrupting_a_block_byte_is_always_detected(payloads: list[bytes], data: st.DataObject) -> None:
    blocks = [raw_block(payload) for payload in payloads]
    encoded = bytearray(write_car([], []))
    data_ranges = []
    for cid, payload in dict(blocks).items():
        encoded += write_varint(len(cid.bytes) + len(payload)) + cid.bytes
        data_ranges.extend(range(len(encoded), len(encoded) + len(payload)))
        encoded += payload
    position = data.draw(st.sampled_from(data_ranges))
    encoded[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CARError, match="does not match its CID"):
        read_car(bytes(encoded))


@given(block_data, st.data())
def test_corrupting_any_byte_never_yields_different_content(payloads: list[bytes], data: st.DataObject) -> None:
    blocks = [raw_block(payload) for payload in payloads]
    encoded = bytearray(write_car([blocks[0][0]], blocks))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    try:
        car = read_car(bytes(encoded))
    except (CARError, TooLargeError):
        return
    # Only framing that carries no content can change unnoticed: a root, or a CID's codec.
    assert set(car.blocks.values()) <= set(payloads)
    for cid, block in car.blocks.items():
        assert cid.matches(block)
