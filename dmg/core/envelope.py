"""Signed envelopes: a DAG-CBOR payload and the Ed25519 signatures over it.

The block form is ``{"payload": {...}, "signatures": [{"key": <34-byte multicodec key>, "sig": <64 bytes>}]}``.
Each signature covers :data:`SIGNING_DOMAIN` followed by the payload's DAG-CBOR bytes, so a signature made for a
DMG envelope can never be replayed as a signature over some other protocol's bytes (and vice versa). The CID of
the envelope block is the identity of whatever the payload describes.

An envelope is checked for shape here, and :meth:`Envelope.verify` checks every signature cryptographically. What
a payload means and which keys may sign it is decided by :mod:`dmg.core.records` and :mod:`dmg.core.namelog`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.errors import CodecError, RecordError, SignatureError
from dmg.core.keys import PublicKey, SigningKey

SIGNING_DOMAIN: Final = b"DMG-SIGNED-ENVELOPE-V1\x00"
MAX_SIGNATURES: Final = 16
_ENVELOPE_FIELDS: Final = frozenset({"payload", "signatures"})
_SIGNATURE_FIELDS: Final = frozenset({"key", "sig"})


def signing_input(payload_bytes: bytes) -> bytes:
    """The exact bytes an envelope signature covers."""
    return SIGNING_DOMAIN + payload_bytes


@dataclass(frozen=True, slots=True)
class Signature:
    key: PublicKey
    sig: bytes

    def to_dict(self) -> dict[str, bytes]:
        return {"key": self.key.multicodec, "sig": self.sig}

    @classmethod
    def from_dict(cls, data: Any) -> Signature:
        if type(data) is not dict or data.keys() != _SIGNATURE_FIELDS:
            raise SignatureError("each signature must be a map with exactly 'key' and 'sig'")
        sig = data["sig"]
        if type(sig) is not bytes or len(sig) != 64:
            raise SignatureError("signature 'sig' must be 64 bytes")
        return cls(PublicKey.from_multicodec(data["key"]), sig)


_PAYLOAD_START: Final = 1 + len(codec.encode("payload"))
_SIGNATURES_KEY: Final = codec.encode("signatures")


def _payload_slice(block: bytes, signatures: list[dict[str, bytes]]) -> bytes:
    """The payload's bytes cut out of a canonical envelope block, instead of encoding the payload again.

    Canonical key order puts ``payload`` (7 bytes) before ``signatures`` (10 bytes), so the block is
    ``a2 | "payload" | <payload> | "signatures" | <signatures>`` and the payload ends where the tail begins.
    """
    tail = _SIGNATURES_KEY + codec.encode(signatures)
    end = len(block) - len(tail)
    if end <= _PAYLOAD_START or not block.endswith(tail):
        raise RecordError("envelope block is not laid out as {payload, signatures}")
    return block[_PAYLOAD_START:end]


class Envelope:
    """A payload with one or more signatures; immutable once built."""

    __slots__ = ("_block", "_data", "_payload_bytes", "_signers", "payload", "signatures")

    def __init__(self, payload: Mapping[str, Any], signatures: Iterable[Signature]) -> None:
        if type(payload) is not dict and not isinstance(payload, Mapping):
            raise RecordError("envelope 'payload' must be a map")
        self.payload: dict[str, Any] = dict(payload)
        self.signatures: tuple[Signature, ...] = tuple(signatures)
        if not self.signatures:
            raise SignatureError("envelope has no signatures")
        if len(self.signatures) > MAX_SIGNATURES:
            raise SignatureError(f"envelope has more than {MAX_SIGNATURES} signatures")
        self._signers = frozenset(s.key for s in self.signatures)
        if len(self._signers) != len(self.signatures):
            raise SignatureError("envelope is signed twice by the same key")
        self._payload_bytes: bytes | None = None
        self._data: bytes | None = None
        self._block: tuple[CID, bytes] | None = None

    @classmethod
    def sign(cls, payload: Mapping[str, Any], keys: Iterable[SigningKey]) -> Envelope:
        payload_bytes = codec.encode(payload)
        message = signing_input(payload_bytes)
        envelope = cls(payload, [Signature(key.public_key, key.sign(message)) for key in keys])
        envelope._payload_bytes = payload_bytes
        return envelope

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        if type(data) is not dict or data.keys() != _ENVELOPE_FIELDS:
            raise RecordError("an envelope is a map with exactly 'payload' and 'signatures'")
        signatures = data["signatures"]
        if type(signatures) is not list:
            raise SignatureError("envelope 'signatures' must be a list")
        return cls(data["payload"], [Signature.from_dict(item) for item in signatures])

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        """Parse an envelope block (strict DAG-CBOR); does not verify signatures."""
        value = codec.decode(data)
        envelope = cls.from_dict(value)
        envelope._data = data
        # from_dict has checked that the decoded signatures are exactly what the Signature objects hold.
        envelope._payload_bytes = _payload_slice(data, value["signatures"])
        return envelope

    def to_dict(self) -> dict[str, Any]:
        return {"payload": self.payload, "signatures": [s.to_dict() for s in self.signatures]}

    @property
    def payload_bytes(self) -> bytes:
        if self._payload_bytes is None:
            self._payload_bytes = codec.encode(self.payload)
        return self._payload_bytes

    def block(self) -> tuple[CID, bytes]:
        """The ``(cid, bytes)`` of the envelope block."""
        if self._block is None:
            # A decoded envelope hashes its block only when asked: verifying one does not need its CID.
            data = self._data
            self._block = codec.encode_block(self.to_dict()) if data is None else (CID.of(data, DAG_CBOR), data)
        return self._block

    @property
    def cid(self) -> CID:
        return self.block()[0]

    @property
    def signers(self) -> frozenset[PublicKey]:
        return self._signers

    def countersigned(self, key: SigningKey) -> Envelope:
        """This envelope with one more signature over the same payload (co-signers, m-of-n, operator admission)."""
        signature = Signature(key.public_key, key.sign(signing_input(self.payload_bytes)))
        envelope = Envelope(self.payload, [*self.signatures, signature])
        envelope._payload_bytes = self._payload_bytes
        return envelope

    def verify(self) -> frozenset[PublicKey]:
        """Check every signature; return the signing keys or raise :class:`SignatureError`."""
        try:
            message = signing_input(self.payload_bytes)
        except CodecError as exc:
            raise RecordError(f"envelope payload is not encodable: {exc}") from exc
        for signature in self.signatures:
            if not signature.key.verify(signature.sig, message):
                raise SignatureError(f"signature by {signature.key.did} does not verify")
        return self.signers
