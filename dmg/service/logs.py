"""Which transparency log answers a question: this registry's own, or the home log of a namespace it mirrors.

GraphQL's ``checkpoint``, ``inclusionProof``, ``consistencyProof`` and ``history`` take an optional ``log`` (the
origin of a mirrored home's log, as ``Module.home`` and ``Namespace.home`` name it), so that a client checks a
mirrored module against its home's signed log. :class:`ProofLog` is what both kinds of log offer.
"""

from __future__ import annotations

from typing import Protocol

from dmg.core.checkpoint import NoteVerifier, SignedCheckpoint
from dmg.core.cid import CID
from dmg.core.errors import NotFoundError
from dmg.registry import Registry


class ProofLog(Protocol):
    async def inclusion_proof(self, leaf_index: int, size: int) -> list[bytes]: ...

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...


async def proof_log(registry: Registry, origin: str | None) -> ProofLog:
    """The log named ``origin`` (None, or this registry's own origin: its own log)."""
    if origin is None or origin == registry.log.origin:
        return registry.log
    found = None if registry.mirrors is None else await registry.mirrors.log(origin)
    if found is None:
        raise NotFoundError(f"no log {origin!r} is kept here: this registry is {registry.log.origin!r}")
    return found


async def signed_checkpoint(registry: Registry, origin: str | None) -> tuple[SignedCheckpoint, str]:
    """The newest checkpoint of the log named ``origin`` with the verifier key it is signed with."""
    if origin is None or origin == registry.log.origin:
        return await registry.log.checkpoint(), registry.log.verifier_key
    found = None if registry.mirrors is None else await registry.mirrors.log(origin)
    if found is None:
        raise NotFoundError(f"no log {origin!r} is kept here: this registry is {registry.log.origin!r}")
    key = found.verifier_key
    return SignedCheckpoint.open(await found.checkpoint_note(), NoteVerifier.from_vkey(key)), key


async def leaf_in(registry: Registry, origin: str | None, cid: CID, own_leaf: int) -> int | None:
    """The leaf of an entry in the log named ``origin``: its own position here, or its leaf in the home's tree."""
    if origin is None or origin == registry.log.origin:
        return own_leaf
    found = None if registry.mirrors is None else await registry.mirrors.log(origin)
    if found is None:
        raise NotFoundError(f"no log {origin!r} is kept here: this registry is {registry.log.origin!r}")
    return await found.leaf_index(cid)


async def home_of(registry: Registry, namespace: str) -> str | None:
    """The origin of ``namespace``'s home log when it is mirrored here; None when this registry is its home."""
    if registry.mirrors is None:
        return None
    found = await registry.mirrors.home_log(namespace)
    return None if found is None else found.origin
