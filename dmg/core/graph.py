"""Graphs of modules with networkx: install order, cycles, reverse dependencies, DOT text and a tree.

What this module does:

- :func:`dependency_graph` turns a :class:`~dmg.core.resolver.Solution` into a :class:`networkx.DiGraph` whose
  nodes are module names (attributes ``version`` and ``record``) and whose edges go from a module to what it
  needs (attributes ``range``, the spec as written, and ``kind``: ``"dependency"``, or ``"api"`` for an edge to
  the selected module that provides a required API). :func:`build_graph` makes the same shape from plain data (a
  lockfile uses it).
- :func:`install_order` is a topological order of that graph, dependencies first, in which every strongly
  connected component (modules that depend on each other in a cycle) is one step, installed together;
  :func:`cycles` lists those components.
- :func:`dependents` answers "who depends on this module" over a set of releases (direct or transitive), at
  the level of versions: a release depends on a version when one of its ranges admits that version.
- :func:`to_dot` writes Graphviz DOT text (by hand: networkx's DOT bridge needs pydot), :func:`render_tree` an
  indented tree like ``npm ls``.

Ties are broken by name everywhere, so every output is stable for the same input. This module does not resolve
versions (see :mod:`dmg.core.resolver`) or fetch anything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from dmg.core.cid import CID
from dmg.core.errors import NotFoundError
from dmg.core.resolver import Metadata, Solution
from dmg.core.semver import Version

DEPENDENCY: str = "dependency"
API: str = "api"


@dataclass(frozen=True)
class Edge:
    """``source`` needs ``target``: ``range`` as written, ``kind`` ``"dependency"`` or ``"api"``."""

    source: str
    target: str
    range: str
    kind: str = DEPENDENCY


def build_graph(
    modules: Iterable[tuple[str, Version, CID | None]], edges: Iterable[Edge], roots: Sequence[str] = ()
) -> nx.DiGraph[str]:
    """A module graph from ``(name, version, record)`` nodes and edges; ``graph.graph["roots"]`` keeps ``roots``.

    Every edge must join two listed modules; a dependency edge wins over an API edge between the same two.
    """
    graph: nx.DiGraph[str] = nx.DiGraph(roots=list(roots))
    for name, version, record in modules:
        graph.add_node(name, version=version, record=record)
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in graph:
                raise NotFoundError(f"the edge {edge.source} -> {edge.target} names {end}, which is not in the graph")
        if graph.has_edge(edge.source, edge.target) and edge.kind != DEPENDENCY:
            continue
        graph.add_edge(edge.source, edge.target, range=edge.range, kind=edge.kind)
    for root in roots:
        if root not in graph:
            raise NotFoundError(f"the root {root} is not in the graph")
    return graph


def dependency_graph(solution: Solution) -> nx.DiGraph[str]:
    """The graph of a solution: its modules, their dependencies, and API edges to providing modules."""
    edges = []
    for name, module in solution.modules.items():
        edges += [Edge(name, dependency.name, dependency.spec) for dependency in module.metadata.dependencies]
        for requirement in module.metadata.requires:
            binding = solution.apis.get(requirement.name)
            if binding is not None and binding.provider is not None and binding.provider != name:
                edges.append(Edge(name, binding.provider, f"{requirement.name}@{requirement.spec}", API))
    nodes = [(name, module.version, module.record) for name, module in solution.modules.items()]
    roots = sorted({root.name for root in solution.roots})
    return build_graph(nodes, edges, roots)


def install_order(graph: nx.DiGraph[str]) -> list[tuple[str, ...]]:
    """Steps to install in: each a strongly connected component (usually one module), dependencies first."""
    condensed = nx.condensation(graph)
    members = {node: tuple(sorted(data["members"])) for node, data in condensed.nodes(data=True)}
    order = nx.lexicographical_topological_sort(condensed.reverse(copy=False), key=lambda node: members[node][0])
    return [members[node] for node in order]


def cycles(graph: nx.DiGraph[str]) -> list[tuple[str, ...]]:
    """The modules that depend on each other in a cycle, one sorted tuple per strongly connected component."""
    found = [
        tuple(sorted(component))
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1 or graph.has_edge(next(iter(component)), next(iter(component)))
    ]
    return sorted(found)


@dataclass(frozen=True, order=True)
class Dependent:
    """A release that depends on the module asked about: ``distance`` 1 directly, more through others;
    ``depends_on`` and ``range`` are its edge towards the module (the first found, nearest first)."""

    distance: int
    name: str
    version: Version
    depends_on: str
    range: str


def dependents(
    releases: Iterable[tuple[str, Version, Metadata]],
    name: str,
    *,
    version: Version | None = None,
    transitive: bool = False,
) -> list[Dependent]:
    """Who depends on ``name`` (on ``version`` of it when given, else on any released version), among
    ``releases``; with ``transitive`` also who depends on those, and so on. Sorted by distance, name, version.

    A range that admits no released version of its target makes no edge: it depends on nothing that exists.
    """
    listed = list(releases)
    versions: dict[str, list[Version]] = {}
    for release_name, release_version, _ in listed:
        versions.setdefault(release_name, []).append(release_version)
    if name not in versions:
        raise NotFoundError(f"{name} is not among the releases")
    if version is not None and version not in versions[name]:
        raise NotFoundError(f"{name} {version} is not among the releases")
    graph: nx.DiGraph[tuple[str, Version]] = nx.DiGraph()
    for release_name, release_version, metadata in listed:
        for dependency in metadata.dependencies:
            for target_version in versions.get(dependency.name, ()):
                if dependency.range.contains(target_version):
                    graph.add_edge(
                        (release_name, release_version), (dependency.name, target_version), range=dependency.spec
                    )
    start = [(name, version)] if version is not None else [(name, each) for each in sorted(versions[name])]
    found: dict[tuple[str, Version], Dependent] = {}
    queue = deque((node, 0) for node in start if node in graph)
    while queue:
        node, distance = queue.popleft()
        if distance and not transitive:
            break
        for source in sorted(graph.predecessors(node)):
            if source in found or source in start:
                continue
            found[source] = Dependent(distance + 1, source[0], source[1], node[0], graph.edges[source, node]["range"])
            queue.append((source, distance + 1))
    return sorted(found.values())


def _quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, line breaks as DOT's ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: nx.DiGraph[str], name: str = "modules") -> str:
    """Graphviz DOT text: one box per module labelled with its version, edges labelled with their ranges,
    API edges dashed, and each cycle drawn inside a cluster."""
    lines = [f"digraph {_quote(name)} {{", "  node [shape=box];"]
    for node in sorted(graph.nodes):
        version = graph.nodes[node].get("version")
        label = node if version is None else f"{node}\n{version}"
        lines.append(f"  {_quote(node)} [label={_quote(label)}];")
    for source, target in sorted(graph.edges):
        data = graph.edges[source, target]
        style = ", style=dashed" if data.get("kind") == API else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)} [label={_quote(str(data.get('range', '')))}{style}];")
    for index, component in enumerate(cycles(graph)):
        members = " ".join(_quote(member) + ";" for member in component)
        lines.append(f"  subgraph {_quote(f'cluster_cycle_{index}')} {{ label={_quote('cycle')}; {members} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_tree(graph: nx.DiGraph[str], roots: Sequence[str] | None = None) -> str:
    """An indented tree from ``roots`` (default: the graph's roots, else the modules nothing depends on).

    Each line is ``name version [range]``; a module already shown is marked ``(see above)`` and not expanded
    again, and an edge back into the current path is marked ``(cycle)``.
    """
    if roots is None:
        roots = graph.graph.get("roots") or sorted(node for node in graph if graph.in_degree(node) == 0)
    lines: list[str] = []
    shown: set[str] = set()

    def label(node: str) -> str:
        version = graph.nodes[node].get("version")
        return node if version is None else f"{node} {version}"

    def walk(node: str, prefix: str, path: tuple[str, ...]) -> None:
        children = sorted(graph.successors(node))
        for index, child in enumerate(children):
            last = index == len(children) - 1
            wanted = graph.edges[node, child].get("range", "")
            text = f"{label(child)} [{wanted}]"
            if child in path:
                text += " (cycle)"
            elif child in shown:
                text += " (see above)"
            lines.append(prefix + ("└── " if last else "├── ") + text)
            if child not in path and child not in shown:
                shown.add(child)
                walk(child, prefix + ("    " if last else "│   "), (*path, child))

    for root in roots:
        if root not in graph:
            raise NotFoundError(f"the root {root} is not in the graph")
        lines.append(label(root) + (" (see above)" if root in shown else ""))
        if root not in shown:
            shown.add(root)
            walk(root, "", (root,))
    return "\n".join(lines) + ("\n" if lines else "")
