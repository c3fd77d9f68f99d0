"""The federation of one registry: its peers, their routes and clients, syncing them, and the seams it fills in
the registry (write policy, pull-through upstream, mirrored home logs).

:class:`Federation` is attached to a registry opened on a data directory that has federation state
(:func:`federation.extension.extend`), or made for one by ``dmg peer add``. Syncs of one peer never overlap; a
failed sync is recorded (and, for equivocation, the peer quarantined) before its error is raised to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from dmg.client.errors import RegistryUnavailableError
from dmg.client.http import HttpClient
from dmg.client.trust import TrustPolicy
from dmg.core.cid import CID
from dmg.core.clock import Clock, now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import ConfigError, DmgError
from dmg.registry import Registry
from dmg.registry.policies import AllOf, WritePolicy
from federation.homelog import FederationMirrors, HomeLog
from federation.peers import Mode, Peer, PeerStatus, Status
from federation.routes import LocalWrites, check_new_routes, route
from federation.state import FederationState
from federation.sync import CHUNK_TILES, EquivocationError, PeerSync, SyncReport

PULL_FRESHNESS_MS: Final = 1000
"""A pull-through peer synced this recently is not asked again for a miss."""
DEFAULT_TIMEOUT: Final = 30.0

logger = logging.getLogger("federation")


class Federation:
    """See the module docstring."""

    def __init__(self, registry: Registry, state: FederationState, peers: Iterable[Peer], clock: Clock = now_ms):
        self.registry = registry
        self.state = state
        self.clock = clock
        self.peers: list[Peer] = list(peers)
        self.mirrors = FederationMirrors(state)
        self.local_writes = LocalWrites(self.peers)
        self._locks: dict[str, asyncio.Lock] = {}
        self._clients: dict[str, HttpClient] = {}
        self._pulled_at: dict[str, int] = {}
        self.chunk_tiles = CHUNK_TILES
        """Entry bundles proven and committed at a time (smaller in tests, to cut a sync into many commits)."""

    @classmethod
    async def attach(cls, registry: Registry, data_dir: Path) -> Federation:
        """The federation of ``registry`` from ``data_dir`` (made if need be), wired into the registry's seams."""
        state = await FederationState.open(data_dir)
        federation = cls(registry, state, await state.peers(), registry.clock)
        base: WritePolicy = registry.write_policy
        registry.write_policy = AllOf([base, federation.local_writes])
        registry.mirrors = federation
        registry.upstream = federation
        registry.on_close(federation.close)
        return federation

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        await self.state.close()

    async def _reload(self) -> None:
        self.peers[:] = await self.state.peers()
        self.local_writes.peers = tuple(self.peers)
        for name in [name for name in self._clients if name not in {peer.name for peer in self.peers}]:
            await self._clients.pop(name).close()

    # --- peers --------------------------------------------------------------------------------------------------

    async def add_peer(self, peer: Peer) -> Peer:
        check_new_routes(peer, self.peers, await self.registry.namespaces())
        mirrored = await self.state.mirrored_namespaces()
        await self.state.add_peer(peer, self.clock())
        await self._reload()
        stranded = sorted(namespace for namespace in mirrored if peer.routes(namespace))
        if stranded:
            logger.info("peer %s takes over routes to %s", peer.name, ", ".join(stranded))
        return peer

    async def remove_peer(self, name: str) -> None:
        await self.state.remove_peer(name)
        await self._reload()

    async def reset_trust(self, name: str) -> None:
        await self.state.reset_trust(name)
        await self._reload()

    async def statuses(self) -> list[PeerStatus]:
        return await self.state.statuses()

    def peer(self, name: str) -> Peer:
        found = next((peer for peer in self.peers if peer.name == name), None)
        if found is None:
            raise ConfigError(f"no peer {name!r}: dmg peer ls lists them")
        return found

    def client(self, peer: Peer) -> HttpClient:
        client = self._clients.get(peer.name)
        if client is None:
            headers = {"Authorization": f"Bearer {peer.token}"} if peer.token else None
            client = HttpClient(
                peer.url, timeout=DEFAULT_TIMEOUT, check_log=False, trust=TrustPolicy(store=None), headers=headers
            )
            self._clients[peer.name] = client
        return client

    # --- syncing ------------------------------------------------------------------------------------------------

    async def sync(self, name: str) -> SyncReport:
        """Sync the peer ``name`` now (waiting for a sync of it already running); raises what failed it."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            status = await self.state.status(name)
            if status.status is Status.QUARANTINED:
                raise EquivocationError(status.evidence[-1]) if status.evidence else DmgError(status.last_error)
            peer = await self.state.peer(name)
            try:
                client = self.client(peer)
                report = await PeerSync(
                    self.registry, self.state, peer, client, clock=self.clock, chunk_tiles=self.chunk_tiles
                ).run()
            except EquivocationError as exc:
                await self.state.quarantine(name, peer.origin, exc.evidence)
                raise
            except DmgError as exc:
                # An unreachable peer refused nothing; anything else it sent was refused.
                refused = 0 if isinstance(exc, RegistryUnavailableError) else 1
                await self.state.failed(name, str(exc), refused, self.clock())
                raise
            await self.state.synced(name, report.homes, report.entries_taken, report.entries_refused, self.clock())
            await self._reload()
            self._pulled_at[name] = self.clock()
            return report

    async def sync_all(self, *, mode: Mode | None = None) -> dict[str, SyncReport | DmgError]:
        """Sync every peer (of ``mode``, when given) one after the other; each one's report or error."""
        results: dict[str, SyncReport | DmgError] = {}
        for peer in list(self.peers):
            if mode is None or peer.mode is mode:
                try:
                    results[peer.name] = await self.sync(peer.name)
                except DmgError as exc:
                    results[peer.name] = exc
        return results

    # --- the registry's seams: Upstream and Mirrors --------------------------------------------------------------

    async def pull_dxn(self, dxn: DXN) -> bool:
        peer = route(self.peers, dxn.authority)
        if peer is None or peer.mode is not Mode.PULL_THROUGH:
            return False
        if self.clock() - self._pulled_at.get(peer.name, 0) < PULL_FRESHNESS_MS:
            return False
        try:
            return (await self.sync(peer.name)).entries_taken > 0
        except DmgError as exc:
            logger.warning("pull-through of %s from %s failed: %s", dxn, peer.name, exc)
            return False

    async def pull_block(self, cid: CID) -> bool:
        for peer in self.peers:
            if peer.mode is not Mode.PULL_THROUGH:
                continue
            try:
                data = await self.client(peer).get_block(cid)
            except DmgError:
                continue
            await self.registry.cache_blocks({cid: data})
            return True
        return False

    async def home_log(self, namespace: str) -> HomeLog | None:
        return await self.mirrors.home_log(namespace)

    async def peer_statuses(self) -> list[dict[str, Any]]:
        return await self.mirrors.peer_statuses()

    async def log(self, origin: str) -> HomeLog | None:
        return await self.mirrors.log(origin)

    async def logs(self) -> list[tuple[HomeLog, list[str]]]:
        return await self.mirrors.logs()

