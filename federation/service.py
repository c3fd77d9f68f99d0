"""Federation inside ``dmg serve``: continuous sync of mirrored peers, the operator's peer API, and its metrics.

The service extension (entry point ``dmg.service.extensions``) attaches a :class:`~federation.core.Federation` when
the data directory has one, or when the settings declare ``[[peers]]`` (added on start if new). Each mirrored peer
is synced every ``sync_interval`` seconds and at once when the peer announces a new entry (its ``events``
subscription, followed with reconnection); a failed sync is retried with exponential backoff and jitter. The
operator API (``/api/v1/peers``, ``/api/v1/sync``) needs ``Authorization: Bearer <admin_token>``; without an
``admin_token`` setting it answers ``UNAUTHORIZED`` to everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from prometheus_client import Counter, Gauge
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dmg.api import paths
from dmg.client.events import backoff, follow
from dmg.core.errors import DmgError
from dmg.http.limits import read_body
from dmg.registry import Registry
from dmg.service.context import Service, service_of
from dmg.service.extensions import ServiceExtension
from dmg.service.routing import mount
from federation.core import Federation
from federation.extension import federation_of
from federation.peers import Mode, Peer, Status
from federation.sync import SyncReport

MAX_PEER_REQUEST: Final = 64 << 10
MAX_RETRY_DELAY: Final = 60.0
PUSH_DEBOUNCE: Final = 0.02
"""How long a sync triggered by a peer's event waits for more events to gather."""

logger = logging.getLogger("federation")


def peer_from_json(data: Mapping[str, Any]) -> Peer:
    """A peer from its JSON (API) or TOML (config) description."""
    namespaces = data.get("namespaces")
    if not isinstance(namespaces, list) or not all(isinstance(item, str) for item in namespaces):
        raise DmgError("peer: 'namespaces' must be a list of namespace patterns")
    fields = {key: data.get(key, "") for key in ("name", "url", "mode", "registryKey", "registry_key", "token")}
    if not all(isinstance(value, str) for value in fields.values()):
        raise DmgError("peer: name, url, mode, registry key and token are strings")
    mode = fields["mode"] or Mode.MIRROR
    if mode not in set(Mode):
        raise DmgError(f"peer: mode must be 'mirror' or 'pull-through', not {mode[:40]!r}")
    return Peer(
        name=fields["name"],
        url=fields["url"],
        patterns=tuple(namespaces),
        mode=Mode(mode),
        registry_key=fields["registryKey"] or fields["registry_key"],
        token=fields["token"],
    )


class PeerMetrics:
    """The federation's figures in the app's metrics registry, set after every sync."""

    def __init__(self, service: Service) -> None:
        registry = service.metrics.registry
        self.synced = Gauge("dmg_peer_synced_size", "Leaves of the peer's log verified", ["peer"], registry=registry)
        self.checkpoint = Gauge(
            "dmg_peer_checkpoint_size", "Size of the peer's newest checkpoint seen", ["peer"], registry=registry
        )
        self.taken = Counter("dmg_peer_entries_taken", "Entries taken from the peer", ["peer"], registry=registry)
        self.refused = Counter(
            "dmg_peer_entries_refused", "Entries or answers refused from the peer", ["peer"], registry=registry
        )
        self.status = Gauge("dmg_peer_status", "1 for the peer's current status", ["peer", "status"], registry=registry)
        self.syncs = Counter("dmg_peer_syncs", "Syncs of the peer, by outcome", ["peer", "outcome"], registry=registry)

    def report(self, peer: str, report: SyncReport) -> None:
        self.synced.labels(peer).set(report.synced_size)
        self.checkpoint.labels(peer).set(report.checkpoint_size)
        self.taken.labels(peer).inc(report.entries_taken)
        self.refused.labels(peer).inc(report.entries_refused)
        self.syncs.labels(peer, "ok").inc()
        self._status(peer, Status.OK)

    def failed(self, peer: str, status: Status) -> None:
        self.syncs.labels(peer, "failed").inc()
        self.refused.labels(peer).inc(0 if status is Status.FAILING else 1)
        self._status(peer, status)

    def _status(self, peer: str, current: Status) -> None:
        for status in Status:
            self.status.labels(peer, str(status)).set(1 if status is current else 0)


class SyncLoop:
    """Keeps every mirrored peer synced: one task per peer, started and stopped as peers come and go."""

    def __init__(self, federation: Federation, interval: float, metrics: PeerMetrics) -> None:
        self.federation = federation
        self.interval = interval
        self.metrics = metrics
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def refresh(self) -> None:
        wanted = {peer.name for peer in self.federation.peers if peer.mode is Mode.MIRROR}
        for name in set(self._tasks) - wanted:
            self._tasks.pop(name).cancel()
        for name in wanted - set(self._tasks):
            self._tasks[name] = asyncio.get_running_loop().create_task(self._keep_synced(name))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def sync(self, name: str) -> SyncReport:
        try:
            report = await self.federation.sync(name)
        except DmgError:
            self.metrics.failed(name, (await self.federation.state.status(name)).status)
            raise
        self.metrics.report(name, report)
        return report

    async def _keep_synced(self, name: str) -> None:
        wake = asyncio.Event()
        listener = asyncio.get_running_loop().create_task(self._listen(name, wake))
        attempt = 0
        try:
            while True:
                wake.clear()
                delay = self.interval
                try:
                    await self.sync(name)
                    attempt = 0
                except DmgError as exc:
                    status = (await self.federation.state.status(name)).status
                    if status is not Status.QUARANTINED:
                        delay = min(self.interval, backoff(attempt, 0.5, MAX_RETRY_DELAY))
                        attempt += 1
                    logger.warning("sync of peer %s failed (%s); next try in %.1f s", name, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)
                await asyncio.sleep(PUSH_DEBOUNCE)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, name: str, wake: asyncio.Event) -> None:
        """Wake the peer's sync whenever the peer accepts an entry."""
        peer = self.federation.peer(name)
        async for _ in follow(self.federation.client(peer), max_delay=MAX_RETRY_DELAY):
            wake.set()


class FederationService:
    """The extension's state in one app."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.metrics = PeerMetrics(service)
        self.loop: SyncLoop | None = None

    async def start(self, registry: Registry) -> None:
        settings = self.service.settings
        federation = federation_of(registry)
        if federation is None and settings.peers:
            federation = await Federation.attach(registry, settings.data_dir)
        if federation is None:
            return
        known = {peer.name for peer in federation.peers}
        for table in settings.peers:
            peer = peer_from_json(table)
            if peer.name not in known:
                await federation.add_peer(peer)
        self._start_loop(federation)

    def _start_loop(self, federation: Federation) -> SyncLoop:
        if self.loop is None:
            self.loop = SyncLoop(federation, self.service.settings.sync_interval, self.metrics)
        self.loop.refresh()
        return self.loop

    async def stop(self, registry: Registry) -> None:
        if self.loop is not None:
            await self.loop.close()
            self.loop = None

    # --- the operator API ---------------------------------------------------------------------------------------

    def _authorise(self, request: Request) -> None:
        self.service.check_admin(request)

    async def _federation(self, request: Request, *, create: bool = False) -> Federation:
        registry = service_of(request).registry
        federation = federation_of(registry)
        if federation is None:
            if not create:
                raise DmgError("this registry has no peers: add one with dmg peer add")
            federation = await Federation.attach(registry, self.service.settings.data_dir)
        return federation

    async def peers(self, request: Request) -> Response:
        self._authorise(request)
        if request.method == "GET":
            registry = service_of(request).registry
            federation = federation_of(registry)
            statuses = [] if federation is None else await federation.statuses()
            return JSONResponse({"peers": [status.to_json() for status in statuses]})
        body = await read_body(request, MAX_PEER_REQUEST)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DmgError(f"a peer is described as a JSON object: {exc}") from None
        if not isinstance(data, dict):
            raise DmgError("a peer is described as a JSON object")
        federation = await self._federation(request, create=True)
        peer = await federation.add_peer(peer_from_json(data))
        self._start_loop(federation)
        return JSONResponse((await federation.state.status(peer.name)).to_json(), status_code=201)

    async def peer(self, request: Request) -> Response:
        self._authorise(request)
        federation = await self._federation(request)
        await federation.remove_peer(request.path_params["name"])
        self._start_loop(federation)
        return JSONResponse({"removed": request.path_params["name"]})

    async def reset(self, request: Request) -> Response:
        self._authorise(request)
        federation = await self._federation(request)
        name = request.path_params["name"]
        await federation.reset_trust(name)
        return JSONResponse((await federation.state.status(name)).to_json())

    async def sync(self, request: Request) -> Response:
        self._authorise(request)
        federation = await self._federation(request)
        wanted = request.query_params.get("peer")
        loop = self._start_loop(federation)
        names = [wanted] if wanted else [peer.name for peer in federation.peers]
        results: dict[str, Any] = {}
        for name in names:
            federation.peer(name)
            try:
                results[name] = (await loop.sync(name)).to_json()
            except DmgError as exc:
                results[name] = {"error": {"code": exc.code, "message": str(exc)}}
        return JSONResponse({"peers": results})


def extension(service: Service) -> ServiceExtension:
    """The federation's part of the registry service."""
    own = FederationService(service)
    return ServiceExtension(
        routes=[
            mount(paths.PEERS, own.peers),
            mount(paths.PEER, own.peer),
            mount(paths.PEER_RESET, own.reset),
            mount(paths.SYNC, own.sync),
        ],
        start=own.start,
        stop=own.stop,
    )
