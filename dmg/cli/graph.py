"""``dmg graph``: resolve modules and show their graph as a tree, JSON or Graphviz DOT.

Resolution runs here, on the client, over records read through the client (the HTTP client checks each against
its CID, and :func:`~dmg.core.resolver.prefetch` that it is the DXN and version it was listed as), so nothing the
server computes is trusted. The helpers below (root and host-API parsing, :func:`resolve_roots`,
:func:`graph_document`) are shared with ``dmg lock``. This module draws and prints; the semantics are
:mod:`dmg.core.resolver`'s and the graph algorithms :mod:`dmg.core.graph`'s, imported (with networkx) by the
functions that draw, since ``dmg --help`` imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from dmg.cli.common import emit, json_option, registry_option, run_with_client
from dmg.client.base import RegistryClient
from dmg.client.errors import RecordMismatchError
from dmg.core.dxn import DXN
from dmg.core.resolver import Dependency, Resolver, Solution, parse_host_api, prefetch
from dmg.core.semver import Version

FORMATS = ("tree", "json", "dot")

host_api_option = click.option(
    "--host-api",
    "host_apis",
    multiple=True,
    metavar="API@VERSION",
    help="An API the target host offers, e.g. org.dxos/api/echo@0.1.0 (repeatable).",
)


def parse_roots(targets: Iterable[str]) -> list[Dependency]:
    """Root requirements from ``DXN[@range]`` arguments (none or ``latest``: any stable version)."""
    return [Dependency.from_dxn(DXN.parse(target)) for target in targets]


def parse_host_apis(texts: Iterable[str]) -> list[tuple[str, Version]]:
    """``(API name, version)`` pairs from ``--host-api API@VERSION`` arguments."""
    return [parse_host_api(text) for text in texts]


async def resolve_roots(
    client: RegistryClient, roots: list[Dependency], host_apis: list[tuple[str, Version]]
) -> Solution:
    """Read everything ``roots`` reach through ``client``, resolve, and check every selected module against the
    registry's transparency log (signer authorised, entry included in a signed checkpoint). Raises the resolver's
    :class:`~dmg.core.resolver.NoSolutionError` (its message is the explanation) when nothing works."""
    provider = await prefetch(client, [root.name for root in roots])
    solution = Resolver(provider).resolve(roots, host_apis)
    for name, module in solution.modules.items():
        verified = await client.verify(DXN.parse(name), module.version)
        if verified.record != module.record:
            raise RecordMismatchError(
                f"{name}@{module.version}: the log releases record {verified.record}, the listing said {module.record}"
            )
    return solution


def graph_document(solution: Solution) -> dict[str, Any]:
    """The graph as plain data, the shape of the GraphQL ``dependencyGraph`` answer (without ``conflicts``)."""
    from dmg.core import graph as core_graph

    modules = core_graph.dependency_graph(solution)
    return {
        "roots": [str(root) for root in solution.roots],
        "nodes": [
            {
                "dxn": name,
                "version": str(module.version),
                "cid": str(module.record),
                "bundle": str(module.metadata.bundle),
                "yanked": module.yanked,
            }
            for name, module in solution.modules.items()
        ],
        "edges": [
            {"from": source, "to": target, "range": data["range"], "kind": data["kind"]}
            for source, target, data in sorted(modules.edges(data=True))
        ],
        "apis": [
            {"dxn": name, "version": str(binding.version), "provider": binding.provider}
            for name, binding in solution.apis.items()
        ],
        "installOrder": [list(step) for step in core_graph.install_order(modules)],
        "cycles": [list(cycle) for cycle in core_graph.cycles(modules)],
    }


def _tree(solution: Solution) -> str:
    from dmg.core import graph as core_graph

    text = core_graph.render_tree(core_graph.dependency_graph(solution))
    bindings = [
        f"  {name} {binding.version} from {binding.provider or 'the host'}" for name, binding in solution.apis.items()
    ]
    return text + ("APIs:\n" + "\n".join(bindings) + "\n" if bindings else "")


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="DXN[@RANGE]...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="tree",
    show_default=True,
    help="tree: indented like npm ls; json: nodes, edges, API bindings, install order; dot: Graphviz.",
)
@host_api_option
@registry_option
@json_option
def graph(
    targets: tuple[str, ...], output_format: str, host_apis: tuple[str, ...], registry: str | None, as_json: bool
) -> None:
    """Resolve DXN[@RANGE]... and print the module graph (--json is --format json)."""
    roots = parse_roots(targets)
    host = parse_host_apis(host_apis)

    async def work(client: RegistryClient) -> Solution:
        return await resolve_roots(client, roots, host)

    solution = run_with_client(registry, work)
    if as_json or output_format == "json":
        emit(True, graph_document(solution), "")
    elif output_format == "dot":
        from dmg.core import graph as core_graph

        click.echo(core_graph.to_dot(core_graph.dependency_graph(solution)), nl=False)
    else:
        click.echo(_tree(solution), nl=False)
