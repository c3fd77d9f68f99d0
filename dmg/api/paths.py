"""Every HTTP endpoint of the registry service: its path template and methods, one :class:`Endpoint` each.

The service mounts exactly :data:`ENDPOINTS` and the clients build their URLs with :meth:`Endpoint.url`, so the two
cannot drift apart (a test compares the app's routes with this table). Templates use Starlette's syntax:
``{name}`` is one path segment, ``{name:path}`` the rest of the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

_PARAMETER: Final = re.compile(r"\{(\w+)(?::(\w+))?\}")


@dataclass(frozen=True)
class Endpoint:
    """One route of the contract: ``template`` in Starlette's syntax and the HTTP ``methods`` it answers."""

    template: str
    methods: tuple[str, ...]
    summary: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(match.group(1) for match in _PARAMETER.finditer(self.template))

    def url(self, **values: str) -> str:
        """The path with each parameter filled in and quoted (a ``path`` parameter keeps its slashes)."""
        if set(values) != set(self.parameters):
            raise ValueError(f"{self.template} takes {', '.join(self.parameters) or 'no parameters'}")

        def fill(match: re.Match[str]) -> str:
            return quote(values[match.group(1)], safe="/" if match.group(2) == "path" else "")

        return _PARAMETER.sub(fill, self.template)


ROOT: Final = Endpoint("/", ("GET",), "redirects browsers to GraphiQL")
HEALTH: Final = Endpoint("/healthz", ("GET",), "health check")
METRICS: Final = Endpoint("/metrics", ("GET",), "Prometheus metrics")
GRAPHQL: Final = Endpoint("/graphql", ("GET", "POST"), "GraphQL queries and mutations (and GraphiQL for browsers)")
GRAPHQL_WS: Final = Endpoint("/graphql", ("WEBSOCKET",), "GraphQL subscriptions over graphql-transport-ws")
BLOCK: Final = Endpoint("/ipfs/{cid:path}", ("GET", "HEAD"), "a block, or the CAR of the DAG under it")
PUBLISH: Final = Endpoint("/api/v1/publish", ("POST",), "publish a release: a CAR rooted at its signed entry")
ENTRIES: Final = Endpoint("/api/v1/entries", ("POST",), "append one signed namespace or yank entry")
IMPORT: Final = Endpoint("/api/v1/import", ("POST",), "import a CAR of log entries and their blocks")
EXPORT: Final = Endpoint("/api/v1/export", ("GET",), "a CAR of resolved versions with their logs")
HEAD: Final = Endpoint("/api/v1/head/{log:path}", ("GET",), "the head of a namespace or DXN log")
BLOCKS: Final = Endpoint("/api/v1/blocks", ("POST",), "many blocks, or the DAGs under them, as one CAR")
WELL_KNOWN: Final = Endpoint("/.well-known/dmg.json", ("GET",), "who this registry is: origin, log key, homes, mirrors")
PEERS: Final = Endpoint("/api/v1/peers", ("GET", "POST"), "operator: list or add federation peers")
PEER: Final = Endpoint("/api/v1/peers/{name}", ("DELETE",), "operator: remove a peer")
PEER_RESET: Final = Endpoint("/api/v1/peers/{name}/reset", ("POST",), "operator: trust a quarantined peer again")
SYNC: Final = Endpoint("/api/v1/sync", ("POST",), "operator: sync one peer, or all, now")
CHECKPOINT: Final = Endpoint("/checkpoint", ("GET",), "the transparency log's signed checkpoint")
TILE: Final = Endpoint("/tile/{path:path}", ("GET",), "a tlog-tiles hash tile or entry bundle")

ENDPOINTS: Final = (
    ROOT, HEALTH, METRICS, GRAPHQL, GRAPHQL_WS, BLOCK, PUBLISH, ENTRIES, IMPORT, EXPORT, HEAD, BLOCKS, WELL_KNOWN,
    PEERS, PEER, PEER_RESET, SYNC, CHECKPOINT, TILE,
)
"""Every endpoint the service mounts."""
