from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dmg.core.errors import KeyFileError, SignatureError
from dmg.core.keys import PublicKey, SigningKey


def test_save_load_round_trip_with_mode_0600(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "publisher.key"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = SigningKey.load(path)
    assert loaded.public_key == key.public_key
    assert loaded.public_key.verify(loaded.sign(b"message"), b"message")


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(b"precious")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        SigningKey.generate().save(path)
    assert path.read_bytes() == b"precious"


def test_did_key_round_trip_and_known_prefix() -> None:
    key = SigningKey.from_seed(bytes(32))
    did = key.public_key.did
    assert did.startswith("did:key:z6Mk")
    assert PublicKey.from_did(did) == key.public_key


def test_known_did_for_rfc8032_test_vector() -> None:
    # RFC 8032 section 7.1, test 1: secret key 9d61b19d... has public key d75a9801...
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = SigningKey.from_seed(seed).public_key
    assert public.raw.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert PublicKey.from_did(public.did).raw == public.raw


@pytest.mark.parametrize(
    "text",
    ["", "did:key:", "did:web:example.com", "did:key:zzzz", "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"],
)
def test_bad_did_is_refused(text: str) -> None:
    with pytest.raises(KeyFileError):
        PublicKey.from_did(text)


def test_multicodec_form_is_checked() -> None:
    key = SigningKey.generate().public_key
    assert PublicKey.from_multicodec(key.multicodec) == key
    for bad in (key.raw, b"\xec\x01" + key.raw, key.multicodec + b"\0"):
        with pytest.raises(SignatureError):
            PublicKey.from_multicodec(bad)


def test_load_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read"):
        SigningKey.load(tmp_path / "missing")
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        SigningKey.load(garbage)
    other = tmp_path / "ec.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        SigningKey.load(other)


def test_wrong_message_or_key_does_not_verify() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    signature = a.sign(b"m")
    assert not a.public_key.verify(signature, b"n")
    assert not b.public_key.verify(signature, b"m")
