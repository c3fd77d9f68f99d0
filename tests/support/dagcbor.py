"""DAG-CBOR cases the pure-Python codec and the C codec are both tested on: the IPLD conformance fixtures, the
hand-built byte strings of each decoding rule, and Hypothesis strategies of values and of mutated encodings."""

from __future__ import annotations

import json

import cbor2
from hypothesis import strategies as st

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR, RAW
from tests.support.paths import FIXTURES

CODEC_FIXTURES = FIXTURES / "ipld-codec-fixtures"
POSITIVE = sorted((CODEC_FIXTURES / "fixtures").iterdir())
NEGATIVE = [
    case
    for path in sorted((CODEC_FIXTURES / "negative-fixtures" / "dag-cbor" / "decode").glob("*.json"))
    for case in json.loads(path.read_text())
]
A_CID = CID.of(b"block", RAW)
A_CID_ITEM = b"\xd8\x2a\x58\x25\x00" + A_CID.bytes

# --- one table per decoding rule: hex strings (spaces allowed) and what each is refused for ------------------

NON_MINIMAL = [
    "1800",  # 0 in one extra byte
    "1817",  # 23 in one extra byte
    "1900ff",  # 255 in two bytes
    "1a0000ffff",  # 65535 in four bytes
    "1b00000000ffffffff",  # 2**32 - 1 in eight bytes
    "3800",  # -1 in one extra byte
    "3900ff",
    "3a0000ffff",
    "3b00000000ffffffff",
    "5800",  # byte string length
    "590001ab",
    "7800",  # text string length
    "9800",  # array length
    "b800",  # map length
    "81 1900ff",  # inside an array
]
SHORT_FLOATS = [("f93e00", 16), ("fa3fc00000", 32), ("82 01 f93e00", 16)]
NAN_AND_INFINITY = [
    ("fb7ff8000000000000", "NaN is not allowed"),
    ("fb7ff8000000000001", "NaN is not allowed"),
    ("fb7ff0000000000000", "Infinity is not allowed"),
    ("fbfff0000000000000", "-Infinity is not allowed"),
    ("f97e00", "NaN is not allowed"),
    ("f97c00", "Infinity is not allowed"),
    ("f9fc00", "-Infinity is not allowed"),
    ("fa7fc00000", "NaN is not allowed"),
    ("a1 6161 f97e00", "NaN is not allowed"),
]
SIMPLE_VALUES = [("e0", 0), ("f0", 16), ("f3", 19), ("f820", 32), ("f8ff", 255)]
OTHER_TAGS = sorted((set(range(64)) | set(codec._CBOR2_BUILTIN_TAGS) | {43, 2**16, 2**32, 2**64 - 1}) - {42})
TAGGED_CONTENTS = (b"\x00", b"\x41\x00", b"\x60", b"\xf6", b"\x80", A_CID_ITEM[2:])
TAG_42_CONTENTS = [
    (b"\x41\x01", "must start with the 0x00 multibase prefix"),
    (b"\x40", "must start with the 0x00 multibase prefix"),
    (b"\x58\x24" + A_CID.bytes, "must start with the 0x00 multibase prefix"),
    (b"\x61\x00", "must wrap a byte string"),
    (b"\x01", "must wrap a byte string"),
    (b"\x81\x41\x00", "must wrap a byte string"),
    (b"\x45\x00\x02\x55\x12\x00", "invalid CID: unsupported CID version 2"),
    (b"\x46\x00\x01\x71\x12\x20\xff", "invalid CID: CID digest length 1 does not match declared length 32"),
    (b"\x41\x00", "invalid CID: empty CID"),
]
INDEFINITE_LENGTHS = ["9f01ff", "bf616101ff", "5f4101ff", "7f616161ff", "9fff", "81 9f ff"]
UNSORTED_KEYS = [
    "a2 6162 01 6161 02",  # "b" before "a"
    "a2 626161 01 6162 02",  # "aa" before "b": shorter keys come first
    "a2 62c3a9 01 627a7a 02",  # "é" (c3 a9) before "zz" (7a 7a): same byte length, bytewise order
]
NON_STRING_KEYS = ["01", "20", "4100", "f6", "f5", "8101", "a0", "fb3ff8000000000000", A_CID_ITEM.hex()]
TRUNCATED = ["18", "1a0000", "6261", "4301", "8201", "a16161", "a1", "d82a", "fb3ff8", "f8"]
# (value, its encoding): floats are always written in 64 bits.
FLOATS = [
    (1.5, "fb3ff8000000000000"),
    (1.0, "fb3ff0000000000000"),
    (-0.0, "fb8000000000000000"),
    (5e-324, "fb0000000000000001"),
]


def tag_head(number: int) -> bytes:
    """The head of a CBOR tag ``number``, to put before its content."""
    return cbor2.dumps(cbor2.CBORTag(number, None))[:-1]


# --- properties ---------------------------------------------------------------------------------------------

cids = st.builds(CID.of, st.binary(max_size=8), st.sampled_from([DAG_CBOR, RAW]))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.binary(max_size=12)
    | cids
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=25,
)


def mutated(encoded: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    """``encoded`` after each edit: ``flip`` replaces a byte, ``insert`` adds one, ``delete`` removes one."""
    data = bytearray(encoded)
    for edit, where, byte in edits:
        at = where % (len(data) + 1)
        if edit == "insert":
            data.insert(at, byte)
        elif data and at < len(data):
            if edit == "flip":
                data[at] = byte
            else:
                del data[at]
    return bytes(data)
