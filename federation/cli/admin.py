"""Administering peers where the registry is: a data directory (in process) or a running service (its operator API
with the admin token). Both answer in the same JSON shapes (:meth:`PeerStatus.to_json`, :meth:`SyncReport.to_json`),
so the commands print them one way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import httpx

from dmg.api import paths
from dmg.core.errors import ERROR_CLASSES, DmgError, UnauthorizedError
from dmg.registry import Registry
from federation.core import Federation
from federation.extension import federation_of
from federation.peers import Peer


class PeerAdmin(Protocol):
    async def add(self, peer: Peer) -> dict[str, Any]: ...

    async def list(self) -> list[dict[str, Any]]: ...

    async def remove(self, name: str) -> None: ...

    async def reset(self, name: str) -> dict[str, Any]: ...

    async def sync(self, name: str | None) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class LocalAdmin:
    """Peers of the registry in a data directory."""

    def __init__(self, registry: Registry, data_dir: Path) -> None:
        self.registry = registry
        self.data_dir = data_dir

    @classmethod
    async def open(cls, data_dir: str) -> LocalAdmin:
        return cls(await Registry.open(data_dir), Path(data_dir))

    async def _federation(self, *, create: bool = False) -> Federation | None:
        found = federation_of(self.registry)
        if found is None and create:
            found = await Federation.attach(self.registry, self.data_dir)
        return found

    async def add(self, peer: Peer) -> dict[str, Any]:
        federation = await self._federation(create=True)
        assert federation is not None
        await federation.add_peer(peer)
        return (await federation.state.status(peer.name)).to_json()

    async def list(self) -> list[dict[str, Any]]:
        federation = await self._federation()
        return [] if federation is None else [status.to_json() for status in await federation.statuses()]

    async def remove(self, name: str) -> None:
        federation = await self._need()
        await federation.remove_peer(name)

    async def reset(self, name: str) -> dict[str, Any]:
        federation = await self._need()
        await federation.reset_trust(name)
        return (await federation.state.status(name)).to_json()

    async def sync(self, name: str | None) -> dict[str, Any]:
        federation = await self._need()
        names = [federation.peer(name).name] if name else [peer.name for peer in federation.peers]
        results: dict[str, Any] = {}
        for each in names:
            try:
                results[each] = (await federation.sync(each)).to_json()
            except DmgError as exc:
                results[each] = {"error": {"code": exc.code, "message": str(exc)}}
        return results

    async def _need(self) -> Federation:
        federation = await self._federation()
        if federation is None:
            raise DmgError(f"the registry in {self.data_dir} has no peers: add one with dmg peer add")
        return federation

    async def close(self) -> None:
        await self.registry.close()


class RemoteAdmin:
    """Peers of a running registry service, through its operator API."""

    def __init__(self, url: str, token: str | None) -> None:
        if not token:
            raise UnauthorizedError("a registry service's peers are administered with --token (its admin_token)")
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), timeout=httpx.Timeout(120.0), headers={"Authorization": f"Bearer {token}"}
        )

    async def _call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        try:
            answer = await self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise DmgError(f"{method} {self._http.base_url}{path} failed: {exc}") from exc
        try:
            data = answer.json()
        except json.JSONDecodeError:
            data = None
        if answer.is_error:
            error = data.get("error") if isinstance(data, dict) else None
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                raise ERROR_CLASSES.get(str(error.get("code")), DmgError)(error["message"])
            raise DmgError(f"{method} {path}: HTTP {answer.status_code}")
        return data

    async def add(self, peer: Peer) -> dict[str, Any]:
        body = {
            "name": peer.name,
            "url": peer.url,
            "namespaces": list(peer.patterns),
            "mode": str(peer.mode),
            "registryKey": peer.registry_key,
            "token": peer.token,
        }
        found: dict[str, Any] = await self._call("POST", paths.PEERS.url(), body)
        return found

    async def list(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", paths.PEERS.url()))["peers"]
        return found

    async def remove(self, name: str) -> None:
        await self._call("DELETE", paths.PEER.url(name=name))

    async def reset(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("POST", paths.PEER_RESET.url(name=name))
        return found

    async def sync(self, name: str | None) -> dict[str, Any]:
        found: dict[str, Any] = (
            await self._call("POST", paths.SYNC.url(), params={"peer": name} if name else None)
        )["peers"]
        return found

    async def close(self) -> None:
        await self._http.aclose()


async def open_admin(target: str, token: str | None) -> PeerAdmin:
    if target.startswith(("http://", "https://")):
        return RemoteAdmin(target, token)
    return await LocalAdmin.open(target)
