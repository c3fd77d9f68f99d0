"""GraphQL output types, each built from the registry's own values by a ``from_...`` constructor.

CIDs, DXNs, versions and keys are strings in their canonical text forms (``bafy...``, ``com.example/function/x``,
``1.2.0``, ``did:key:z6Mk...``). Times are :data:`~dmg.http.graphql.Timestamp` (milliseconds since the Unix
epoch; an integer that does not fit GraphQL's 32-bit ``Int``). Free-form parts of records (JSON Schemas,
resources, triggers) are ``JSON``; :func:`dag_json` renders stored blocks as canonical DAG-JSON.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON

from dmg.api.events import RegistryEvent
from dmg.api.results import Resolution as RegistryResolution
from dmg.api.results import StoredEntry, VersionInfo
from dmg.core import dagjson
from dmg.core.checkpoint import SignedCheckpoint
from dmg.core.envelope import Envelope
from dmg.core.records import (
    DXNEntry,
    ModuleRecord,
    NamespaceClaim,
    NamespaceEntry,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Yank,
)
from dmg.http.graphql import Timestamp
from dmg.service.logs import proof_log


def dag_json(value: Any) -> Any:
    """``value`` (decoded DAG-CBOR, or a raw block's bytes) as canonical DAG-JSON (:mod:`dmg.core.dagjson`), parsed
    back into a JSON value whose maps keep the canonical key order (by UTF-8 bytes) on their way into the response:
    CIDs as ``{"/": "bafy..."}``, bytes as ``{"/": {"bytes": b64}}``."""
    return json.loads(dagjson.encode(value))


@strawberry.type(description="Which version a DXN and range resolve to.")
class Resolution:
    dxn: str
    version: str
    cid: str = strawberry.field(description="The module record's envelope CID.")
    bundle: str = strawberry.field(description="The bundle index CID.")
    yanked: bool

    @classmethod
    def from_resolution(cls, resolution: RegistryResolution) -> Resolution:
        return cls(
            dxn=str(resolution.dxn),
            version=str(resolution.version),
            cid=str(resolution.record),
            bundle=str(resolution.bundle),
            yanked=resolution.yanked,
        )


@strawberry.type(description="A function a module exports, with JSON Schemas for its input and output.")
class Function:
    name: str
    description: str
    input_schema: JSON
    output_schema: JSON


@strawberry.type(description="APIs a module provides (exact versions) and requires (ranges), as DXN@selector.")
class Apis:
    provides: list[str]
    requires: list[str]


@strawberry.type(description="Another module this one depends on, and the versions it accepts.")
class Dependency:
    dxn: str
    range: str


@strawberry.type(description="One released version of a module: its record and release metadata.")
class Module:
    dxn: str
    version: str
    cid: str = strawberry.field(description="The module record's envelope CID.")
    description: str
    runtime: str
    bundle: str = strawberry.field(description="The bundle index CID.")
    functions: list[Function]
    resources: JSON
    apis: Apis
    dependencies: list[Dependency]
    triggers: JSON
    yanked: bool
    yank_reason: str
    published_at: Timestamp
    publisher: str = strawberry.field(description="did:key of the release entry's first signer.")
    home: str | None = strawberry.field(
        default=None,
        description="The origin of the module's home log when this registry mirrors it (null: this registry is its "
        "home); check it there with the log argument of checkpoint, history and the proofs.",
    )

    @classmethod
    def from_record(cls, info: VersionInfo, record: ModuleRecord, home: str | None = None) -> Module:
        data = record.to_dict()
        return cls(
            dxn=str(record.dxn),
            version=str(record.version),
            cid=str(info.record),
            description=record.description,
            runtime=record.runtime,
            bundle=str(record.bundle),
            functions=[
                Function(
                    name=function.name,
                    description=function.description,
                    input_schema=function.input_schema,
                    output_schema=function.output_schema,
                )
                for function in record.functions
            ],
            resources=data["resources"],
            apis=Apis(provides=data["apis"]["provides"], requires=data["apis"]["requires"]),
            dependencies=[Dependency(dxn=str(item.dxn), range=item.spec) for item in record.dependencies],
            triggers=data["triggers"],
            yanked=info.yanked,
            yank_reason=info.yank_reason,
            published_at=Timestamp(info.published_at),
            publisher=info.publisher,
            home=home,
        )


@strawberry.type
class ModuleEdge:
    cursor: str
    node: Module


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of modules, each at its latest version.")
class ModuleConnection:
    edges: list[ModuleEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(name="Version", description="A released version of a DXN as the registry indexes it.")
class VersionInfoType:
    version: str
    cid: str = strawberry.field(description="The module record's envelope CID.")
    entry: str = strawberry.field(description="The release entry's CID.")
    yanked: bool
    yank_reason: str
    published_at: Timestamp
    publisher: str

    @classmethod
    def from_info(cls, info: VersionInfo) -> VersionInfoType:
        return cls(
            version=info.version,
            cid=str(info.record),
            entry=str(info.entry),
            yanked=info.yanked,
            yank_reason=info.yank_reason,
            published_at=Timestamp(info.published_at),
            publisher=info.publisher,
        )


def base64_hashes(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(value).decode("ascii") for value in hashes]


@strawberry.type(description="One signed entry of a namespace or DXN log; fields not of its type are null.")
class LogEntry:
    cid: str
    log: str
    leaf_index: int = strawberry.field(
        description="The entry's leaf in the registry's transparency log, or in the log `history` was asked about."
    )
    envelope: str = strawberry.field(description="The signed envelope block, base64: the leaf's data.")
    seq: int
    time: Timestamp
    type: str = strawberry.field(
        description="namespace.claim, namespace.grant, namespace.revoke, release, yank or unyank."
    )
    prev: str | None
    version: str | None
    record: str | None = strawberry.field(description="Release: the module record's envelope CID.")
    reason: str | None = strawberry.field(description="Yank: why.")
    key: str | None = strawberry.field(description="Grant or revoke: the key's did:key.")
    keys: list[str] | None = strawberry.field(description="Claim: the owners' did:keys.")
    permissions: list[str] | None = strawberry.field(description="Grant: the permissions given.")
    signers: list[str]
    proof_log: strawberry.Private[str | None] = None
    """The log the leaf index and proofs are in (None: this registry's)."""

    @strawberry.field(
        description="The entry's inclusion proof in the tree of `size` leaves (base64 hashes, leaf end first); "
        "null when the entry is not in that tree."
    )
    async def inclusion_proof(self, info: strawberry.Info, size: int) -> list[str] | None:
        if self.leaf_index >= size:
            return None
        log = await proof_log(info.context["service"].registry, self.proof_log)
        return base64_hashes(await log.inclusion_proof(self.leaf_index, size))

    @classmethod
    def from_entry(cls, stored: StoredEntry, envelope: Envelope, entry: NamespaceEntry | DXNEntry) -> LogEntry:
        return cls(
            cid=str(stored.cid),
            log=stored.log,
            leaf_index=stored.leaf_index,
            envelope=base64.b64encode(envelope.block()[1]).decode("ascii"),
            seq=entry.seq,
            time=Timestamp(entry.time),
            type=entry.TYPE,
            prev=None if entry.prev is None else str(entry.prev),
            version=str(entry.version) if isinstance(entry, DXNEntry) else None,
            record=str(entry.record) if isinstance(entry, Release) else None,
            reason=entry.reason if isinstance(entry, Yank) else None,
            key=entry.key.did if isinstance(entry, NamespaceGrant | NamespaceRevoke) and entry.key else None,
            keys=[key.did for key in entry.keys] if isinstance(entry, NamespaceClaim) else None,
            permissions=sorted(entry.permissions) if isinstance(entry, NamespaceGrant) else None,
            signers=sorted(key.did for key in envelope.signers),
        )


@strawberry.type(description="Where a log stands; cid is null and seq -1 for an empty log.")
class LogHead:
    cid: str | None
    seq: int
    time: Timestamp


@strawberry.type
class NamespaceKey:
    did: str
    permissions: list[str]


@strawberry.type(description="Who may do what in a namespace; an unclaimed one has an empty log and no keys.")
class Namespace:
    name: str
    home: str | None = strawberry.field(
        description="The origin of the home log of a namespace mirrored here (null: this registry is its home)."
    )
    head: LogHead
    keys: list[NamespaceKey]
    revoked: list[str]
    threshold: int = strawberry.field(description="How many holders of 'grant' must sign a grant or revoke.")


@strawberry.type(description="A signed checkpoint of the registry's transparency log (C2SP tlog-checkpoint).")
class Checkpoint:
    note: str = strawberry.field(description="The signed note, exactly as GET /checkpoint serves it.")
    origin: str
    size: int
    root_hash: str = strawberry.field(description="The RFC 6962 root hash of the tree, base64.")
    time: Timestamp = strawberry.field(description="When the registry signed it (its timestamp extension line).")
    verifier_key: str = strawberry.field(description="The note verifier key to pin: <origin>+<key ID>+<base64 key>.")

    @classmethod
    def from_signed(cls, signed: SignedCheckpoint, verifier_key: str) -> Checkpoint:
        return cls(
            note=signed.note,
            origin=signed.origin,
            size=signed.size,
            root_hash=base64.b64encode(signed.root).decode("ascii"),
            time=Timestamp(signed.time),
            verifier_key=verifier_key,
        )


@strawberry.type(description="The CID of an accepted log entry.")
class EntryResult:
    cid: str


@strawberry.type(description="Two signed checkpoints of one log that cannot both be true.")
class PeerEvidence:
    kind: str = strawberry.field(description="rollback or fork.")
    first: str = strawberry.field(description="The checkpoint seen first, as signed.")
    second: str = strawberry.field(description="The checkpoint that contradicts it, as signed.")
    detail: str
    time: Timestamp


@strawberry.type(name="Peer", description="A registry this one federates with: its routes, sync progress, status.")
class PeerType:
    name: str
    url: str
    mode: str = strawberry.field(description="mirror or pull-through.")
    namespaces: list[str] = strawberry.field(description="The namespace patterns routed to it.")
    origin: str = strawberry.field(description="Its log's origin (empty before the first sync).")
    status: str = strawberry.field(description="new, ok, failing or quarantined.")
    homes: list[str] = strawberry.field(description="The namespaces it says it is the home of.")
    last_error: str
    failures: int
    last_sync: Timestamp
    synced_size: int = strawberry.field(description="Leaves of its log verified here.")
    checkpoint_size: int = strawberry.field(description="Size of its newest checkpoint verified here.")
    entries_taken: int
    entries_refused: int
    evidence: list[PeerEvidence]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PeerType:
        return cls(
            name=data["name"],
            url=data["url"],
            mode=data["mode"],
            namespaces=list(data["namespaces"]),
            origin=data["origin"],
            status=data["status"],
            homes=list(data["homes"]),
            last_error=data["lastError"],
            failures=data["failures"],
            last_sync=Timestamp(data["lastSync"]),
            synced_size=data["syncedSize"],
            checkpoint_size=data["checkpointSize"],
            entries_taken=data["entriesTaken"],
            entries_refused=data["entriesRefused"],
            evidence=[
                PeerEvidence(
                    kind=item["kind"], first=item["first"], second=item["second"], detail=item["detail"],
                    time=Timestamp(item["time"]),
                )
                for item in data["evidence"]
            ],
        )


@strawberry.type(description="A release just accepted by this registry.")
class Published:
    dxn: str
    version: str
    cid: str = strawberry.field(description="The module record's envelope CID.")
    position: int = strawberry.field(description="The release entry's position in the registry's log.")

    @classmethod
    def from_event(cls, event: RegistryEvent) -> Published:
        entry = event.entry
        assert isinstance(entry, Release), "only releases are published"
        return cls(dxn=str(entry.dxn), version=str(entry.version), cid=str(entry.record), position=event.position)


@strawberry.type(
    name="RegistryEvent",
    description="An entry this registry accepted, at its position in the registry's log (1, 2, ... without gaps): "
    "resume after the last position seen to miss nothing. Fields not of its kind are null.",
)
class RegistryEventType:
    position: int
    kind: str = strawberry.field(description="claim, grant, revoke, release, yank or unyank.")
    cid: str = strawberry.field(description="The entry's envelope CID.")
    log: str
    namespace: str
    time: Timestamp
    dxn: str | None
    version: str | None
    record: str | None = strawberry.field(description="Release: the module record's envelope CID.")
    reason: str | None = strawberry.field(description="Yank: why.")
    envelope: str = strawberry.field(description="The signed envelope block, base64: verify it yourself.")

    @classmethod
    def from_event(cls, event: RegistryEvent) -> RegistryEventType:
        data = event.to_json()
        return cls(
            position=event.position,
            kind=data["kind"],
            cid=data["cid"],
            log=data["log"],
            namespace=data["namespace"],
            time=Timestamp(event.time),
            dxn=data["dxn"],
            version=data["version"],
            record=data["record"],
            reason=data["reason"],
            envelope=data["envelope"],
        )
