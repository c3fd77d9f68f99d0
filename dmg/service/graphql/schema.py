"""The GraphQL schema: queries over the registry, mutations taking signed envelopes, and a publish subscription.

Resolvers parse their arguments with the core parsers (a bad DXN, range, version or CID is a ``BAD_REQUEST``),
call the registry, and convert what it returns with :mod:`dmg.service.graphql.types`; a name that is not there
is a ``NOT_FOUND`` error. Mutations take one signed envelope block, base64-encoded, and check that its entry type
is the one the mutation names before the registry verifies and stores it.

``python -m dmg.service.graphql.schema`` prints the schema; ``--write`` updates ``schema/schema.graphql``.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated, Any, Final

import strawberry
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from dmg.api.events import RegistryEvent
from dmg.api.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from dmg.api.results import listed_info
from dmg.core import codec
from dmg.core.car import MAX_BLOCK_SIZE
from dmg.core.cid import DAG_CBOR
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError, NotFoundError, RecordError, TooLargeError
from dmg.core.records import NamespaceClaim, NamespaceGrant, NamespaceRevoke, Release, Unyank, Yank, parse_entry
from dmg.core.semver import Version, parse_selector
from dmg.http.graphql import TIMESTAMP_SCALAR, CodedSchema, Timestamp, printed, schema_command, schema_extensions
from dmg.http.graphql_cost import CostRules, operation_limits
from dmg.service.context import Service
from dmg.service.graphql import graph, types
from dmg.service.logs import home_of, leaf_in, proof_log, signed_checkpoint
from dmg.service.names import parse_cid, parse_kind, parse_namespace

SCHEMA_FILE: Final = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"
MODULES_LISTING: Final = "modules"
"""The listing name in the cursors of the ``modules`` connection."""

ServiceInfo = Info[Any, None]


def service(info: ServiceInfo) -> Service:
    context_service: Service = info.context["service"]
    return context_service


async def load_module(info: ServiceInfo, dxn: DXN, version: str | None) -> types.Module | None:
    """The module at ``version``, or at its latest (highest stable unyanked, else highest) when None."""
    registry = service(info).registry
    if version is None:
        infos = await registry.versions(dxn)
        chosen = listed_info(infos)
    else:
        chosen = await registry.version(dxn, version)
    if chosen is None:
        return None
    _, record = await registry.record(chosen.record)
    return types.Module.from_record(chosen, record, await home_of(registry, dxn.authority))


@strawberry.type
class Query:
    @strawberry.field(description="The version of a DXN that a range (or the DXN's own @selector) resolves to.")
    async def resolve(self, info: ServiceInfo, dxn: str, range: str | None = None) -> types.Resolution | None:
        name = DXN.parse(dxn)
        if range is not None and name.selector is not None:
            raise DmgError(f"give the version once: either {dxn!r} carries @{name.selector} or range does, not both")
        selector = None if range is None else parse_selector(range)
        return types.Resolution.from_resolution(await service(info).registry.resolve(name, selector))

    @strawberry.field(description="One exact version of a module.")
    async def module(self, info: ServiceInfo, dxn: str, version: str) -> types.Module | None:
        name = DXN.parse(dxn).base
        exact = Version.parse(version)
        found = await load_module(info, name, str(exact))
        if found is None:
            raise NotFoundError(f"{name}@{exact} is not released in this registry")
        return found

    @strawberry.field(
        description="Modules at their latest versions; `query` searches names, descriptions and function names "
        "(every word, as a prefix; best match first), the other arguments filter exactly."
    )
    async def modules(
        self,
        info: ServiceInfo,
        query: str | None = None,
        namespace: str | None = None,
        kind: str | None = None,
        api: str | None = None,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> types.ModuleConnection:
        registry = service(info).registry
        listing = await registry.search(
            query,
            namespace=None if namespace is None else parse_namespace(namespace),
            kind=None if kind is None else parse_kind(kind),
            api=None if api is None else str(DXN.parse(api).base),
            first=DEFAULT_PAGE_SIZE if first is None else first,
            after=after,
        )
        return types.ModuleConnection(
            edges=[
                types.ModuleEdge(
                    cursor=item.cursor,
                    node=types.Module.from_record(
                        item.info, item.record, await home_of(registry, item.info.dxn.authority)
                    ),
                )
                for item in listing.modules
            ],
            page_info=types.PageInfo(has_next_page=listing.has_next, end_cursor=listing.end_cursor),
            total_count=listing.total,
        )

    @strawberry.field(description="Every released version of a DXN, lowest first (empty if it has none).")
    async def versions(self, info: ServiceInfo, dxn: str) -> list[types.VersionInfoType]:
        infos = await service(info).registry.versions(DXN.parse(dxn))
        return [types.VersionInfoType.from_info(item) for item in infos]

    @strawberry.field(
        description="The signed entries of a DXN's log (or of a namespace's log, given the bare namespace), in order."
    )
    async def history(self, info: ServiceInfo, dxn: str, log: str | None = None) -> list[types.LogEntry]:
        name = str(DXN.parse(dxn).base) if "/" in dxn else parse_namespace(dxn)
        registry = service(info).registry
        entries = []
        for stored, block in await registry.log_entries(name):
            leaf = await leaf_in(registry, log, stored.cid, stored.leaf_index)
            if leaf is None:
                raise NotFoundError(f"entry {stored.cid} of {name} is not in the log {log!r}")
            envelope = Envelope.decode(block)
            entry = types.LogEntry.from_entry(stored, envelope, parse_entry(envelope.payload))
            entry.leaf_index, entry.proof_log = leaf, log
            entries.append(entry)
        return entries

    @strawberry.field(description="A namespace's log head, its keys with their permissions, and its revoked keys.")
    async def namespace(self, info: ServiceInfo, name: str) -> types.Namespace:
        registry = service(info).registry
        state = await registry.namespace(parse_namespace(name))
        return types.Namespace(
            home=await home_of(registry, state.namespace),
            name=state.namespace,
            head=types.LogHead(
                cid=None if state.head.cid is None else str(state.head.cid),
                seq=state.head.seq,
                time=Timestamp(state.head.time),
            ),
            keys=[
                types.NamespaceKey(did=key.did, permissions=sorted(permissions))
                for key, permissions in sorted(state.permissions.items())
            ],
            revoked=sorted(key.did for key in state.revoked),
            threshold=state.threshold,
        )

    @strawberry.field(description="The latest signed checkpoint of the registry's transparency log.")
    async def checkpoint(self, info: ServiceInfo, log: str | None = None) -> types.Checkpoint:
        signed, key = await signed_checkpoint(service(info).registry, log)
        return types.Checkpoint.from_signed(signed, key)

    @strawberry.field(description="The inclusion proof of leaf `leaf` in the tree of `size` leaves: base64 hashes.")
    async def inclusion_proof(self, info: ServiceInfo, leaf: int, size: int, log: str | None = None) -> list[str]:
        found = await proof_log(service(info).registry, log)
        return types.base64_hashes(await found.inclusion_proof(leaf, size))

    @strawberry.field(description="The proof that the tree of `from` leaves is a prefix of the tree of `to` leaves.")
    async def consistency_proof(
        self,
        info: ServiceInfo,
        from_: Annotated[int, strawberry.argument(name="from")],
        to: int,
        log: str | None = None,
    ) -> list[str]:
        found = await proof_log(service(info).registry, log)
        return types.base64_hashes(await found.consistency_proof(from_, to))

    @strawberry.field(
        description="Any stored block, decoded, as canonical DAG-JSON: map keys in UTF-8 byte order, CIDs as "
        '{"/": cid}, bytes as {"/": {"bytes": b64}} (base64 without padding).'
    )
    async def record(self, info: ServiceInfo, cid: str) -> JSON:
        parsed = parse_cid(cid)
        data = await service(info).registry.get_block(parsed)
        return types.dag_json(codec.decode(data) if parsed.codec == DAG_CBOR else data)

    @strawberry.field(
        description="Resolve root modules (DXN[@range]) for a host offering `hostApis` (API@VERSION): the selected "
        "modules, their edges, an install order and any conflict, explained."
    )
    async def dependency_graph(
        self, info: ServiceInfo, roots: list[str], host_apis: list[str] | None = None
    ) -> graph.DependencyGraph:
        return await graph.dependency_graph(service(info).registry, roots, host_apis or ())

    @strawberry.field(
        description="Releases that depend on a module (or on DXN@VERSION), nearest first; `transitive` adds those "
        "depending on them, and so on."
    )
    async def dependents(self, info: ServiceInfo, dxn: str, transitive: bool | None = False) -> list[graph.Dependent]:
        return await graph.dependents(service(info).registry, dxn, transitive=bool(transitive))

    @strawberry.field(
        description="The peers this registry federates with (operator only: send Authorization: Bearer with the "
        "server's admin_token); empty without federation."
    )
    async def peers(self, info: ServiceInfo) -> list[types.PeerType]:
        own = service(info)
        own.check_admin(info.context["request"])
        mirrors = own.registry.mirrors
        return [] if mirrors is None else [types.PeerType.from_json(item) for item in await mirrors.peer_statuses()]

    @strawberry.field(
        description="The entries accepted after log position `after` (0: from the first), in log order: up to "
        "`first` of them; pass the last one's position as `after` for the next. The subscription `events` is the "
        "same, live."
    )
    async def events(
        self, info: ServiceInfo, after: int = 0, first: int | None = DEFAULT_PAGE_SIZE
    ) -> list[types.RegistryEventType]:
        limit = DEFAULT_PAGE_SIZE if first is None else first
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise DmgError(f"first: ask for 1 to {MAX_PAGE_SIZE} events, not {limit}")
        found = await service(info).registry.entries_since(after, limit)
        return [types.RegistryEventType.from_event(event) for event in found]


async def submit(info: ServiceInfo, envelope: str, entry_type: str) -> types.EntryResult:
    """Check the write allowance, decode the base64 envelope, check its entry type, submit it."""
    own = service(info)
    own.check_write(info.context["request"])
    if len(envelope) > MAX_BLOCK_SIZE * 4 // 3 + 4:
        raise TooLargeError(f"envelope is over the {MAX_BLOCK_SIZE}-byte block limit")
    try:
        block = base64.b64decode(envelope, validate=True)
    except binascii.Error:
        raise DmgError("envelope must be the envelope block in standard base64 (with padding)") from None
    given = Envelope.decode(block).payload.get("type")
    if given != entry_type:
        raise RecordError(f"this mutation takes a {entry_type!r} entry; the envelope holds {given!r}")
    cid = await own.registry.submit_entry(block)
    own.metrics.entries.labels("mutation").inc()
    return types.EntryResult(cid=str(cid))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Claim a namespace: a signed namespace.claim entry, base64.")
    async def claim_namespace(self, info: ServiceInfo, envelope: str) -> types.EntryResult:
        return await submit(info, envelope, NamespaceClaim.TYPE)

    @strawberry.mutation(description="Grant a key permissions: a signed namespace.grant entry, base64.")
    async def grant_key(self, info: ServiceInfo, envelope: str) -> types.EntryResult:
        return await submit(info, envelope, NamespaceGrant.TYPE)

    @strawberry.mutation(description="Revoke a key: a signed namespace.revoke entry, base64.")
    async def revoke_key(self, info: ServiceInfo, envelope: str) -> types.EntryResult:
        return await submit(info, envelope, NamespaceRevoke.TYPE)

    @strawberry.mutation(description="Yank a version: a signed yank entry, base64.")
    async def yank(self, info: ServiceInfo, envelope: str) -> types.EntryResult:
        return await submit(info, envelope, Yank.TYPE)

    @strawberry.mutation(description="Unyank a version: a signed unyank entry, base64.")
    async def unyank(self, info: ServiceInfo, envelope: str) -> types.EntryResult:
        return await submit(info, envelope, Unyank.TYPE)


def _in_namespace(event: RegistryEvent, wanted: str | None) -> bool:
    return wanted is None or event.namespace == wanted


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Releases accepted from now on (or after log position `after`, to resume without a gap), in one "
        "namespace or in all, whichever way they came in."
    )
    async def published(
        self, info: ServiceInfo, namespace: str | None = None, after: int | None = None
    ) -> AsyncGenerator[types.Published, None]:
        wanted = None if namespace is None else parse_namespace(namespace)
        async for event in service(info).registry.subscribe(after):
            if isinstance(event.entry, Release) and _in_namespace(event, wanted):
                yield types.Published.from_event(event)

    @strawberry.subscription(
        description="Every entry accepted from now on (or after log position `after`): claims, grants, revokes, "
        "releases, yanks and unyanks, in log order, in one namespace or in all."
    )
    async def events(
        self, info: ServiceInfo, namespace: str | None = None, after: int | None = None
    ) -> AsyncGenerator[types.RegistryEventType, None]:
        wanted = None if namespace is None else parse_namespace(namespace)
        async for event in service(info).registry.subscribe(after):
            if _in_namespace(event, wanted):
                yield types.RegistryEventType.from_event(event)


def cost_rules(max_depth: int, max_cost: int) -> CostRules:
    """How the registry's operations are priced: ``modules`` is its paginated connection."""
    return CostRules(
        max_depth,
        max_cost,
        connections=frozenset({"modules"}),
        default_page_size=DEFAULT_PAGE_SIZE,
        max_page_size=MAX_PAGE_SIZE,
    )


def build_schema(max_depth: int = 10, max_cost: int = 1000) -> CodedSchema:
    """The schema with its operation limits (one rule class per schema, so that cached validations are found
    again) and the standard extensions of :func:`dmg.http.graphql.schema_extensions`."""
    return CodedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Timestamp: TIMESTAMP_SCALAR}),
        extensions=schema_extensions([operation_limits(cost_rules(max_depth, max_cost))]),
    )


def printed_schema() -> str:
    """The schema in SDL, as checked in at ``schema/schema.graphql``."""
    return printed(build_schema())


if __name__ == "__main__":
    schema_command(sys.argv[1:], printed_schema(), SCHEMA_FILE, "dmg.service.graphql.schema")
