"""How packages above the registry extend it without the registry importing them: federation is the first.

A package declares a ``dmg.registry.extensions`` entry point naming an async function ``extend(registry, data_dir)``;
:meth:`Registry.open <dmg.registry.registry.Registry.open>` calls every one after opening, and an extension with
nothing configured in ``data_dir`` does nothing. An extension may add to the registry's write policy, and fill two
seams the registry consults itself:

- an :class:`Upstream`: where a miss (a name or a block this registry does not hold) is fetched from before the
  answer is given (pull-through), verified like anything else submitted;
- :class:`Mirrors`: the home logs of namespaces this registry mirrors, so that readers can check mirrored entries
  against their home's signed log rather than this registry's word.

It may also register a closer (:meth:`Registry.on_close <dmg.registry.registry.Registry.on_close>`) for what it
opened.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from dmg.core.cid import CID
from dmg.core.dxn import DXN

if TYPE_CHECKING:
    from dmg.registry.registry import Registry

GROUP: Final = "dmg.registry.extensions"

logger = logging.getLogger("dmg.registry")

Extension = Callable[["Registry", Path], Awaitable[None]]


class Upstream(Protocol):
    """Fetches what a registry lacks from the registries it pulls through; True when anything new was stored."""

    async def pull_dxn(self, dxn: DXN) -> bool: ...

    async def pull_block(self, cid: CID) -> bool: ...


class MirroredLog(Protocol):
    """A home registry's transparency log as this registry verified and keeps it."""

    @property
    def origin(self) -> str: ...

    @property
    def verifier_key(self) -> str: ...

    async def checkpoint_note(self) -> str:
        """The newest checkpoint of the home this registry verified, as the home signed it."""
        ...

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...

    async def inclusion_proof(self, leaf_index: int, size: int) -> list[bytes]: ...

    async def leaf_index(self, entry: CID) -> int | None:
        """The leaf of ``entry`` in the home's tree, or None when it is not a mirrored entry of this home."""
        ...


class Mirrors(Protocol):
    """The home logs of every namespace this registry mirrors."""

    async def home_log(self, namespace: str) -> MirroredLog | None:
        """The log of ``namespace``'s home, or None when ``namespace`` is this registry's own."""
        ...

    async def log(self, origin: str) -> MirroredLog | None:
        """The mirrored log named ``origin``, or None when no home of that name is mirrored here."""
        ...

    async def peer_statuses(self) -> Sequence[Mapping[str, Any]]:
        """Every peer with its routes, sync progress, status and evidence, as JSON values (operator information)."""
        ...

    async def logs(self) -> Sequence[tuple[MirroredLog, Sequence[str]]]:
        """Every mirrored home log with the namespaces it is home for."""
        ...


@functools.cache
def _extensions() -> tuple[Any, ...]:
    # A name declared by two installed distributions (an editable install and its checkout) counts once.
    return tuple({point.name: point for point in reversed(entry_points(group=GROUP))}.values())


async def extend(registry: Registry, data_dir: Path) -> None:
    """Run every installed extension on a newly opened registry."""
    for point in _extensions():
        extension: Extension = point.load()
        await extension(registry, data_dir)
