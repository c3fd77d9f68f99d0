from __future__ import annotations

import pytest

from dmg.core import codec
from dmg.core.cid import CID
from dmg.core.envelope import SIGNING_DOMAIN, Envelope, Signature
from dmg.core.errors import RecordError, SignatureError
from dmg.core.keys import SigningKey

PAYLOAD = {"type": "note", "text": "hello", "n": 3}


def test_sign_encode_decode_verify() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    envelope = Envelope.sign(PAYLOAD, [a, b])
    cid, data = envelope.block()
    assert cid == CID.of(data)
    decoded = Envelope.decode(data)
    assert decoded.payload == PAYLOAD
    assert decoded.verify() == {a.public_key, b.public_key}
    assert decoded.cid == cid


def test_signature_covers_domain_prefix_and_payload_bytes() -> None:
    key = SigningKey.generate()
    envelope = Envelope.sign(PAYLOAD, [key])
    message = SIGNING_DOMAIN + codec.encode(PAYLOAD)
    assert key.public_key.verify(envelope.signatures[0].sig, message)
    assert not key.public_key.verify(envelope.signatures[0].sig, codec.encode(PAYLOAD))


def test_a_signature_without_the_domain_prefix_is_refused() -> None:
    key = SigningKey.generate()
    bare = Signature(key.public_key, key.sign(codec.encode(PAYLOAD)))
    with pytest.raises(SignatureError, match="does not verify"):
        Envelope(PAYLOAD, [bare]).verify()


def test_tampered_payload_fails_verification() -> None:
    key = SigningKey.generate()
    data = Envelope.sign(PAYLOAD, [key]).to_dict()
    data["payload"] = {**PAYLOAD, "n": 4}
    with pytest.raises(SignatureError, match=key.public_key.did):
        Envelope.from_dict(data).verify()


def test_signature_swapped_to_another_key_fails() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    data = Envelope.sign(PAYLOAD, [a]).to_dict()
    data["signatures"][0]["key"] = b.public_key.multicodec
    with pytest.raises(SignatureError):
        Envelope.from_dict(data).verify()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ([], RecordError),
        ({"payload": {}}, RecordError),
        ({"payload": {}, "signatures": [], "extra": 1}, RecordError),
        ({"payload": [], "signatures": []}, RecordError),
        ({"payload": {}, "signatures": {}}, SignatureError),
        ({"payload": {}, "signatures": []}, SignatureError),
        ({"payload": {}, "signatures": [{"key": b"\xed\x01" + bytes(32)}]}, SignatureError),
        ({"payload": {}, "signatures": [{"key": b"\xed\x01" + bytes(32), "sig": b"short"}]}, SignatureError),
        ({"payload": {}, "signatures": [{"key": b"nope", "sig": bytes(64)}]}, SignatureError),
        ({"payload": {}, "signatures": [{"key": [0xED, 1], "sig": bytes(64)}]}, SignatureError),
        (
            {"payload": {}, "signatures": [{"key": bytearray(b"\xed\x01" + bytes(32)), "sig": bytes(64)}]},
            SignatureError,
        ),
    ],
)
def test_malformed_envelopes_are_refused(data: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        Envelope.from_dict(data)


def test_same_key_twice_is_refused() -> None:
    key = SigningKey.generate()
    signature = Envelope.sign(PAYLOAD, [key]).signatures[0]
    with pytest.raises(SignatureError, match="twice"):
        Envelope(PAYLOAD, [signature, signature])
