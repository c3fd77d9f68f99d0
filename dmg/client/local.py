"""A :class:`~dmg.client.base.RegistryClient` on a local data directory: the embedded registry, in process."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.namelog import LogHead
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version
from dmg.registry import FsckReport, ImportResult, PublishResult, Registry, Resolution
from dmg.store.base import VersionInfo


class LocalClient:
    """Runs every call against a :class:`~dmg.registry.Registry` opened on ``data_dir``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @classmethod
    async def open(cls, data_dir: str | os.PathLike[str]) -> LocalClient:
        return cls(await Registry.open(data_dir))

    async def close(self) -> None:
        await self.registry.close()

    async def log_head(self, log: str) -> LogHead:
        return await self.registry.log_head(log)

    async def submit_entry(self, envelope: Envelope) -> CID:
        return await self.registry.submit_entry(envelope.block()[1])

    async def publish(self, root: CID, blocks: Mapping[CID, bytes]) -> PublishResult:
        return await self.registry.publish(root, blocks)

    async def resolve(self, dxn: DXN, selector: Version | Range | str | None = None) -> Resolution:
        return await self.registry.resolve(dxn, selector)

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        return await self.registry.versions(dxn)

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]:
        return await self.registry.record(cid)

    async def export(self, dxns: Iterable[DXN]) -> bytes:
        return await self.registry.export(dxns)

    async def import_car(self, data: bytes) -> ImportResult:
        return await self.registry.import_car(data)

    async def fsck(self) -> FsckReport:
        return await self.registry.fsck()
