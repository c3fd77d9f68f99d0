"""What a client checks on everything a registry sends it, so that a lying or broken server is caught.

A registry is a cache of signed, content-addressed data; it is never trusted to tell the truth about it:

- every block is hashed and compared with the CID it was asked for (:func:`verified_block`);
- every envelope (a module record, a log entry) is decoded as strict DAG-CBOR and every signature on it is
  verified (:func:`verified_record`, :func:`verified_entry`);
- what the server *says* about a record (its DXN, version and bundle when resolving; the head of a log; the
  entries, records and bundles of an export) must agree with the signed data itself and with what was asked
  (:func:`check_resolution`, :func:`check_log_head`, :func:`verified_export`).

A failed check raises :class:`BlockMismatchError`, :class:`RecordMismatchError` (genuine signed data that is not
what the server claimed it was) or the codec's, envelope's and record's own typed errors. Answers that do not
follow the HTTP contract at all raise :class:`MalformedResponseError`.

What this module does not judge: whether the keys that signed held a permission in their namespace, and whether
what the server says about versions and yanks is the truth. Both need the logs' whole history, anchored in the
registry's signed transparency log: :mod:`dmg.client.transparency` checks them. Search rankings are reported as
the server gave them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dmg.api.events import RegistryEvent
from dmg.api.results import Resolution
from dmg.client.errors import BlockMismatchError, RecordMismatchError
from dmg.core.bundle import assemble_bundle
from dmg.core.car import Car
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import BundleError, CIDError
from dmg.core.namelog import LogHead
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceEntry, Release, parse_entry
from dmg.core.semver import Range, Version


def verified_block(cid: CID, data: bytes) -> bytes:
    """``data`` if it is the block ``cid`` names; :class:`BlockMismatchError` otherwise."""
    try:
        matches = cid.matches(data)
    except CIDError as exc:
        raise BlockMismatchError(f"block {cid} cannot be verified: {exc}") from exc
    if not matches:
        raise BlockMismatchError(f"the registry sent {len(data)} bytes for block {cid} that do not match its CID")
    return data


def verified_envelope(cid: CID, data: bytes) -> Envelope:
    """The envelope in block ``cid`` after checking the block, decoding it strictly and verifying each signature."""
    if cid.codec != DAG_CBOR:
        raise RecordMismatchError(f"{cid} is a {cid.codec_name} block, not a signed dag-cbor envelope")
    envelope = Envelope.decode(verified_block(cid, data))
    envelope.verify()
    return envelope


def verified_record(cid: CID, data: bytes) -> tuple[Envelope, ModuleRecord]:
    """The signed module record in block ``cid``, fully checked."""
    envelope = verified_envelope(cid, data)
    return envelope, ModuleRecord.from_dict(envelope.payload)


def verified_entry(cid: CID, data: bytes) -> tuple[Envelope, NamespaceEntry | DXNEntry]:
    """The signed log entry in block ``cid``, fully checked."""
    envelope = verified_envelope(cid, data)
    return envelope, parse_entry(envelope.payload)


def verified_event(position: int, cid: CID, envelope: bytes) -> RegistryEvent:
    """The registry event at ``position`` whose entry is the block ``cid``, after checking the block and every
    signature on it; what the registry said about the entry besides is not read, it is derived again."""
    verified_entry(cid, envelope)
    return RegistryEvent.from_block(position, cid, envelope)


def check_positions(after: int, events: list[RegistryEvent]) -> None:
    """Events read after ``after`` must follow it and each other without repeats or reordering."""
    previous = after
    for event in events:
        if event.position <= previous:
            raise RecordMismatchError(
                f"the registry sent the event at position {event.position} after position {previous}: events come "
                "in log order, each once"
            )
        previous = event.position


def check_selected(dxn: DXN, selector: Version | Range | str | None, version: Version, yanked: bool) -> None:
    """Raise unless ``version`` is one that ``selector`` could select (the rules of registry resolution)."""
    if isinstance(selector, Version):
        if version != selector:
            raise RecordMismatchError(f"asked for {dxn.base}@{selector}, the registry answered version {version}")
        return
    if yanked:
        raise RecordMismatchError(f"the registry resolved {dxn} to the yanked version {version}; ranges skip yanks")
    if isinstance(selector, Range):
        if not selector.contains(version):
            raise RecordMismatchError(f"the registry resolved {dxn.base}@{selector} to {version}, outside the range")
    elif version.is_prerelease:
        raise RecordMismatchError(f"the registry resolved {dxn.base} to the prerelease {version} as latest")


def check_resolution(
    dxn: DXN, selector: Version | Range | str | None, resolution: Resolution, record: ModuleRecord
) -> None:
    """The verified ``record`` must be what ``resolution`` claims, and the claim must answer the question asked."""
    if resolution.dxn != dxn.base:
        raise RecordMismatchError(f"asked to resolve {dxn.base}, the registry answered for {resolution.dxn}")
    if record.dxn != resolution.dxn or record.version != resolution.version:
        raise RecordMismatchError(
            f"the registry said {resolution.record} is {resolution.dxn}@{resolution.version}, "
            f"but the signed record is {record.dxn}@{record.version}"
        )
    if record.bundle != resolution.bundle:
        raise RecordMismatchError(
            f"the registry said {resolution.dxn}@{resolution.version} has bundle {resolution.bundle}, "
            f"but the signed record links {record.bundle}"
        )
    check_selected(dxn, selector, resolution.version, resolution.yanked)


def check_log_head(log: str, head: LogHead, entry: NamespaceEntry | DXNEntry) -> None:
    """The signed entry at the reported head must belong to ``log`` and carry the reported seq and time."""
    if entry.log_name != log:
        raise RecordMismatchError(f"the registry gave an entry of log {entry.log_name!r} as the head of {log!r}")
    if entry.seq != head.seq or entry.time != head.time:
        raise RecordMismatchError(
            f"the registry said the head of {log!r} has seq {head.seq} and time {head.time}, "
            f"but the signed entry has seq {entry.seq} and time {entry.time}"
        )


@dataclass(frozen=True)
class ExportedRelease:
    """A release found in an exported CAR: the entry, and its record's verified envelope."""

    entry: Release
    record: Envelope


def verified_export(car: Car, dxns: Iterable[DXN]) -> list[ExportedRelease]:
    """The releases in ``car`` after checking that its roots are signed log entries present in it, that each
    release's record is there, signed and for that release, that each record's bundle is there whole and matches
    the record (sizes and SHA-256), and that a release matches each requested DXN. The importer re-verifies it all
    anyway; whether the entries are in the registry's log is :mod:`dmg.client.transparency`'s question."""
    releases: list[ExportedRelease] = []
    for root in car.roots:
        if root not in car.blocks:
            raise RecordMismatchError(f"the exported CAR names the entry {root} as a root but lacks its block")
        _, entry = verified_entry(root, car.blocks[root])
        if isinstance(entry, Release):
            if entry.record not in car.blocks:
                raise RecordMismatchError(f"the exported CAR lacks the record {entry.record} of {entry.dxn}")
            envelope, record = verified_record(entry.record, car.blocks[entry.record])
            if record.dxn != entry.dxn or record.version != entry.version:
                raise RecordMismatchError(
                    f"the exported release of {entry.dxn}@{entry.version} links a record for "
                    f"{record.dxn}@{record.version}"
                )
            try:
                assemble_bundle(record.bundle, car.blocks.get)
            except BundleError as exc:
                raise BundleError(
                    f"the exported bundle of {entry.dxn}@{entry.version} is not its record's: {exc}"
                ) from exc
            releases.append(ExportedRelease(entry, envelope))
    for dxn in dxns:
        selector = dxn.version_selector()
        matching = [
            release
            for release in releases
            if release.entry.dxn == dxn.base
            and release.entry.version is not None
            and (not isinstance(selector, Version | Range) or _selects(selector, release.entry.version))
        ]
        if not matching:
            raise RecordMismatchError(f"the exported CAR holds no release of {dxn}")
    return releases


def _selects(selector: Version | Range, version: Version) -> bool:
    return version == selector if isinstance(selector, Version) else selector.contains(version)
