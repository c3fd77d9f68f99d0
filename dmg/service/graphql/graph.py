"""GraphQL answers about module graphs: ``dependencyGraph`` and ``dependents``.

``dependencyGraph(roots, hostApis)`` reads what the roots can reach from the registry (every version of every
module a dependency names, :func:`~dmg.core.resolver.prefetch`), resolves it with the PubGrub solver in a worker
thread, and answers the selected modules, the edges between them, the API bindings, an install order whose steps
are strongly connected components (modules in a dependency cycle are installed together) and the cycles. When no
versions work the graph is empty and ``conflicts`` holds the solver's explanation: an unsatisfiable request is an
answer, not an error. The semantics are the resolver's (``docs/resolution.md``); an API provider is found only
among the modules the roots reach, as a client resolving the same roots would find it.

``dependents(dxn, transitive)`` answers who depends on a module, version by version, over every release in the
registry (:func:`dmg.core.graph.dependents`).

Records are immutable, so both read them through a per-registry :class:`RecordCache` of decoded records by CID.
Each request is bounded: at most :data:`MAX_ROOTS` roots and :data:`MAX_HOST_APIS` host APIs, and a graph may read
at most :data:`MAX_GRAPH_RECORDS` module versions (``TOO_LARGE`` beyond). Clients that must not trust the server
resolve themselves over verified records (``dmg graph`` and ``dmg lock`` do); this field is for browsing.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

import strawberry

from dmg.api.results import VersionInfo
from dmg.core import graph as core_graph
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError, NotFoundError, TooLargeError
from dmg.core.records import ModuleRecord
from dmg.core.resolver import Dependency, Metadata, NoSolutionError, Resolver, Solution, parse_host_api, prefetch
from dmg.core.semver import Version
from dmg.registry import Registry

MAX_ROOTS: Final = 32
MAX_HOST_APIS: Final = 64
MAX_GRAPH_RECORDS: Final = 2_000
RECORD_CACHE_SIZE: Final = 4_096


class RecordCache:
    """Decoded module records by CID, the least recently used dropped first. A CID names its bytes, so an entry
    never goes stale; the cache holds no reference to the registry it is filled from."""

    def __init__(self, size: int = RECORD_CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError("a record cache needs room for at least one record")
        self.size = size
        self._records: OrderedDict[CID, tuple[Envelope, ModuleRecord]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    async def record(self, registry: Registry, cid: CID) -> tuple[Envelope, ModuleRecord]:
        found = self._records.get(cid)
        if found is not None:
            self._records.move_to_end(cid)
            return found
        found = await registry.record(cid)
        self._records[cid] = found
        if len(self._records) > self.size:
            self._records.popitem(last=False)
        return found


_caches: weakref.WeakKeyDictionary[Registry, RecordCache] = weakref.WeakKeyDictionary()


def record_cache(registry: Registry) -> RecordCache:
    """The record cache of ``registry``, made on first use and dropped with the registry."""
    cache = _caches.get(registry)
    if cache is None:
        cache = _caches[registry] = RecordCache()
    return cache


class _BoundedSource:
    """What :func:`prefetch` reads for one request: the registry's version lists, and records through the cache,
    at most ``budget`` of them."""

    def __init__(self, registry: Registry, cache: RecordCache, budget: int) -> None:
        self.registry = registry
        self.cache = cache
        self.budget = budget
        self.read = 0

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        return await self.registry.versions(dxn)

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]:
        self.read += 1
        if self.read > self.budget:
            raise TooLargeError(
                f"these roots reach more than {self.budget} module versions; this server resolves at most that "
                "many per request: ask for fewer roots, or resolve on the client (dmg graph)"
            )
        return await self.cache.record(self.registry, cid)


# --- arguments ----------------------------------------------------------------------------------------------------


def parse_roots(roots: Iterable[str]) -> list[Dependency]:
    """Root requirements from ``DXN[@range]`` texts (none or ``latest``: any stable version)."""
    texts = list(roots)
    if not texts:
        raise DmgError("name at least one root module, like com.example/app/inbox@^1.2")
    if len(texts) > MAX_ROOTS:
        raise TooLargeError(f"{len(texts)} roots; this server resolves at most {MAX_ROOTS} at once")
    return [Dependency.from_dxn(DXN.parse(text)) for text in texts]


def parse_host_apis(host_apis: Iterable[str]) -> list[tuple[str, Version]]:
    """``(API name, version)`` pairs from ``API@VERSION`` texts: the APIs the target host offers."""
    texts = list(host_apis)
    if len(texts) > MAX_HOST_APIS:
        raise TooLargeError(f"{len(texts)} host APIs; this server accepts at most {MAX_HOST_APIS}")
    return [parse_host_api(text) for text in texts]


# --- dependencyGraph ----------------------------------------------------------------------------------------------


@strawberry.type(description="One module of a resolved graph, at its selected version.")
class GraphNode:
    dxn: str
    version: str
    cid: str = strawberry.field(description="The module record's envelope CID.")
    bundle: str = strawberry.field(description="The bundle index CID.")
    yanked: bool = strawberry.field(description="True only when a root pins this yanked version exactly.")


@strawberry.type(description="`from` needs `to`: a dependency, or (kind 'api') a required API `to` provides.")
class GraphEdge:
    from_: str = strawberry.field(name="from")
    to: str
    range: str = strawberry.field(description="The range as written; for an API edge, API@range.")
    kind: str = strawberry.field(description="'dependency' or 'api'.")


@strawberry.type(description="The version of an API the graph binds to, and who offers it.")
class ApiBinding:
    dxn: str
    version: str
    provider: str | None = strawberry.field(description="The module providing it; null when the host offers it.")


@strawberry.type(description="Why no set of versions satisfies the roots.")
class Conflict:
    explanation: str = strawberry.field(description="The resolver's derivation, in numbered plain sentences.")


@strawberry.type(description="The module graph the roots resolve to; empty, with conflicts, when they cannot.")
class DependencyGraph:
    roots: list[str] = strawberry.field(description="The root requirements, as DXN@range.")
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    apis: list[ApiBinding]
    install_order: list[list[str]] = strawberry.field(
        description="Install steps, dependencies first; each step is a strongly connected component (usually one "
        "module; modules in a dependency cycle share a step and are installed together)."
    )
    cycles: list[list[str]] = strawberry.field(description="The modules that depend on each other in a cycle.")
    conflicts: list[Conflict]

    @classmethod
    def from_solution(cls, solution: Solution) -> DependencyGraph:
        graph = core_graph.dependency_graph(solution)
        return cls(
            roots=[str(root) for root in solution.roots],
            nodes=[
                GraphNode(
                    dxn=name,
                    version=str(module.version),
                    cid=str(module.record),
                    bundle=str(module.metadata.bundle),
                    yanked=module.yanked,
                )
                for name, module in solution.modules.items()
            ],
            edges=[
                GraphEdge(from_=source, to=target, range=data["range"], kind=data["kind"])
                for source, target, data in sorted(graph.edges(data=True))
            ],
            apis=[
                ApiBinding(dxn=name, version=str(binding.version), provider=binding.provider)
                for name, binding in solution.apis.items()
            ],
            install_order=[list(step) for step in core_graph.install_order(graph)],
            cycles=[list(cycle) for cycle in core_graph.cycles(graph)],
            conflicts=[],
        )

    @classmethod
    def unsatisfiable(cls, roots: Iterable[Dependency], failure: NoSolutionError) -> DependencyGraph:
        return cls(
            roots=[str(root) for root in roots],
            nodes=[],
            edges=[],
            apis=[],
            install_order=[],
            cycles=[],
            conflicts=[Conflict(explanation=failure.explanation)],
        )


async def dependency_graph(
    registry: Registry, roots: Iterable[str], host_apis: Iterable[str] = (), *, budget: int = MAX_GRAPH_RECORDS
) -> DependencyGraph:
    """Resolve ``roots`` (``DXN[@range]``) for a host offering ``host_apis`` (``API@VERSION``) over ``registry``."""
    requirements = parse_roots(roots)
    host = parse_host_apis(host_apis)
    source = _BoundedSource(registry, record_cache(registry), budget)
    provider = await prefetch(source, [root.name for root in requirements])
    try:
        solution = await asyncio.to_thread(Resolver(provider).resolve, requirements, host)
    except NoSolutionError as failure:
        return DependencyGraph.unsatisfiable(requirements, failure)
    return DependencyGraph.from_solution(solution)


# --- dependents ---------------------------------------------------------------------------------------------------


@strawberry.type(description="A release that depends on the module asked about, directly or through others.")
class Dependent:
    dxn: str
    version: str
    cid: str = strawberry.field(description="The dependent's module record CID.")
    yanked: bool
    distance: int = strawberry.field(description="1 for a direct dependency, more through other modules.")
    depends_on: str = strawberry.field(description="The module its edge towards the one asked about leads to.")
    range: str = strawberry.field(description="The range of that edge, as written.")


async def dependents(registry: Registry, dxn: str, *, transitive: bool = False) -> list[Dependent]:
    """Releases whose ranges admit a released version of ``dxn`` (of exactly ``dxn@VERSION`` when given), nearest
    first; with ``transitive`` also those depending on them, and so on."""
    name = DXN.parse(dxn)
    selector = name.version_selector()
    if not (selector is None or isinstance(selector, Version)):
        raise DmgError(f"dependents takes a module, or one exact version of it; {dxn!r} names a range or a tag")
    cache = record_cache(registry)
    releases: list[tuple[str, Version, Metadata]] = []
    listed: dict[tuple[str, Version], VersionInfo] = {}
    for info in await registry.releases():
        _, record = await cache.record(registry, info.record)
        releases.append((str(info.dxn), record.version, Metadata.from_record(record)))
        listed[(str(info.dxn), record.version)] = info
    versions = [version for module, version in listed if module == str(name.base)]
    if not versions:
        raise NotFoundError(f"{name.base} has no released versions in this registry")
    if selector is not None and selector not in versions:
        raise NotFoundError(f"{name.base}@{selector} is not released in this registry")
    found = core_graph.dependents(releases, str(name.base), version=selector, transitive=transitive)
    return [
        Dependent(
            dxn=item.name,
            version=str(item.version),
            cid=str(listed[(item.name, item.version)].record),
            yanked=listed[(item.name, item.version)].yanked,
            distance=item.distance,
            depends_on=item.depends_on,
            range=item.range,
        )
        for item in found
    ]
