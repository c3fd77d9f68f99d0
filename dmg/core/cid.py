"""Content identifiers (CIDs).

A :class:`CID` wraps the binary form of a CID and nothing else: comparing, hashing and storing it costs no
parsing, which keeps the hot paths (encoding records, verifying blocks, SQLite keys) fast. Its parts (version,
codec, multihash) are parsed on demand. DMG itself creates CIDv1 with codecs dag-cbor (0x71) or raw (0x55) and
multihash sha2-256, printed in lowercase base32 (``bafy...``); links read from foreign blocks may be any CID
(including CIDv0) and are preserved byte for byte.

The text form of CIDv1 in base32 is produced here directly; other multibases (and CIDv0's base58btc) go
through the ``multiformats`` package at the edges.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from multiformats import CID as _MultiformatsCID

from dmg.core.errors import CIDError

DAG_CBOR: Final = 0x71
RAW: Final = 0x55
SHA2_256: Final = 0x12
IDENTITY: Final = 0x00

_CODEC_NAMES: Final = {DAG_CBOR: "dag-cbor", RAW: "raw"}


def read_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read an unsigned LEB128 varint at ``offset``; return ``(value, next_offset)``.

    Raises :class:`CIDError` for a truncated or non-minimal varint, or one longer than 9 bytes.
    """
    value = 0
    shift = 0
    start = offset
    while True:
        if offset >= len(data):
            raise CIDError(f"truncated varint at byte {start}")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and offset - start > 1:
                raise CIDError(f"non-minimal varint at byte {start}")
            return value, offset
        shift += 7
        if shift > 63:
            raise CIDError(f"varint longer than 9 bytes at byte {start}")


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


def _parse_binary(raw: bytes) -> tuple[int, int, int, int]:
    """Return ``(version, codec, hash_code, digest_offset)`` of a binary CID, validating its framing."""
    if len(raw) == 34 and raw[0] == SHA2_256 and raw[1] == 32:
        return 0, 0x70, SHA2_256, 2
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
    """An immutable CID held in binary form."""

    __slots__ = ("_raw",)

    _raw: bytes

    def __init__(self, raw: bytes) -> None:
        raw = bytes(raw)
        _parse_binary(raw)
        object.__setattr__(self, "_raw", raw)

    @classmethod
    def _trusted(cls, raw: bytes) -> CID:
        """Wrap bytes this module just built; skips re-validation on hot paths."""
        cid = object.__new__(cls)
        object.__setattr__(cid, "_raw", raw)
        return cid

    @classmethod
    def of(cls, data: bytes, codec: int = DAG_CBOR) -> CID:
        """The CIDv1 (sha2-256) of ``data`` under ``codec``."""
        return cls._trusted(_PREFIXES[codec] + hashlib.sha256(data).digest())

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse a CID from its text form (any multibase, or base58btc CIDv0)."""
        if not isinstance(text, str) or not text:
            raise CIDError("CID must be a non-empty string")
        if text[0] == "b":
            body = text[1:]
            if body.islower() and body.isalnum():
                try:
                    raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
                except ValueError as exc:
                    raise CIDError(f"invalid CID {text!r}: bad base32") from exc
                return cls(raw)
        try:
            return cls(bytes(_MultiformatsCID.decode(text)))
        except CIDError:
            raise
        except Exception as exc:
            raise CIDError(f"invalid CID {text!r}: {exc}") from exc

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
        return _parse_binary(self._raw)[1]

    @property
    def hash_code(self) -> int:
        return _parse_binary(self._raw)[2]

    @property
    def digest(self) -> bytes:
        return self._raw[_parse_binary(self._raw)[3] :]

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES.get(self.codec, hex(self.codec))

    def matches(self, data: bytes) -> bool:
        """True when ``data`` hashes to this CID's digest (sha2-256 or identity)."""
        _, _, hash_code, offset = _parse_binary(self._raw)
        if hash_code == SHA2_256:
            return hashlib.sha256(data).digest() == self._raw[offset:]
        if hash_code == IDENTITY:
            return data == self._raw[offset:]
        raise CIDError(f"unsupported multihash 0x{hash_code:x} in {self}")

    def verify(self, data: bytes) -> None:
        """Raise :class:`CIDError` unless ``data`` is the block this CID names."""
        if not self.matches(data):
            raise CIDError(f"block does not match its CID {self}")

    def __str__(self) -> str:
        if self._raw[0] == SHA2_256:
            return str(_MultiformatsCID.decode(self._raw))
        return "b" + base64.b32encode(self._raw).decode("ascii").rstrip("=").lower()

    def __repr__(self) -> str:
        return f"CID({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CID) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __lt__(self, other: CID) -> bool:
        return self._raw < other._raw

    def __reduce__(self) -> tuple[type[CID], tuple[bytes]]:
        return (CID, (self._raw,))


_PREFIXES: Final = {
    codec: write_varint(1) + write_varint(codec) + write_varint(SHA2_256) + write_varint(32)
    for codec in (DAG_CBOR, RAW)
}
