"""Module graphs: building from a solution, install order with cycles, reverse dependencies, DOT and tree text."""

from __future__ import annotations

import networkx as nx
import pytest

from dmg.core.cid import CID, RAW
from dmg.core.errors import NotFoundError
from dmg.core.graph import (
    API,
    DEPENDENCY,
    Dependent,
    Edge,
    build_graph,
    cycles,
    dependency_graph,
    dependents,
    install_order,
    render_tree,
    to_dot,
)
from dmg.core.resolver import Dependency, InMemoryProvider, Metadata, Resolver
from dmg.core.semver import Version

MAIL = "x.test/api/mail"


def metadata(*dependencies: tuple[str, str], requires: tuple[str, str] | None = None, provides: str = "") -> Metadata:
    return Metadata(
        tuple(Dependency(name, wanted) for name, wanted in dependencies),
        (Dependency(*requires),) if requires else (),
        ((MAIL, Version.parse(provides)),) if provides else (),
    )


@pytest.fixture
def provider() -> InMemoryProvider:
    """app needs a and b; a needs b and c; c and d depend on each other; d provides the mail API app requires."""
    universe = InMemoryProvider()
    record = CID.of(b"app record", RAW)
    universe.add("app", "1.0.0", metadata(("a", "^1"), ("b", "^2"), requires=(MAIL, "^1")), record=record)
    universe.add("a", "1.0.0", metadata(("b", "^2"), ("c", "*")))
    universe.add("a", "1.1.0", metadata(("b", "^1")))
    universe.add("b", "1.0.0", metadata())
    universe.add("b", "2.0.0", metadata(("c", "*")))
    universe.add("c", "1.0.0", metadata(("d", "^1")))
    universe.add("d", "1.0.0", metadata(("c", "^1"), provides="1.0.0"))
    return universe


@pytest.fixture
def graph(provider: InMemoryProvider) -> nx.DiGraph:
    return dependency_graph(Resolver(provider).resolve([Dependency("app", "*")]))


def test_the_graph_of_a_solution(graph: nx.DiGraph) -> None:
    assert sorted(graph.nodes) == ["a", "app", "b", "c", "d"]
    assert graph.graph["roots"] == ["app"]
    assert graph.nodes["a"]["version"] == Version(1, 0, 0)
    assert graph.nodes["app"]["record"] == CID.of(b"app record", RAW)
    assert graph.edges["app", "a"] == {"range": "^1", "kind": DEPENDENCY}
    assert graph.edges["app", "d"] == {"range": f"{MAIL}@^1", "kind": API}
    assert sorted(graph.edges) == [
        ("a", "b"),
        ("a", "c"),
        ("app", "a"),
        ("app", "b"),
        ("app", "d"),
        ("b", "c"),
        ("c", "d"),
        ("d", "c"),
    ]


def test_install_order_puts_dependencies_first_and_cycles_together(graph: nx.DiGraph) -> None:
    assert install_order(graph) == [("c", "d"), ("b",), ("a",), ("app",)]
    assert cycles(graph) == [("c", "d")]


def test_install_order_is_stable_between_independent_modules() -> None:
    graph = build_graph([(name, Version(1, 0, 0), None) for name in "zyxw"], [Edge("z", "x", "*")])
    assert install_order(graph) == [("w",), ("x",), ("y",), ("z",)]
    assert cycles(graph) == []


def test_a_self_loop_is_a_cycle() -> None:
    graph = build_graph([("a", Version(1, 0, 0), None)], [Edge("a", "a", "*")])
    assert cycles(graph) == [("a",)]
    assert install_order(graph) == [("a",)]


def test_a_dependency_edge_wins_over_an_api_edge() -> None:
    modules = [("a", Version(1, 0, 0), None), ("b", Version(1, 0, 0), None)]
    graph = build_graph(modules, [Edge("a", "b", "^1"), Edge("a", "b", f"{MAIL}@^1", API)])
    assert graph.edges["a", "b"]["kind"] == DEPENDENCY
    graph = build_graph(modules, [Edge("a", "b", f"{MAIL}@^1", API), Edge("a", "b", "^1")])
    assert graph.edges["a", "b"] == {"range": "^1", "kind": DEPENDENCY}


def test_build_graph_refuses_edges_and_roots_outside_it() -> None:
    with pytest.raises(NotFoundError, match="names b, which is not in the graph"):
        build_graph([("a", Version(1, 0, 0), None)], [Edge("a", "b", "*")])
    with pytest.raises(NotFoundError, match="the root z is not in the graph"):
        build_graph([("a", Version(1, 0, 0), None)], [], ["z"])


def releases(provider: InMemoryProvider) -> list[tuple[str, Version, Metadata]]:
    return [
        (name, candidate.version, provider.metadata(name, candidate.version))
        for name in provider.names()
        for candidate in provider.candidates(name)
    ]


def test_direct_dependents(provider: InMemoryProvider) -> None:
    assert dependents(releases(provider), "b") == [
        Dependent(1, "a", Version(1, 0, 0), "b", "^2"),
        Dependent(1, "a", Version(1, 1, 0), "b", "^1"),
        Dependent(1, "app", Version(1, 0, 0), "b", "^2"),
    ]


def test_dependents_of_one_version(provider: InMemoryProvider) -> None:
    assert dependents(releases(provider), "b", version=Version(1, 0, 0)) == [
        Dependent(1, "a", Version(1, 1, 0), "b", "^1")
    ]


def test_transitive_dependents_through_a_cycle(provider: InMemoryProvider) -> None:
    # a 1.1.0 wants b ^1, and b 1.0.0 needs no c: only versions that reach c count.
    assert dependents(releases(provider), "c", transitive=True) == [
        Dependent(1, "a", Version(1, 0, 0), "c", "*"),
        Dependent(1, "b", Version(2, 0, 0), "c", "*"),
        Dependent(1, "d", Version(1, 0, 0), "c", "^1"),
        Dependent(2, "app", Version(1, 0, 0), "a", "^1"),
    ]
    assert [(each.name, each.distance) for each in dependents(releases(provider), "c")] == [
        ("a", 1),
        ("b", 1),
        ("d", 1),
    ]


def test_a_range_matching_no_release_makes_no_edge() -> None:
    universe = InMemoryProvider()
    universe.add("lib", "1.0.0")
    universe.add("app", "1.0.0", metadata(("lib", "^2")))
    assert dependents(releases(universe), "lib") == []


def test_dependents_of_unknown_modules_are_refused(provider: InMemoryProvider) -> None:
    with pytest.raises(NotFoundError, match="ghost is not among the releases"):
        dependents(releases(provider), "ghost")
    with pytest.raises(NotFoundError, match=r"b 9\.0\.0 is not among the releases"):
        dependents(releases(provider), "b", version=Version(9, 0, 0))


def test_dot_text(graph: nx.DiGraph) -> None:
    assert to_dot(graph, "app") == (
        'digraph "app" {\n'
        "  node [shape=box];\n"
        '  "a" [label="a\\n1.0.0"];\n'
        '  "app" [label="app\\n1.0.0"];\n'
        '  "b" [label="b\\n2.0.0"];\n'
        '  "c" [label="c\\n1.0.0"];\n'
        '  "d" [label="d\\n1.0.0"];\n'
        '  "a" -> "b" [label="^2"];\n'
        '  "a" -> "c" [label="*"];\n'
        '  "app" -> "a" [label="^1"];\n'
        '  "app" -> "b" [label="^2"];\n'
        f'  "app" -> "d" [label="{MAIL}@^1", style=dashed];\n'
        '  "b" -> "c" [label="*"];\n'
        '  "c" -> "d" [label="^1"];\n'
        '  "d" -> "c" [label="^1"];\n'
        '  subgraph "cluster_cycle_0" { label="cycle"; "c"; "d"; }\n'
        "}\n"
    )


def test_dot_text_escapes_quotes_and_backslashes() -> None:
    graph = build_graph([('we"ird\\', None, None)], [])
    assert '"we\\"ird\\\\" [label="we\\"ird\\\\"];' in to_dot(graph)


def test_tree_text(graph: nx.DiGraph) -> None:
    assert render_tree(graph) == (
        "app 1.0.0\n"
        "├── a 1.0.0 [^1]\n"
        "│   ├── b 2.0.0 [^2]\n"
        "│   │   └── c 1.0.0 [*]\n"
        "│   │       └── d 1.0.0 [^1]\n"
        "│   │           └── c 1.0.0 [^1] (cycle)\n"
        "│   └── c 1.0.0 [*] (see above)\n"
        "├── b 2.0.0 [^2] (see above)\n"
        f"└── d 1.0.0 [{MAIL}@^1] (see above)\n"
    )


def test_tree_from_chosen_roots_and_from_sources(graph: nx.DiGraph) -> None:
    assert render_tree(graph, ["b", "c"]) == (
        "b 2.0.0\n└── c 1.0.0 [*]\n    └── d 1.0.0 [^1]\n        └── c 1.0.0 [^1] (cycle)\nc 1.0.0 (see above)\n"
    )
    plain = build_graph([("x", Version(1, 0, 0), None), ("y", Version(2, 0, 0), None)], [Edge("x", "y", "^2")])
    assert render_tree(plain) == "x 1.0.0\n└── y 2.0.0 [^2]\n"
    assert render_tree(nx.DiGraph()) == ""
    with pytest.raises(NotFoundError, match="the root q is not in the graph"):
        render_tree(plain, ["q"])
