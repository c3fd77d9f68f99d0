"""Content identifiers (CIDs).

A :class:`CID` wraps the binary form of a CID and nothing else: comparing, hashing and storing it costs no
parsing, which keeps the hot paths (encoding records, verifying blocks, SQLite keys) fast. Its parts (version,
codec, multihash) are read on demand, without parsing for the CIDs DMG makes itself. DMG creates CIDv1 with
codec dag-cbor (0x71) or raw (0x55) and multihash sha2-256, printed in lowercase base32 (``bafy...``); links
read from foreign blocks may be any well-framed CID (including CIDv0) and are preserved byte for byte.

The base32 text form of CIDv1 is produced and parsed here directly; other multibases (and CIDv0's base58btc)
go through the ``multiformats`` package, at the edges only.

This module does not know about blocks or codecs beyond their multicodec numbers.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
from collections.abc import Callable
from typing import Final

from multiformats import CID as _MultiformatsCID

from dmg.core.errors import CIDError

DAG_CBOR: Final = 0x71
RAW: Final = 0x55
DAG_PB: Final = 0x70
SHA2_256: Final = 0x12
IDENTITY: Final = 0x00

_CODEC_NAMES: Final = {DAG_CBOR: "dag-cbor", RAW: "raw", DAG_PB: "dag-pb"}
_MAX_VARINT_BYTES: Final = 9


def read_varint(data: bytes | memoryview, offset: int = 0) -> tuple[int, int]:
    """Read an unsigned LEB128 varint at ``offset``; return ``(value, next_offset)``.

    Raises :class:`CIDError` for a truncated or non-minimal varint, or one longer than 9 bytes (the
    multiformats unsigned-varint limit).
    """
    value = 0
    shift = 0
    start = offset
    while True:
        if offset >= len(data):
            raise CIDError(f"truncated varint at byte {start}")
        if offset - start == _MAX_VARINT_BYTES:
            raise CIDError(f"varint longer than {_MAX_VARINT_BYTES} bytes at byte {start}")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and offset - start > 1:
                raise CIDError(f"non-minimal varint at byte {start}")
            return value, offset
        shift += 7


def write_varint(value: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# The 4-byte prefix (version 1, codec, sha2-256, length 32) of every CID DMG makes, mapped to its codec.
_PREFIXES: Final = {
    codec: write_varint(1) + write_varint(codec) + write_varint(SHA2_256) + write_varint(32)
    for codec in (DAG_CBOR, RAW)
}
_PREFIX_CODECS: Final = {prefix: codec for codec, prefix in _PREFIXES.items()}
_OWN_LENGTH: Final = 4 + 32


def _parse_binary(raw: bytes) -> tuple[int, int, int, int]:
    """Return ``(version, codec, hash_code, digest_offset)`` of a binary CID, validating its framing."""
    if len(raw) == 34 and raw[0] == SHA2_256 and raw[1] == 32:
        return 0, DAG_PB, SHA2_256, 2
    if not raw:
        raise CIDError("empty CID")
    version, offset = read_varint(raw, 0)
    if version != 1:
        raise CIDError(f"unsupported CID version {version}")
    codec, offset = read_varint(raw, offset)
    hash_code, offset = read_varint(raw, offset)
    length, offset = read_varint(raw, offset)
    if len(raw) - offset != length:
        raise CIDError(f"CID digest length {len(raw) - offset} does not match declared length {length}")
    return version, codec, hash_code, offset


class CID:
    """An immutable CID held in binary form; equal, hashable and ordered by its bytes."""

    __slots__ = ("_raw",)

    _raw: bytes

    def __init__(self, raw: bytes | bytearray | memoryview) -> None:
        if type(raw) is not bytes:
            if not isinstance(raw, (bytes, bytearray, memoryview)):
                raise CIDError(f"a binary CID must be bytes, not {type(raw).__name__}")
            raw = bytes(raw)
        if len(raw) != _OWN_LENGTH or raw[:4] not in _PREFIX_CODECS:
            _parse_binary(raw)
        _set_raw(self, raw)

    @classmethod
    def _trusted(cls, raw: bytes) -> CID:
        """Wrap bytes this module just built; skips validation on hot paths."""
        cid = object.__new__(cls)
        _set_raw(cid, raw)
        return cid

    @classmethod
    def of(cls, data: bytes, codec: int = DAG_CBOR) -> CID:
        """The CIDv1 (sha2-256) of ``data`` under ``codec`` (dag-cbor or raw)."""
        prefix = _PREFIXES.get(codec)
        if prefix is None:
            raise CIDError(f"DMG makes CIDs for dag-cbor (0x71) and raw (0x55) only, not codec 0x{codec:x}")
        return cls._trusted(prefix + hashlib.sha256(data).digest())

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse a CID from its text form: lowercase base32 CIDv1 directly, any other multibase or CIDv0 too."""
        if not isinstance(text, str) or not text:
            raise CIDError("a CID must be a non-empty string")
        if text[0] == "b" and text.isascii() and text.islower():
            try:
                raw = base64.b32decode(text[1:].upper() + "=" * (-(len(text) - 1) % 8))
            except ValueError as exc:
                raise CIDError(f"invalid CID {text!r}: bad base32") from exc
            cid = cls(raw)
            if str(cid) != text:
                raise CIDError(f"invalid CID {text!r}: not canonical base32 (stray bits after the last byte)")
            return cid
        try:
            raw = bytes(_MultiformatsCID.decode(text))
        except Exception as exc:  # multiformats raises assorted error types for malformed text
            raise CIDError(f"invalid CID {text!r}: {exc}") from exc
        return cls(raw)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CID is immutable")

    @property
    def bytes(self) -> bytes:
        """The binary CID (what tag 42 carries after its 0x00 prefix)."""
        return self._raw

    @property
    def version(self) -> int:
        return _parse_binary(self._raw)[0]

    @property
    def codec(self) -> int:
        """The multicodec code of the content (0x71 dag-cbor, 0x55 raw, ...)."""
        codec = _PREFIX_CODECS.get(self._raw[:4]) if len(self._raw) == _OWN_LENGTH else None
        return _parse_binary(self._raw)[1] if codec is None else codec

    @property
    def hash_code(self) -> int:
        """The multihash function code (0x12 sha2-256, 0x00 identity, ...)."""
        return _parse_binary(self._raw)[2]

    @property
    def digest(self) -> builtins.bytes:
        return self._raw[_parse_binary(self._raw)[3] :]

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES.get(self.codec, f"0x{self.codec:x}")

    def matches(self, data: builtins.bytes) -> bool:
        """True when ``data`` hashes to this CID's digest (sha2-256 or identity)."""
        raw = self._raw
        if len(raw) == _OWN_LENGTH and raw[:4] in _PREFIX_CODECS:
            return hashlib.sha256(data).digest() == raw[4:]
        _, _, hash_code, offset = _parse_binary(raw)
        if hash_code == SHA2_256:
            return hashlib.sha256(data).digest() == raw[offset:]
        if hash_code == IDENTITY:
            return data == raw[offset:]
        raise CIDError(f"unsupported multihash 0x{hash_code:x} in {self}")

    def verify(self, data: builtins.bytes) -> None:
        """Raise :class:`CIDError` unless ``data`` is the block this CID names."""
        if not self.matches(data):
            raise CIDError(f"block does not match its CID {self}")

    def __str__(self) -> str:
        if self._raw[0] == SHA2_256:  # CIDv0: a bare sha2-256 multihash, printed base58btc
            return str(_MultiformatsCID.decode(self._raw))
        return "b" + base64.b32encode(self._raw).decode("ascii").rstrip("=").lower()

    def __repr__(self) -> str:
        return f"CID({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is CID and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __lt__(self, other: object) -> bool:
        if type(other) is not CID:
            return NotImplemented
        return self._raw < other._raw

    def __reduce__(self) -> tuple[type[CID], tuple[builtins.bytes]]:
        return (CID, (self._raw,))


# Slot assignment that bypasses the immutability guard in __setattr__. The slot's descriptor is read from the class
# dict: mypy takes ``CID._raw`` for the annotated instance attribute.
_set_raw: Final[Callable[[CID, bytes], None]] = vars(CID)["_raw"].__set__
