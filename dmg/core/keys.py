"""Ed25519 keys: generate, save, load, sign, verify, and the ``did:key`` form.

A :class:`SigningKey` is a private key held by a publisher; a :class:`PublicKey` is what records and logs carry.
In blocks a public key is its multicodec form (``0xed 0x01`` + 32 bytes, 34 bytes in all); people see it as
``did:key:z6Mk...``. Key files are PKCS#8 PEM, written with mode 0600 and never over an existing file.

This module does not know what is signed; :mod:`dmg.core.envelope` adds the domain separation.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from multiformats import multibase

from dmg.core.errors import KeyFileError, SignatureError

ED25519_PUB_PREFIX: Final = b"\xed\x01"
DID_KEY_PREFIX: Final = "did:key:"


class PublicKey:
    """An Ed25519 public key, compared and hashed by its 32 raw bytes."""

    __slots__ = ("_key", "raw")

    def __init__(self, raw: bytes) -> None:
        if type(raw) is not bytes or len(raw) != 32:
            raise SignatureError("an Ed25519 public key is exactly 32 bytes")
        self.raw = raw
        self._key = Ed25519PublicKey.from_public_bytes(raw)

    @staticmethod
    def from_multicodec(data: bytes) -> PublicKey:
        """Parse the 34-byte ``0xed01``-prefixed form used inside blocks.

        Keys are immutable values and the same few sign every envelope of a publisher, so each is built once
        (building one costs a fair part of checking a signature)."""
        if type(data) is not bytes or len(data) != 34 or not data.startswith(ED25519_PUB_PREFIX):
            raise SignatureError("key must be 34 bytes: the ed25519-pub multicodec 0xed01 and 32 key bytes")
        return _public_key(data[2:])

    @classmethod
    def from_did(cls, text: str) -> PublicKey:
        """Parse ``did:key:z...`` (base58btc of the multicodec form)."""
        if not isinstance(text, str) or not text.startswith(DID_KEY_PREFIX + "z"):
            raise KeyFileError(f"not an Ed25519 did:key: {text!r}")
        try:
            data = multibase.decode(text[len(DID_KEY_PREFIX) :])
        except Exception as exc:
            raise KeyFileError(f"not an Ed25519 did:key: {text!r} ({exc})") from exc
        try:
            return cls.from_multicodec(bytes(data))
        except SignatureError as exc:
            raise KeyFileError(f"not an Ed25519 did:key: {text!r}") from exc

    @property
    def multicodec(self) -> bytes:
        return ED25519_PUB_PREFIX + self.raw

    @property
    def did(self) -> str:
        return _did(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __lt__(self, other: PublicKey) -> bool:
        return self.raw < other.raw

    def __str__(self) -> str:
        return self.did

    def __repr__(self) -> str:
        return f"PublicKey({self.did!r})"


_public_key: Final = functools.lru_cache(maxsize=4096)(PublicKey)


@functools.lru_cache(maxsize=4096)
def _did(raw: bytes) -> str:
    # base58 encoding in pure Python costs more than a signature check; keys repeat, so remember them.
    return DID_KEY_PREFIX + multibase.encode(ED25519_PUB_PREFIX + raw, "base58btc")


class SigningKey:
    """An Ed25519 private key."""

    __slots__ = ("_key", "public_key")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = PublicKey(
            key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """A key from its 32-byte seed (deterministic keys for fixtures and tests)."""
        if len(seed) != 32:
            raise KeyFileError("an Ed25519 seed is exactly 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read a PKCS#8 PEM Ed25519 key file."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyFileError(f"cannot read key file {os.fspath(path)!r}: {exc.strerror}") from exc
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{os.fspath(path)!r} is not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{os.fspath(path)!r} holds a {type(key).__name__}, not an Ed25519 key")
        return cls(key)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key as PKCS#8 PEM with mode 0600; refuse to overwrite an existing file."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyFileError(f"refusing to overwrite existing file {os.fspath(path)!r}") from exc
        except OSError as exc:
            raise KeyFileError(f"cannot create key file {os.fspath(path)!r}: {exc.strerror}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)

    def seed(self) -> bytes:
        """The 32-byte private seed (for signers that need raw key material, e.g. note signing)."""
        return self._key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)
