"""Print the project's import graph between its packages: one line per package, the packages it imports.

Usage: ``python tools/import_graph.py [--depth N]`` from the repository root (depth 2 groups ``dmg.core.codec``
under ``dmg.core``). Imports inside functions count too, as they do for the layer contracts in pyproject.toml
(checked by ``lint-imports``).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

import grimp

ROOTS = ("dmg", "orchestrator", "federation")


def group(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=2)
    depth = parser.parse_args().depth
    roots = [root for root in ROOTS if _importable(root)]
    graph = grimp.build_graph(*roots)
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        source = group(module, depth)
        edges.setdefault(source, set())
        for imported in graph.find_modules_directly_imported_by(module):
            target = group(imported, depth)
            if target != source:
                edges[source].add(target)
    for source in sorted(edges):
        print(f"{source} -> {', '.join(sorted(edges[source])) or '(nothing)'}")


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
