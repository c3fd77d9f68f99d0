"""The interface every registry client offers, whatever the transport.

The CLI and (later) federation and the orchestrator talk to a registry only through :class:`RegistryClient`.
:mod:`dmg.client.local` implements it on a data directory (the embedded registry); an HTTP implementation plugs in
behind the same methods. :func:`open_client` picks one from a ``--registry`` target.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from dmg.client.local import LocalClient
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError
from dmg.core.namelog import LogHead
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version
from dmg.registry import FsckReport, ImportResult, PublishResult, Resolution
from dmg.store.base import VersionInfo


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


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/dmg/registry`` (``~/.local/share/dmg/registry`` when XDG_DATA_HOME is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "dmg" / "registry"


def default_target() -> str:
    """The registry used when no ``--registry`` is given: ``$DMG_REGISTRY``, else the default data directory."""
    return os.environ.get("DMG_REGISTRY") or str(default_data_dir())


async def open_client(target: str | None = None) -> RegistryClient:
    """A client for ``target``: a data directory path (embedded registry) or an ``http(s)://`` URL."""
    chosen = target or default_target()
    if chosen.startswith(("http://", "https://")):
        raise DmgError(f"{chosen}: remote registries need the registry service (dmg serve), not yet available")
    return await LocalClient.open(chosen)
