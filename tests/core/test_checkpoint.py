"""Tests of dmg.core.checkpoint: the Go sumdb/note example keys and notes, strict parsing, and every refusal."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from dmg.core.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_checkpoint,
    open_note,
    sign_note,
)
from dmg.core.errors import KeyFileError, RecordError, SignatureError
from dmg.core.tlog import ProofError, verify_consistency
from tests.support.tlog import LogTree

# The example of golang.org/x/mod/sumdb/note (package documentation and note_test.go). EnochRoot's key is the one
# the documentation's GenerateKey example derives from an all-zero random source.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

PETER = NoteVerifier.from_vkey(PETER_VKEY)
ENOCH = NoteVerifier.from_vkey(ENOCH_VKEY)

# The example of c2sp.org/tlog-checkpoint.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_SIG = (
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def new_signer(name: str) -> NoteSigner:
    return NoteSigner(name, Ed25519PrivateKey.generate())


# --- keys ---------------------------------------------------------------------------------------------------


def test_go_example_keys_round_trip() -> None:
    signer = NoteSigner.from_skey(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert signer.to_skey() == PETER_SKEY
    assert signer.verifier() == PETER
    assert PETER.to_vkey() == PETER_VKEY
    assert key_id("EnochRoot", Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()) == 0xAF0CFE78
    enoch = NoteSigner("EnochRoot", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    assert enoch.verifier().to_vkey() == ENOCH_VKEY
    assert NoteVerifier.from_vkey(ENOCH_VKEY) == enoch.verifier()
    assert len({PETER, NoteVerifier.from_vkey(PETER_VKEY), ENOCH}) == 2
    assert "c74f20a3" in repr(signer)
    assert PETER_VKEY in repr(PETER)


def test_generated_keys_round_trip_through_their_strings() -> None:
    signer = new_signer("dmg.example/registry")
    again = NoteSigner.from_skey(signer.to_skey())
    assert again.verifier() == signer.verifier()
    assert NoteVerifier.from_vkey(signer.verifier().to_vkey()) == signer.verifier()
    assert again.verifier().verify(b"hi\n", signer.sign(b"hi\n"))
    assert not again.verifier().verify(b"hi!\n", signer.sign(b"hi\n"))


def test_every_mangling_of_the_go_keys_is_refused() -> None:
    # The manglings of Go's TestNewVerifier and TestNewSigner: every proper substring, every byte plus one.
    for key, parse in ((PETER_VKEY, NoteVerifier.from_vkey), (PETER_SKEY, NoteSigner.from_skey)):
        for start in range(len(key) + 1):
            for end in range(start + 1, len(key) + 1):
                if (start, end) != (0, len(key)):
                    with pytest.raises(KeyFileError):
                        parse(key[start:end])
        for position in range(len(key)):
            mangled = key[:position] + chr(ord(key[position]) + 1) + key[position + 1 :]
            with pytest.raises(KeyFileError):
                parse(mangled)


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "32 bytes, not 36"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key algorithm 101; expected 1"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "claims key ID c74f20a4"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digit key ID"),
        ("PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digit key ID"),
        ("PeterNeumann+c74f20a3", "8 hex digit key ID"),
        ("PeterNeumann+c74f20a3+", "not standard base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not standard base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", "not standard base64"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name must be a non-empty string"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must not contain spaces"),
        ("Peter\u00a0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must not contain spaces"),
        ("Peter\x01+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "control character"),
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str, reason: str) -> None:
    with pytest.raises(KeyFileError, match=reason):
        NoteVerifier.from_vkey(vkey)


def test_malformed_signer_keys_are_refused() -> None:
    with pytest.raises(KeyFileError, match="must start with 'PRIVATE\\+KEY\\+'"):
        NoteSigner.from_skey(PETER_VKEY)
    with pytest.raises(KeyFileError, match="claims key ID 00000000"):
        NoteSigner.from_skey(PETER_SKEY.replace("c74f20a3", "00000000"))
    with pytest.raises(KeyFileError, match="must be a string"):
        NoteVerifier.from_vkey(b"PeterNeumann")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "reason"), [("", "non-empty"), ("a+b", "'\\+'"), ("a b", "spaces"), ("\ud800", "UTF-8")]
)
def test_invalid_key_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(KeyFileError, match=reason):
        new_signer(name)


# --- notes --------------------------------------------------------------------------------------------------


def test_signing_reproduces_the_go_examples() -> None:
    peter = NoteSigner.from_skey(PETER_SKEY)
    enoch = NoteSigner("EnochRoot", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    assert sign_note(TEXT, [peter]) == TEXT + "\n" + PETER_SIG
    assert sign_note(TEXT, [peter, enoch]) == TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_opening_the_go_examples() -> None:
    assert open_note(TEXT + "\n" + PETER_SIG, [PETER]) == (TEXT, ("PeterNeumann",))
    assert open_note((TEXT + "\n" + PETER_SIG).encode(), [PETER]) == (TEXT, ("PeterNeumann",))
    # One signature verified, the other ignored as unknown; then both verified.
    assert open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER]) == (TEXT, ("PeterNeumann",))
    assert open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [ENOCH, PETER]) == (TEXT, ("PeterNeumann", "EnochRoot"))
    # A repeated verifier changes nothing.
    assert open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH]) == (TEXT, ("EnochRoot",))


def test_no_known_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="none of the note's 2 signatures is by a known key"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    # A signature by another key under the same name has another key ID, so it is unknown, not wrong.
    impostor = new_signer("PeterNeumann")
    with pytest.raises(SignatureError, match="none of the note's 1 signatures"):
        open_note(sign_note(TEXT, [impostor]), [PETER])
    assert open_note(sign_note(TEXT, [impostor, NoteSigner.from_skey(PETER_SKEY)]), [PETER])[1] == ("PeterNeumann",)


def test_a_failing_signature_by_a_known_key_is_refused() -> None:
    with pytest.raises(SignatureError, match="signature by PeterNeumann\\+c74f20a3 does not verify"):
        open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [PETER])
    tampered = (TEXT + "\n" + PETER_SIG).replace("cryptography", "cryptographY")
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(tampered, [PETER])
    # Even when another known key did sign.
    with pytest.raises(SignatureError, match="signature by EnochRoot\\+af0cfe78 does not verify"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:], [PETER, ENOCH])


def test_repeated_signatures_must_all_verify() -> None:
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    assert open_note(note, [PETER]) == (TEXT, ("PeterNeumann",))
    with pytest.raises(SignatureError, match="signature by EnochRoot\\+af0cfe78 does not verify"):
        open_note(note, [PETER, ENOCH])
    assert open_note(TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, [PETER]) == (TEXT, ("PeterNeumann",))


def test_too_many_signatures_are_refused() -> None:
    for verifiers in ([PETER], []):
        with pytest.raises(SignatureError, match="101 signature lines; at most 100"):
            open_note(TEXT + "\n" + PETER_SIG * 101, verifiers)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (TEXT, "no blank line"),
        (TEXT + "\n", "must end with a newline after its last signature"),
        (TEXT + "\n" + PETER_SIG[:-1], "must end with a newline after its last signature"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "control character '\\\\x01'"),
        (TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG, "control character '\\\\r'"),
        (b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), "not valid UTF-8 \\(byte 0\\)"),
        ("\ud800" + TEXT + "\n" + PETER_SIG, "not valid UTF-8"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1], "must end with a newline"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), "line 1 does not start|base64"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "signature line 2 does not start with an em dash"),
        (TEXT + "\n" + PETER_SIG.replace("—", "--"), "line 1 does not start with an em dash"),
        (TEXT + "\n" + PETER_SIG.replace("— ", "—"), "line 1 does not start with an em dash"),
        (TEXT + "\n" + "— PeterNeumann\n", "line 1 by PeterNeumann: expected base64"),
        (TEXT + "\n" + "— PeterNeumann \n", "line 1 by PeterNeumann: expected base64"),
        (TEXT + "\n" + "— PeterNeumann x08g\n", "line 1 by PeterNeumann: expected base64"),
        (TEXT + "\n" + "— PeterNeumann x08go/Y\n", "line 1 by PeterNeumann: expected base64"),
        (TEXT + "\n" + "— PeterNeumann x08go/ZJ\n", "signature by PeterNeumann\\+c74f20a3 does not verify"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"), "key name must not contain '\\+'"),
        (TEXT + "\n" + PETER_SIG.replace("— PeterNeumann", "— "), "key name must be a non-empty string"),
        (TEXT + "\n" + PETER_SIG + "\n", "must end with a newline after its last signature"),
    ],
)
def test_malformed_notes_are_refused(note: str | bytes, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        open_note(note, [PETER])


def test_the_spec_examples_parse_but_their_keys_are_unknown() -> None:
    with pytest.raises(SignatureError, match="none of the note's 1 signatures is by a known key"):
        open_note(SPEC_BODY + "\n" + SPEC_SIG, [PETER])
    poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    signature = (
        "— quasimodo.example/salvatore "
        "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
    )
    with pytest.raises(SignatureError, match="none of the note's 1 signatures"):
        open_note(poem + "\n" + signature, [PETER])
    # A text with blank lines of its own is split at the last one, so it round-trips.
    signer = new_signer("quasimodo.example/salvatore")
    assert open_note(sign_note(poem, [signer]), [signer.verifier()]) == (poem, ("quasimodo.example/salvatore",))


def test_sign_note_refuses_bad_text_and_signers() -> None:
    peter = NoteSigner.from_skey(PETER_SKEY)
    with pytest.raises(SignatureError, match="note text must end with a newline"):
        sign_note("abc", [peter])
    with pytest.raises(SignatureError, match="note text must end with a newline"):
        sign_note("", [peter])
    with pytest.raises(SignatureError, match="note text holds control character"):
        sign_note("a\tb\n", [peter])
    with pytest.raises(SignatureError, match="note text is not valid UTF-8"):
        sign_note("\udc80\n", [peter])
    with pytest.raises(SignatureError, match="note text must be a string"):
        sign_note(b"abc\n", [peter])  # type: ignore[arg-type]
    with pytest.raises(SignatureError, match="at least one signer"):
        sign_note(TEXT, [])
    with pytest.raises(SignatureError, match="listed twice"):
        sign_note(TEXT, [peter, NoteSigner.from_skey(PETER_SKEY)])
    many = [new_signer(f"witness{i}") for i in range(MAX_SIGNATURES + 1)]
    with pytest.raises(SignatureError, match="at most 100 signatures, not 101"):
        sign_note(TEXT, many)
    note = sign_note(TEXT, many[:MAX_SIGNATURES])
    assert open_note(note, [many[42].verifier(), many[7].verifier()]) == (TEXT, ("witness7", "witness42"))


# --- checkpoints --------------------------------------------------------------------------------------------


def test_the_spec_checkpoint_parses_and_round_trips() -> None:
    checkpoint = Checkpoint.from_body(SPEC_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.to_body() == SPEC_BODY


def test_extension_lines_round_trip() -> None:
    checkpoint = Checkpoint("dmg.example/log", 0, bytes(32), ["time 1700000000", "— odd but allowed"])  # type: ignore[arg-type]
    assert checkpoint.extensions == ("time 1700000000", "— odd but allowed")
    body = checkpoint.to_body()
    assert (
        body == "dmg.example/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 1700000000\n— odd but allowed\n"
    )
    assert Checkpoint.from_body(body) == checkpoint


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (SPEC_BODY[:-1], "must be text ending in a newline"),
        ("", "must be text ending in a newline"),
        ("example.com/log\n5\n", "has 2 lines"),
        ("\n5\n" + SPEC_BODY.split("\n")[2] + "\n", "origin must be a non-empty string"),
        ("a\x7f\tb\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "origin holds control character"),
        ("log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2 must be the tree size"),
        ("log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n1_000\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n١\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n" + "9" * 5000 + "\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2"),
        ("log\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "in \\[0, 2\\*\\*64 - 1\\]"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "line 3 must be the 32-byte root hash"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "line 3"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", "line 3"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= \n", "line 3"),
        ("log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "line 3"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", "extension line 1 must be a non-empty"),
        ("log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nok\n\n", "extension line 2 must be a non-empty"),
        ("log\r\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "origin holds control character '\\\\r'"),
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        Checkpoint.from_body(body)


def test_checkpoint_fields_are_validated() -> None:
    with pytest.raises(RecordError, match="tree size must be an integer"):
        Checkpoint("log", -1, bytes(32))
    with pytest.raises(RecordError, match="tree size must be an integer"):
        Checkpoint("log", True, bytes(32))
    with pytest.raises(RecordError, match="tree size must be an integer"):
        Checkpoint("log", 2**64, bytes(32))
    with pytest.raises(RecordError, match="root hash must be 32 bytes"):
        Checkpoint("log", 1, bytes(31))
    with pytest.raises(RecordError, match="root hash must be 32 bytes"):
        Checkpoint("log", 1, "00" * 16)  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="origin must be one line"):
        Checkpoint("a\nb", 1, bytes(32))
    with pytest.raises(RecordError, match="origin must be a non-empty string"):
        Checkpoint(None, 1, bytes(32))  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="extension line 2 must be one line"):
        Checkpoint("log", 1, bytes(32), ("a", "b\nc"))
    with pytest.raises(RecordError, match="extension line 1 must be a non-empty string"):
        Checkpoint("log", 1, bytes(32), ("",))
    assert Checkpoint("log", 2**64 - 1, bytes(32)).to_body().split("\n")[1] == "18446744073709551615"


line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20), min_size=1, max_size=30
).filter(lambda line: "\n" not in line)


@given(
    origin=line_text,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text, max_size=3),
)
def test_checkpoint_bodies_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.from_body(checkpoint.to_body()) == checkpoint


def test_a_signed_checkpoint_of_a_tree_opens_and_proves_consistency() -> None:
    registry = new_signer("dmg.example/registry")
    witness = new_signer("witness.example")
    tree = LogTree()
    tree.append_many([b"claim", b"grant", b"release"])
    old = Checkpoint("dmg.example/registry", tree.size, tree.root())
    old_note = sign_note(old.to_body(), [registry, witness])
    tree.append_many([b"yank", b"release 2"])
    new_note = sign_note(Checkpoint("dmg.example/registry", tree.size, tree.root()).to_body(), [registry])

    seen = open_checkpoint(old_note, [registry.verifier()], "dmg.example/registry")
    assert seen == old
    latest = open_checkpoint(new_note.encode(), [registry.verifier()], "dmg.example/registry")
    verify_consistency(seen.size, latest.size, seen.root, latest.root, tree.consistency_proof(seen.size, latest.size))
    with pytest.raises(ProofError):
        verify_consistency(seen.size, latest.size, seen.root, latest.root, tree.consistency_proof(2, latest.size))

    with pytest.raises(SignatureError, match=r"from log 'dmg\.example/registry', expected 'other\.example'"):
        open_checkpoint(old_note, [registry.verifier()], "other.example")
    with pytest.raises(SignatureError, match="none of the note's 1 signatures"):
        open_checkpoint(new_note, [witness.verifier()], "dmg.example/registry")
    with pytest.raises(RecordError, match="line 2 must be the tree size"):
        open_checkpoint(sign_note("dmg.example/registry\nmany\nroot\n", [registry]), [registry.verifier()], "x")
