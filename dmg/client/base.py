"""The interface every registry client offers, whatever the transport, and the answers only clients give.

The CLI and (later) federation and the orchestrator talk to a registry only through :class:`RegistryClient`.
:mod:`dmg.client.local` implements it on a data directory (the embedded registry), :mod:`dmg.client.http` on a
registry service over HTTP (verifying everything it receives, against the registry's transparency log too).
:func:`open_client` picks one from a ``--registry`` target. The transports are imported when a client is opened,
so a local command never loads the HTTP stack.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Protocol

from dmg.api.events import RegistryEvent
from dmg.api.results import FsckReport, ImportResult, ModuleInfo, PublishResult, Resolution, SearchPage, VersionInfo
from dmg.client.transparency import Verification
from dmg.client.trust import TrustPolicy
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.namelog import LogHead
from dmg.core.paths import default_data_dir
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version


class RegistryClient(Protocol):
    """What a registry answers and accepts. Writes take signed envelopes and blocks; nothing is trusted."""

    async def close(self) -> None: ...

    async def log_head(self, log: str) -> LogHead: ...

    async def submit_entry(self, envelope: Envelope) -> CID: ...

    async def publish(self, root: CID, blocks: Mapping[CID, bytes]) -> PublishResult: ...

    async def resolve(self, dxn: DXN, selector: Version | Range | str | None = None) -> Resolution: ...

    async def versions(self, dxn: DXN) -> list[VersionInfo]: ...

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]: ...

    async def export(self, dxns: Iterable[DXN]) -> bytes: ...

    async def import_car(self, data: bytes) -> ImportResult: ...

    async def fsck(self) -> FsckReport: ...

    async def get_block(self, cid: CID) -> bytes: ...

    async def module(self, dxn: DXN, version: Version) -> ModuleInfo: ...

    async def log_size(self) -> int:
        """How many entries the registry's log holds: the position of the newest event."""
        ...

    async def events_since(self, after: int, limit: int = 100) -> list[RegistryEvent]:
        """Up to ``limit`` registry events after log position ``after`` (0: from the first), each entry verified."""
        ...

    def subscribe(self, after: int | None = None) -> AsyncIterator[RegistryEvent]:
        """Registry events after ``after`` (None: from now on) as they are accepted, each entry verified. Ends with
        :class:`~dmg.client.errors.RegistryUnavailableError` when the connection breaks: subscribe again after the
        last position seen (:func:`dmg.client.events.follow` does)."""
        ...

    async def verify(self, dxn: DXN, selector: Version | Range | str | None = None) -> Verification:
        """Resolve ``dxn`` and check the answer end to end against the registry's transparency log."""
        ...

    async def search(
        self,
        text: str | None = None,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> SearchPage: ...


def default_target() -> str:
    """The registry used when no ``--registry`` is given: ``$DMG_REGISTRY``, else the default data directory."""
    return os.environ.get("DMG_REGISTRY") or str(default_data_dir())


async def open_client(target: str | None = None, *, trust: TrustPolicy | None = None) -> RegistryClient:
    """A client for ``target``: a data directory path (embedded registry) or an ``http(s)://`` URL.

    ``trust`` is how an HTTP client judges the registry's transparency log (default: the user's trust store, trust
    on first use); a data directory is trusted local storage and ignores it.
    """
    chosen = target or default_target()
    if chosen.startswith(("http://", "https://")):
        from dmg.client.http import HttpClient

        return HttpClient(chosen, trust=trust)
    from dmg.client.local import LocalClient

    return await LocalClient.open(chosen)
