"""``dmg graph`` on a data directory and against a registry service: tree, JSON (the same answer as GraphQL's
``dependencyGraph``) and DOT (parsed here by a small DOT reader, and rendered by Graphviz when it is installed),
and resolution failures explained on stderr."""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from dmg.core.bundle import Bundle
from dmg.service.server import BackgroundServer
from tests.support.cli import dmg
from tests.support.graphs import BRIDGE, BROKEN, CYC_A, CYC_B, ECHO, GRAPH, HOST, INBOX, LIB, MAIL, populate
from tests.support.servers import graphql, server_settings


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Path:
    directory = tmp_path_factory.mktemp("graph-cli")
    populate(directory, bundle)
    return directory


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("graph-served")
    populate(directory, bundle)
    with BackgroundServer(server_settings(directory)) as url:
        yield url


# --- a small DOT reader: the grammar of graphviz.org/doc/info/lang.html without ports, HTML strings or
# --- undirected edges; enough to show the output is DOT and to read back what it says

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<id>[A-Za-z_][A-Za-z_0-9]*|-?\d+(?:\.\d+)?)|'
                    r"(?P<punct>->|[{}\[\];,=]))")  # fmt: skip


@dataclass
class Dot:
    name: str
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, dict[str, str]] = field(default_factory=dict)
    subgraphs: dict[str, tuple[dict[str, str], list[str]]] = field(default_factory=dict)


class DotReader:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        while text[position:].strip():
            match = _TOKEN.match(text, position)
            assert match is not None, f"not DOT at {text[position : position + 20]!r}"
            self.tokens.append(match.group(match.lastgroup or ""))
            position = match.end()
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        assert expected is None or token == expected, f"expected {expected!r}, found {token!r}"
        self.at += 1
        return token

    def identifier(self) -> str:
        token = self.take()
        assert token not in "{}[];,=->", f"expected an ID, found {token!r}"
        if token.startswith('"'):
            return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) == "n" else match.group(1), token[1:-1])
        return token

    def attributes(self) -> dict[str, str]:
        found: dict[str, str] = {}
        while self.peek() == "[":
            self.take("[")
            while self.peek() != "]":
                key = self.identifier()
                self.take("=")
                found[key] = self.identifier()
                if self.peek() in (",", ";"):
                    self.take()
            self.take("]")
        return found

    def read(self) -> Dot:
        self.take("digraph")
        dot = Dot(self.identifier() if self.peek() != "{" else "")
        self.statements(dot, [])
        assert self.peek() is None, "text after the graph"
        return dot

    def statements(self, dot: Dot, members: list[str], attributes: dict[str, str] | None = None) -> None:
        self.take("{")
        while self.peek() != "}":
            if self.peek() in ("node", "edge", "graph"):
                kind = self.take()
                dot.defaults.setdefault(kind, {}).update(self.attributes())
            elif self.peek() == "subgraph":
                self.take()
                name = self.identifier()
                inner: list[str] = []
                inner_attributes: dict[str, str] = {}
                self.statements(dot, inner, inner_attributes)
                dot.subgraphs[name] = (inner_attributes, inner)
                members += inner
            else:
                first = self.identifier()
                if self.peek() == "=" and attributes is not None:
                    self.take("=")
                    attributes[first] = self.identifier()
                else:
                    chain = [first]
                    while self.peek() == "->":
                        self.take("->")
                        chain.append(self.identifier())
                    found = self.attributes()
                    for node in chain:
                        dot.nodes.setdefault(node, {})
                        members.append(node)
                    if len(chain) == 1:
                        dot.nodes[first].update(found)
                    for source, target in itertools.pairwise(chain):
                        dot.edges[(source, target)] = found
            if self.peek() == ";":
                self.take(";")
        self.take("}")


# --- the tests --------------------------------------------------------------------------------------------------

TREE = f"""\
{INBOX} 1.0.0
├── {BRIDGE} 1.0.0 [{MAIL}@^1]
│   └── {LIB} 1.0.0 [^1.0]
├── {CYC_A} 1.0.0 [^1]
│   └── {CYC_B} 1.0.0 [^1]
│       ├── {BRIDGE} 1.0.0 [^1] (see above)
│       └── {CYC_A} 1.0.0 [^1] (cycle)
└── {LIB} 1.0.0 [^1] (see above)
APIs:
  {MAIL} 1.0.0 from {BRIDGE}
  {ECHO} 0.1.0 from the host
"""


def test_tree_marks_cycles_repeats_and_api_bindings(data_dir: Path) -> None:
    assert dmg("graph", f"{INBOX}@^1", "--host-api", HOST[0], "--registry", str(data_dir)).stdout == TREE
    plain = dmg("graph", LIB, "--format", "tree", "--registry", str(data_dir)).stdout
    assert plain == f"{LIB} 1.0.0\n"


def test_dot_output_is_dot_with_every_module_edge_and_cycle(data_dir: Path) -> None:
    text = dmg("graph", INBOX, "--host-api", HOST[0], "--format", "dot", "--registry", str(data_dir)).stdout
    dot = DotReader(text).read()
    assert dot.name == "modules" and dot.defaults["node"] == {"shape": "box"}
    assert {name: attributes["label"] for name, attributes in dot.nodes.items()} == {
        name: f"{name}\n{version}"
        for name, version in [(INBOX, "1.0.0"), (BRIDGE, "1.0.0"), (CYC_A, "1.0.0"), (CYC_B, "1.0.0"), (LIB, "1.0.0")]
    }
    assert dot.edges == {
        (INBOX, BRIDGE): {"label": f"{MAIL}@^1", "style": "dashed"},
        (INBOX, CYC_A): {"label": "^1"},
        (INBOX, LIB): {"label": "^1"},
        (BRIDGE, LIB): {"label": "^1.0"},
        (CYC_A, CYC_B): {"label": "^1"},
        (CYC_B, BRIDGE): {"label": "^1"},
        (CYC_B, CYC_A): {"label": "^1"},
    }
    assert dot.subgraphs == {"cluster_cycle_0": ({"label": "cycle"}, [CYC_A, CYC_B])}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_renders_the_dot_output(data_dir: Path) -> None:
    text = dmg("graph", INBOX, "--host-api", HOST[0], "--format", "dot", "--registry", str(data_dir)).stdout
    rendered = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True, timeout=30)
    titles = {html.unescape(title) for title in re.findall(r"<title>([^<]*)</title>", rendered.stdout)}
    assert {INBOX, LIB, CYC_A, CYC_B, BRIDGE, "cluster_cycle_0"} <= titles
    assert {f"{CYC_A}->{CYC_B}", f"{CYC_B}->{CYC_A}", f"{INBOX}->{BRIDGE}"} <= titles


def test_json_over_http_is_the_answer_graphql_gives(registry_url: str) -> None:
    text = dmg("graph", f"{INBOX}@^1", "--host-api", HOST[0], "--json", "--registry", registry_url).stdout
    from_cli = json.loads(text)
    with httpx.Client(base_url=registry_url) as client:
        from_server = graphql(client, GRAPH, roots=[f"{INBOX}@^1"], host=HOST)["data"]["dependencyGraph"]
    assert from_server.pop("conflicts") == []
    assert from_cli == from_server
    assert from_cli["installOrder"] == [[LIB], [BRIDGE], [CYC_A, CYC_B], [INBOX]]
    same = json.loads(
        dmg("graph", f"{INBOX}@^1", "--host-api", HOST[0], "--format", "json", "--registry", registry_url).stdout
    )
    assert same == from_cli


def test_unsatisfiable_roots_fail_with_the_explanation_on_stderr(data_dir: Path, registry_url: str) -> None:
    for target in (str(data_dir), registry_url):
        result = dmg("graph", BROKEN, "--registry", target, ok=False)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (
            f"dmg: error: Because {BROKEN} 1.0.0 depends on {LIB} ^1.1 which matches only yanked versions, "
            f"{BROKEN} 1.0.0 is forbidden.\nSo, because the request depends on {BROKEN}, version solving failed.\n"
        )
    result = dmg("graph", INBOX, "--registry", str(data_dir), ok=False)
    assert result.exit_code == 1 and "which neither the host nor any module in the graph offers" in result.stderr


def test_bad_arguments_are_refused(data_dir: Path) -> None:
    result = dmg("graph", INBOX, "--host-api", f"{ECHO}@^0.1", "--registry", str(data_dir), ok=False)
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"dmg: error: host API '{ECHO}@^0.1' must name the exact version the host offers, like {ECHO}@1.0.0\n"
    )
    result = dmg("graph", "Not/A DXN", "--registry", str(data_dir), ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("dmg: error: ")
    result = dmg("graph", INBOX, "--format", "svg", "--registry", str(data_dir), ok=False)
    assert result.exit_code == 2 and "'svg' is not one of 'tree', 'json', 'dot'" in result.stderr
    result = dmg("graph", "--registry", str(data_dir), ok=False)
    assert result.exit_code == 2 and "Missing argument" in result.stderr
