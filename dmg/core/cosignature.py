"""Witness cosignatures of checkpoints (C2SP tlog-cosignature, https://c2sp.org/tlog-cosignature).

A witness (here: a registry mirroring another, after it checked the home's new checkpoint is consistent with every
one it saw before) signs ``cosignature/v1\\ntime <T>\\n`` followed by the checkpoint's body, ``T`` in seconds since the
Unix epoch. The signature line it adds to the note is ``— <witness name> <base64(key ID || T as 8 bytes big endian
|| Ed25519 signature)>``, the key ID being the first 4 bytes of SHA-256(name || 0x0A || 0x04 || public key), and its
verifier key ``<name>+<hex key ID>+<base64(0x04 || public key)>``. A note with cosignature lines is still a plain
signed note to anyone who does not know the witnesses: unknown signature lines are ignored.

A client requiring K witnesses counts the distinct witnesses it trusts whose cosignature of the checkpoint body
verifies (:func:`witnessed_by`): a split view then needs K of them to collude. This module knows nothing of logs or
trees; refusals are :class:`~dmg.core.errors.SignatureError` and :class:`~dmg.core.errors.KeyFileError`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dmg.core.checkpoint import MAX_SIGNATURES, SIGNATURE_PREFIX, parse_key_string
from dmg.core.errors import KeyFileError, SignatureError

ALG_COSIGNATURE_V1: Final = 0x04
_HEADER: Final = "cosignature/v1\ntime {time}\n"


def _key_id(name: str, raw: bytes) -> int:
    material = name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + raw
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def note_body(note: str) -> str:
    """The checkpoint body of a signed note: its text before the blank line, with the final newline."""
    split = note.find("\n\n")
    if split < 0:
        raise SignatureError("note has no blank line between its text and its signatures")
    return note[: split + 1]


def signature_lines(note: str) -> list[str]:
    """The signature lines of a signed note, as they stand."""
    body = note_body(note)
    return [line for line in note[len(body) + 1 :].split("\n") if line]


class WitnessVerifier:
    """A witness's cosignature key."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        self.name = name
        self._public_key = public_key
        self._raw = public_key.public_bytes_raw()
        self.key_id = _key_id(name, self._raw)

    @classmethod
    def from_vkey(cls, text: str) -> WitnessVerifier:
        name, claimed, raw = parse_key_string(text, "", "witness key", ALG_COSIGNATURE_V1)
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw))
        if verifier.key_id != claimed:
            raise KeyFileError(f"witness key {name!r} claims key ID {claimed:08x}, the key has {verifier.key_id:08x}")
        return verifier

    def to_vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self._raw).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, body: str, line: str) -> int | None:
        """The time of this witness's cosignature ``line`` of ``body``; None when the line is not its, or does not
        verify."""
        if not line.startswith(f"{SIGNATURE_PREFIX}{self.name} "):
            return None
        try:
            blob = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
        except ValueError:
            return None
        if len(blob) != 4 + 8 + 64 or int.from_bytes(blob[:4], "big") != self.key_id:
            return None
        time = int.from_bytes(blob[4:12], "big")
        try:
            self._public_key.verify(blob[12:], (_HEADER.format(time=time) + body).encode("utf-8"))
        except InvalidSignature:
            return None
        return time

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WitnessVerifier) and (self.name, self._raw) == (other.name, other._raw)

    def __hash__(self) -> int:
        return hash((self.name, self._raw))


class WitnessSigner:
    """A witness's cosignature key, private."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.verifier = WitnessVerifier(name, private_key.public_key())

    def cosign(self, body: str, time: int) -> str:
        """The cosignature line of checkpoint ``body`` at ``time`` (seconds)."""
        signature = self._private_key.sign((_HEADER.format(time=time) + body).encode("utf-8"))
        blob = self.verifier.key_id.to_bytes(4, "big") + time.to_bytes(8, "big") + signature
        return f"{SIGNATURE_PREFIX}{self.verifier.name} {base64.b64encode(blob).decode('ascii')}"


def with_cosignatures(note: str, lines: Iterable[str]) -> str:
    """``note`` with ``lines`` appended to its signatures (each line once), within the note's signature limit."""
    present = signature_lines(note)
    added = [line for line in dict.fromkeys(lines) if line not in present]
    room = max(0, MAX_SIGNATURES - len(present))
    return note + "".join(f"{line}\n" for line in added[:room])


def witnessed_by(note: str, witnesses: Iterable[WitnessVerifier]) -> set[str]:
    """The names of the ``witnesses`` whose cosignature of the note's checkpoint verifies."""
    body = note_body(note)
    lines = signature_lines(note)
    return {witness.name for witness in witnesses if any(witness.verify(body, line) is not None for line in lines)}
