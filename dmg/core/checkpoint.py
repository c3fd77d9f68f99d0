"""Signed checkpoints of the transparency log: C2SP tlog-checkpoint bodies in C2SP signed notes.

A checkpoint names a log (its *origin*), a tree size and the RFC 6962 root hash at that size
(https://c2sp.org/tlog-checkpoint)::

    example.com/log
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

A registry signs it as a signed note (https://c2sp.org/signed-note): the body, a blank line, then one line per
signature, ``— <key name> <base64(4-byte key ID || Ed25519 signature)>``. Keys are written as in
golang.org/x/mod/sumdb/note, so Go tools and witnesses read them: a verifier key is
``<name>+<hex key ID>+<base64(0x01 || public key)>`` and a signer key ``PRIVATE+KEY+<name>+<hex key ID>+
<base64(0x01 || seed)>``, where the key ID is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).

DMG's checkpoints carry one extension line, ``timestamp <milliseconds since the Unix epoch>``, the time the log
signed it, so that a client can tell a fresh checkpoint from a replayed or frozen one (:class:`SignedCheckpoint`).
The operator's note key is named after the log's origin, as Go's checksum database does.

Parsing is strict and every refusal is typed: :class:`RecordError` for a malformed checkpoint body,
:class:`SignatureError` for a malformed or unverifiable note, :class:`KeyFileError` for a malformed key string.
Only Ed25519 note keys are supported. This module knows nothing about Merkle trees (see :mod:`dmg.core.tlog`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dmg.core.errors import KeyFileError, RecordError, SignatureError

ALG_ED25519: Final = 0x01
ROOT_HASH_SIZE: Final = 32
MAX_TREE_SIZE: Final = 2**64 - 1
# The spec asks verifiers to cap signatures (and to accept at least 16); Go's note package stops at 100.
MAX_SIGNATURES: Final = 100
SIGNATURE_PREFIX: Final = "\u2014 "
PRIVATE_KEY_PREFIX: Final = "PRIVATE+KEY+"

# At most 20 digits: 2**64 - 1 has 20, and Python refuses to convert very long digit strings anyway.
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


def _text_problem(text: str) -> str | None:
    """Why ``text`` cannot appear in a note (not UTF-8, or a control character other than newline), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    for position, char in enumerate(text):
        if char < " " and char != "\n":
            return f"holds control character {char!r} at position {position}"
    return None


def _name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid key name (non-empty, no Unicode space, no ``+``), or None."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if "+" in name:
        return "must not contain '+'"
    if any(char.isspace() for char in name):
        return "must not contain spaces"
    return _text_problem(name)


def _line_problem(line: object) -> str | None:
    """Why ``line`` cannot be one line of a checkpoint body (empty, not text, or more than one line), or None."""
    if not isinstance(line, str) or not line:
        return "must be a non-empty string"
    return _text_problem(line) or ("must be one line" if "\n" in line else None)


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def key_id(name: str, public_key: Ed25519PublicKey) -> int:
    """The note key ID of an Ed25519 key: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key.public_bytes_raw()
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def parse_key_string(text: str, prefix: str, what: str, algorithm: int = ALG_ED25519) -> tuple[str, int, bytes]:
    """Split ``<prefix><name>+<hex id>+<base64(algorithm || 32 bytes)>``; return name, key ID and the 32 bytes."""
    if not isinstance(text, str) or not text.startswith(prefix):
        raise KeyFileError(f"{what} must start with {prefix!r}" if prefix else f"{what} must be a string")
    # Names hold no '+', so the first two '+' delimit the fields; the base64 key may hold more.
    name, _, rest = text[len(prefix) :].partition("+")
    hex_id, separator, encoded = rest.partition("+")
    problem = _name_problem(name)
    if problem:
        raise KeyFileError(f"{what}: key name {problem}")
    if not separator or not _KEY_ID_HEX.fullmatch(hex_id):
        raise KeyFileError(f"{what} for {name!r}: expected <name>+<8 hex digit key ID>+<base64 key>")
    key = _decode_base64(encoded)
    if not key:
        raise KeyFileError(f"{what} for {name!r}: the key is not standard base64")
    if key[0] != algorithm:
        raise KeyFileError(f"{what} for {name!r}: key algorithm {key[0]}; expected {algorithm}")
    if len(key) != 33:
        raise KeyFileError(f"{what} for {name!r}: an Ed25519 key is 32 bytes, not {len(key) - 1}")
    return name, int(hex_id, 16), key[1:]


class NoteVerifier:
    """A named Ed25519 public key that checks note signatures."""

    __slots__ = ("_key_id", "_name", "_public_key", "_raw")

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        problem = _name_problem(name)
        if problem:
            raise KeyFileError(f"note key name {name!r} {problem}")
        self._name = name
        self._public_key = public_key
        self._raw = public_key.public_bytes_raw()
        self._key_id = key_id(name, public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        """Parse a verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        name, claimed_id, raw = parse_key_string(text, "", "verifier key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw))
        if verifier.key_id != claimed_id:
            raise KeyFileError(
                f"verifier key for {name!r} claims key ID {claimed_id:08x}, the key has {verifier.key_id:08x}"
            )
        return verifier

    def to_vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self._raw).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the key ID) is this key's signature of ``text``."""
        try:
            self._public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoteVerifier) and (self.name, self._raw) == (other.name, other._raw)

    def __hash__(self) -> int:
        return hash((self.name, self._raw))

    def __repr__(self) -> str:
        return f"NoteVerifier({self.to_vkey()!r})"


class NoteSigner:
    """A named Ed25519 private key that signs notes. Its :meth:`to_skey` text is a secret."""

    __slots__ = ("_private_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._verifier = NoteVerifier(name, private_key.public_key())

    @classmethod
    def from_skey(cls, text: str) -> NoteSigner:
        """Parse a signer key ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
        name, claimed_id, seed = parse_key_string(text, PRIVATE_KEY_PREFIX, "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if signer.key_id != claimed_id:
            raise KeyFileError(
                f"signer key for {name!r} claims key ID {claimed_id:08x}, the key has {signer.key_id:08x}"
            )
        return signer

    def to_skey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self._private_key.private_bytes_raw()).decode("ascii")
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id:08x}+{encoded}"

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    def verifier(self) -> NoteVerifier:
        return self._verifier

    def sign(self, text: bytes) -> bytes:
        return self._private_key.sign(text)

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key ID {self.key_id:08x})"


def sign_note(body: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``body`` (text ending in a newline) with each signer, in order; return the signed note."""
    problem = "must end with a newline" if isinstance(body, str) and not body.endswith("\n") else None
    problem = problem or ("must be a string" if not isinstance(body, str) else _text_problem(body))
    if problem:
        raise SignatureError(f"note text {problem}")
    if not signers:
        raise SignatureError("a note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise SignatureError(f"a note carries at most {MAX_SIGNATURES} signatures, not {len(signers)}")
    if len({(signer.name, signer.key_id) for signer in signers}) != len(signers):
        raise SignatureError("a signer key is listed twice")
    text = body.encode("utf-8")
    lines = []
    for signer in signers:
        signature = signer.key_id.to_bytes(4, "big") + signer.sign(text)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode('ascii')}\n")
    return body + "\n" + "".join(lines)


def _index_verifiers(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        # Two configured keys sharing name and key ID take a forged key; keeping the first fails closed, since
        # the other key's signatures then do not verify and the note is refused.
        known.setdefault((verifier.name, verifier.key_id), verifier)
    return known


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> tuple[str, tuple[str, ...]]:
    """Check a signed note against known keys; return its text and the names of the keys that signed it.

    Signatures by unknown keys (an unknown name, or a known name with another key ID) are ignored, as the spec
    requires; every signature by a known key must verify, and there must be one. Raises :class:`SignatureError`.
    """
    known = _index_verifiers(verifiers)
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SignatureError(f"note is not valid UTF-8 (byte {error.start})") from None
    problem = _text_problem(note)
    if problem:
        raise SignatureError(f"note {problem}")
    split = note.rfind("\n\n")
    if split < 0:
        raise SignatureError("note has no blank line between its text and its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise SignatureError("note must end with a newline after its last signature line")
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise SignatureError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are read")
    message = text.encode("utf-8")
    verified: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise SignatureError(f"signature line {number} does not start with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        name_problem = _name_problem(name)
        if name_problem:
            raise SignatureError(f"signature line {number}: key name {name_problem}")
        signature = _decode_base64(encoded)
        if signature is None or len(signature) < 5:
            raise SignatureError(f"signature line {number} by {name}: expected base64 of a key ID and a signature")
        slot = (name, int.from_bytes(signature[:4], "big"))
        verifier = known.get(slot)
        if verifier is None:
            continue
        # Go's note package lets the first signature of a key decide and skips repeats; the spec says to refuse
        # a note carrying any failing signature by a known key, and that is what is checked here.
        if not verifier.verify(message, signature[4:]):
            raise SignatureError(f"signature by {name}+{slot[1]:08x} does not verify")
        verified.append(name)
    if not verified:
        raise SignatureError(f"none of the note's {len(lines)} signatures is by a known key")
    return text, tuple(dict.fromkeys(verified))


# --- checkpoints --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: the log's origin, a tree size, the root hash at that size, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _line_problem(self.origin)
        if problem:
            raise RecordError(f"checkpoint origin {problem}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise RecordError(f"checkpoint tree size must be an integer in [0, 2**64 - 1], got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_HASH_SIZE:
            raise RecordError(f"checkpoint root hash must be {ROOT_HASH_SIZE} bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=1):
            problem = _line_problem(line)
            if problem:
                raise RecordError(f"checkpoint extension line {number} {problem}")

    def to_body(self) -> str:
        """The note text: origin, size and base64 root, then the extension lines, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions))

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body, accepting only what :meth:`to_body` writes."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise RecordError("checkpoint body must be text ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise RecordError(f"checkpoint body has {len(lines)} lines; it needs origin, tree size and root hash")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise RecordError(
                f"checkpoint line 2 must be the tree size in decimal without leading zeros: {size_text!r}"
            )
        root = _decode_base64(root_text)
        if root is None or len(root) != ROOT_HASH_SIZE or base64.b64encode(root).decode("ascii") != root_text:
            raise RecordError(f"checkpoint line 3 must be the 32-byte root hash in standard base64: {root_text!r}")
        return cls(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(note: str | bytes, verifiers: Iterable[NoteVerifier], origin: str) -> Checkpoint:
    """Check a signed checkpoint from the log ``origin`` against its known keys and parse it.

    Raises :class:`SignatureError` when the note does not verify or names another log, :class:`RecordError` when
    its body is not a checkpoint.
    """
    body, _ = open_note(note, verifiers)
    checkpoint = Checkpoint.from_body(body)
    if checkpoint.origin != origin:
        raise SignatureError(f"checkpoint is from log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint


# --- DMG's signed checkpoints -------------------------------------------------------------------------------

TIMESTAMP_EXTENSION: Final = "timestamp "


def _timestamp(checkpoint: Checkpoint) -> int:
    lines = [line for line in checkpoint.extensions if line.startswith(TIMESTAMP_EXTENSION)]
    if len(lines) != 1:
        found = "none" if not lines else f"{len(lines)}"
        raise RecordError(f"checkpoint must carry one 'timestamp <milliseconds>' extension line; it has {found}")
    text = lines[0][len(TIMESTAMP_EXTENSION) :]
    if not _DECIMAL.fullmatch(text):
        raise RecordError(f"checkpoint timestamp must be milliseconds in decimal without leading zeros: {text!r}")
    return int(text)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as its log signed it: the signed note, the parsed body and the signing time (milliseconds)."""

    note: str
    checkpoint: Checkpoint
    time: int

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @classmethod
    def sign(cls, origin: str, size: int, root: bytes, time: int, signer: NoteSigner) -> SignedCheckpoint:
        """Sign the checkpoint of the tree ``(size, root)`` at ``time`` with the log's key (named ``origin``)."""
        if signer.name != origin:
            raise KeyFileError(f"the key signing checkpoints of {origin!r} must be named after it, not {signer.name!r}")
        checkpoint = Checkpoint(origin, size, root, (f"{TIMESTAMP_EXTENSION}{time}",))
        return cls(sign_note(checkpoint.to_body(), [signer]), checkpoint, time)

    @classmethod
    def open(cls, note: str | bytes, verifier: NoteVerifier) -> SignedCheckpoint:
        """Check ``note`` against the log key ``verifier`` (whose name is the origin) and parse it.

        Raises :class:`SignatureError` when the note is not signed by that key or names another log, and
        :class:`RecordError` when its body is not a DMG checkpoint.
        """
        checkpoint = open_checkpoint(note, [verifier], verifier.name)
        text = note.decode("utf-8") if isinstance(note, bytes) else note
        return cls(text, checkpoint, _timestamp(checkpoint))
