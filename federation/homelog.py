"""A home's transparency log as this registry verified it: its newest checkpoint and every subtree hash up to the
size synced, from which inclusion and consistency proofs in the home's tree are served.

A client reading a mirrored module from this registry checks it against :class:`HomeLog` (the home's checkpoint,
signed with the home's key, and proofs in the home's tree), so it never has to trust the mirror.
:class:`FederationMirrors` is the registry's :class:`~dmg.registry.extensions.Mirrors` seam over all of them.
"""

from __future__ import annotations

from typing import Any

from dmg.core.cid import CID
from dmg.core.errors import NotFoundError
from dmg.core.tlog import ProofError, consistency_plan, inclusion_plan
from federation.state import FederationState


class HomeLog:
    """One mirrored home log (a :class:`~dmg.registry.extensions.MirroredLog`)."""

    def __init__(self, state: FederationState, origin: str, verifier_key: str) -> None:
        self._state = state
        self._origin = origin
        self._verifier_key = verifier_key

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def verifier_key(self) -> str:
        return self._verifier_key

    async def _size(self) -> int:
        found = await self._state.home_log(self._origin)
        return 0 if found is None else found.note_size

    async def checkpoint_note(self) -> str:
        found = await self._state.home_log(self._origin)
        if found is None or not found.note:
            raise NotFoundError(f"no checkpoint of {self._origin} has been verified here yet")
        return found.note

    async def _check(self, size: int) -> None:
        verified = await self._size()
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= verified:
            raise ProofError(f"tree size {size!r} is not one of {self._origin} verified here (up to {verified})")

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        await self._check(new_size)
        plan = consistency_plan(old_size, new_size)
        return plan.assemble(await self._state.nodes(self._origin, plan.nodes))

    async def inclusion_proof(self, leaf_index: int, size: int) -> list[bytes]:
        await self._check(size)
        plan = inclusion_plan(leaf_index, size)
        return plan.assemble(await self._state.nodes(self._origin, plan.nodes))

    async def leaf_index(self, entry: CID) -> int | None:
        return await self._state.leaf_of(self._origin, entry)


class FederationMirrors:
    """The :class:`~dmg.registry.extensions.Mirrors` of a registry with peers."""

    def __init__(self, state: FederationState) -> None:
        self.state = state

    async def home_log(self, namespace: str) -> HomeLog | None:
        origin = (await self.state.mirrored_namespaces()).get(namespace)
        if origin is None:
            return None
        found = await self.state.home_log(origin)
        return None if found is None else HomeLog(self.state, origin, found.verifier_key)

    async def log(self, origin: str) -> HomeLog | None:
        found = await self.state.home_log(origin)
        return None if found is None or not found.note else HomeLog(self.state, origin, found.verifier_key)

    async def logs(self) -> list[tuple[HomeLog, list[str]]]:
        by_origin: dict[str, list[str]] = {}
        for namespace, origin in (await self.state.mirrored_namespaces()).items():
            by_origin.setdefault(origin, []).append(namespace)
        found = []
        for home in await self.state.home_logs():
            if home.origin in by_origin:
                found.append((HomeLog(self.state, home.origin, home.verifier_key), by_origin[home.origin]))
        return found

    async def peer_statuses(self) -> list[dict[str, Any]]:
        return [status.to_json() for status in await self.state.statuses()]
