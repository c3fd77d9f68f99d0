"""What a client checks on everything a registry sends it, so that a lying or broken server is caught.

A registry is a cache of signed, content-addressed data; it is never trusted to tell the truth about it:

- every block is hashed and compared with the CID it was asked for (:func:`verified_block`);
- every envelope (a module record, a log entry) is decoded as strict DAG-CBOR and every signature on it is
  verified (:func:`verified_record`, :func:`verified_entry`);
- what the server *says* about a record (its DXN, version and bundle when resolving; the head of a log; the
  entries, records and bundles of an export) must agree with the signed data itself and with what was asked
  (:func:`check_resolution`, :func:`check_log_head`, :func:`verified_export`);
- an export must import into an empty registry: its logs are replayed from empty, as the importer will
  (:func:`verified_export`).

A failed check raises :class:`BlockMismatchError`, :class:`RecordMismatchError` (genuine signed data that is not
what the server claimed it was) or the codec's, envelope's and record's own typed errors. Answers that do not
follow the HTTP contract at all raise :class:`MalformedResponseError`.

What this module does not judge, outside an export (which carries its logs): whether the keys that signed held a
permission in their namespace, and whether what the server says about versions and yanks is the truth. Both need
the logs' whole history, anchored in the registry's signed transparency log: :mod:`dmg.client.transparency` checks
them, also whether an export leaves out a yank. Search rankings are reported as the server gave them.
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
from dmg.core.errors import BundleError, CIDError, ConflictError, LogError, UnauthorizedError
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState
from dmg.core.records import DXNEntry, ModuleRecord, NamespaceEntry, Release, parse_entry
from dmg.core.selection import select_version
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
    """A release found in an exported CAR: the entry, its record's verified envelope, and whether the CAR's log
    leaves the version yanked."""

    entry: Release
    record: Envelope
    yanked: bool


def _replayed(car: Car) -> tuple[dict[str, DXNLogState], list[tuple[Release, Envelope]]]:
    """The DXN logs of ``car``, every root checked and applied in order to logs starting empty, as a registry
    importing the CAR from empty applies them; and each release with its record's envelope, checked against the
    release and whole bundle."""
    namespaces: dict[str, NamespaceState] = {}
    dxn_logs: dict[str, DXNLogState] = {}
    releases: list[tuple[Release, Envelope]] = []
    for root in car.roots:
        if root not in car.blocks:
            raise RecordMismatchError(f"the exported CAR names the entry {root} as a root but lacks its block")
        envelope, entry = verified_entry(root, car.blocks[root])
        if isinstance(entry, Release):
            if entry.record not in car.blocks:
                raise RecordMismatchError(f"the exported CAR lacks the record {entry.record} of {entry.dxn}")
            record_envelope, record = verified_record(entry.record, car.blocks[entry.record])
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
            releases.append((entry, record_envelope))
        namespace = namespaces.get(entry.namespace, NamespaceState(entry.namespace))
        try:
            if isinstance(entry, NamespaceEntry):
                namespaces[entry.namespace] = namespace.apply(root, entry, envelope.signers)
            else:
                log = dxn_logs.get(entry.log_name, DXNLogState(entry.dxn))
                dxn_logs[entry.log_name] = log.apply(root, entry, envelope.signers, namespace)
        except (LogError, UnauthorizedError, ConflictError) as exc:  # what namelog raises
            raise type(exc)(
                f"the exported CAR does not import into an empty registry at {entry.log_name} #{entry.seq}: {exc}"
            ) from exc
    return dxn_logs, releases


def verified_export(car: Car, dxns: Iterable[DXN]) -> list[ExportedRelease]:
    """The releases in ``car`` after checking that it imports into an empty registry that then resolves each of
    ``dxns`` as asked: its roots are signed log entries present in it, which replay (:mod:`dmg.core.namelog`)
    from empty logs in root order, each namespace's from its claim, each DXN log from its first entry, every
    entry authorised by its namespace as it stands then; each release's record is there, signed and for that
    release, with its bundle there whole and matching the record (sizes and SHA-256); and each requested DXN
    selects a version among the CAR's releases with the yanks the CAR holds. The importer re-verifies it all
    anyway; whether the entries are in the registry's log, and whether the CAR leaves out yanks the log holds,
    are :mod:`dmg.client.transparency`'s questions."""
    dxn_logs, releases = _replayed(car)
    for dxn in dxns:
        log = dxn_logs.get(str(dxn.base))
        logged = [] if log is None else [(version, version in log.yanked) for version in log.released]
        if select_version(logged, dxn.version_selector()) is None:
            raise RecordMismatchError(f"the exported CAR holds no release of {dxn}")
    return [
        ExportedRelease(entry, envelope, entry.version in dxn_logs[entry.log_name].yanked)
        for entry, envelope in releases
    ]
