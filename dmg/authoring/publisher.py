"""Building and signing what a publisher submits: namespace entries, releases, yanks.

Each function takes the head of the log it extends (from the registry) and returns signed envelopes and blocks
ready to submit; nothing here talks to a registry, so ``dmg publish --dry-run`` shows exactly what would be sent.
The registry re-verifies all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dmg.authoring.manifest import Manifest
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import BundleError
from dmg.core.keys import PublicKey, SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import (
    ModuleRecord,
    NamespaceClaim,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
)
from dmg.core.semver import Version


@dataclass(frozen=True)
class PreparedRelease:
    """A signed release entry (the root) with the record and bundle blocks it links."""

    record: ModuleRecord
    record_envelope: Envelope
    entry: Envelope
    bundle: Bundle

    @property
    def root(self) -> CID:
        return self.entry.cid

    def blocks(self) -> dict[CID, bytes]:
        blocks = dict([self.entry.block(), self.record_envelope.block()])
        blocks.update(self.bundle.blocks())
        return blocks


def _chain(head: LogHead, time: int) -> dict[str, object]:
    return {"seq": head.seq + 1, "prev": head.cid, "time": max(time, head.time)}


def claim(namespace: str, keys: Sequence[SigningKey], head: LogHead, time: int, threshold: int = 1) -> Envelope:
    """A claim by ``keys`` (each signs); ``threshold`` of them must later sign every grant and revoke."""
    entry = NamespaceClaim(
        **_chain(head, time), namespace=namespace, keys=tuple(k.public_key for k in keys), threshold=threshold
    )
    return Envelope.sign(entry.to_dict(), keys)


def grant(
    namespace: str, key: PublicKey, permissions: Sequence[str], signer: SigningKey, head: LogHead, time: int
) -> Envelope:
    entry = NamespaceGrant(**_chain(head, time), namespace=namespace, key=key, permissions=frozenset(permissions))
    return Envelope.sign(entry.to_dict(), [signer])


def revoke(namespace: str, key: PublicKey, signer: SigningKey, head: LogHead, time: int) -> Envelope:
    entry = NamespaceRevoke(**_chain(head, time), namespace=namespace, key=key)
    return Envelope.sign(entry.to_dict(), [signer])


def yank(dxn: DXN, version: Version, reason: str, signer: SigningKey, head: LogHead, time: int) -> Envelope:
    entry = Yank(**_chain(head, time), dxn=dxn.base, version=version, reason=reason)
    return Envelope.sign(entry.to_dict(), [signer])


def unyank(dxn: DXN, version: Version, signer: SigningKey, head: LogHead, time: int) -> Envelope:
    entry = Unyank(**_chain(head, time), dxn=dxn.base, version=version)
    return Envelope.sign(entry.to_dict(), [signer])


def release_bundle(
    record: ModuleRecord, bundle: Bundle, signer: SigningKey, head: LogHead, time: int
) -> PreparedRelease:
    """Sign ``record`` (whose bundle CID must be ``bundle``'s) and the release entry that links it."""
    record_envelope = Envelope.sign(record.to_dict(), [signer])
    entry = Release(**_chain(head, time), dxn=record.dxn, version=record.version, record=record_envelope.cid)
    return PreparedRelease(record, record_envelope, Envelope.sign(entry.to_dict(), [signer]), bundle)


def release(manifest: Manifest, signer: SigningKey, head: LogHead, time: int) -> PreparedRelease:
    """Build the manifest's bundle, its record, and sign both."""
    path: Path = manifest.bundle_path
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"bundle: cannot read {str(path)!r}: {exc.strerror}") from exc
    bundle = build_bundle(content, manifest.runtime)
    return release_bundle(manifest.to_record(bundle.cid), bundle, signer, head, time)
