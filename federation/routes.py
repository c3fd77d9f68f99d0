"""Routes: which peer each namespace is routed to, and the write policies that keep every namespace at one home.

A namespace routed to a peer is that peer's: this registry takes its entries from the peer only, and refuses local
writes to it (:class:`LocalWrites`: "claim it at its home"). From a peer, only entries of namespaces both routed to
it and named by the peer as ones it is home for are taken (:class:`HomeWrites`); anything else it sends is refused.
The log rules (signatures, permissions, chains) apply to mirrored entries as to any: the registry checks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dmg.core.errors import ConfigError, UnauthorizedError
from dmg.core.keys import PublicKey
from dmg.core.records import DXNEntry, NamespaceEntry
from federation.peers import Peer, overlap


def route(peers: Iterable[Peer], namespace: str) -> Peer | None:
    """The peer ``namespace`` is routed to, if any."""
    return next((peer for peer in peers if peer.routes(namespace)), None)


def check_new_routes(peer: Peer, others: Sequence[Peer], local: Iterable[str]) -> None:
    """A new peer's patterns may overlap no other peer's, and cover no namespace claimed here (``local``)."""
    for other in others:
        if other.name == peer.name:
            raise ConfigError(f"there is a peer {peer.name!r} already: dmg peer rm it first")
        for pattern in peer.patterns:
            clash = next((theirs for theirs in other.patterns if overlap(pattern, theirs)), None)
            if clash is not None:
                raise ConfigError(f"{pattern} overlaps {clash}, routed to peer {other.name!r}: one home per namespace")
    claimed = next((namespace for namespace in local if peer.routes(namespace)), None)
    if claimed is not None:
        raise ConfigError(
            f"namespace {claimed!r} is claimed in this registry: it is its home, and cannot be routed to {peer.name!r}"
        )


class LocalWrites:
    """Refuses every local write to a namespace routed to a peer: its home takes them."""

    def __init__(self, peers: Sequence[Peer]) -> None:
        self.peers = tuple(peers)

    def admit(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None:
        peer = route(self.peers, entry.namespace)
        if peer is not None:
            raise UnauthorizedError(
                f"namespace {entry.namespace!r} is mirrored here from peer {peer.name!r} ({peer.url}), its home: "
                f"submit it there"
            )


class HomeWrites:
    """Admits a peer's entries only for namespaces routed to it that it is home for."""

    def __init__(self, peer: Peer, homes: Iterable[str]) -> None:
        self.peer = peer
        self.homes = frozenset(homes)

    def takes(self, namespace: str) -> bool:
        return self.peer.routes(namespace) and namespace in self.homes

    def admit(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None:
        if not self.takes(entry.namespace):
            raise UnauthorizedError(
                f"peer {self.peer.name!r} sent an entry of {entry.namespace!r}, a namespace it is not the home of "
                "or that is not routed to it"
            )
