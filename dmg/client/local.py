"""A :class:`~dmg.client.base.RegistryClient` on a local data directory: the embedded registry, in process.

The data directory is trusted local storage, so reads are not checked against the transparency log; there is no
network to lie. :meth:`LocalClient.verify` (``dmg verify`` on a data directory) still checks a module end to end:
signatures, authorisation by the namespace log, log chains and inclusion in a checkpoint signed by the
directory's operator key; only the checks against network attacks (pinning, freshness, rollback, forks) are left
out, since nothing is remembered between runs.

Search pages use the registry's one cursor format (:mod:`dmg.api.paging`), as the service's do.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

from dmg.api.events import RegistryEvent
from dmg.api.results import (
    FsckReport,
    ImportResult,
    ModuleInfo,
    PublishResult,
    Resolution,
    SearchHit,
    SearchPage,
    VersionInfo,
)
from dmg.client.transparency import LogVerifier, ProvenEntry, Verification
from dmg.client.trust import TrustPolicy
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import NotFoundError
from dmg.core.namelog import LogHead
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version
from dmg.registry import Registry


class LocalClient:
    """Runs every call against a :class:`~dmg.registry.Registry` opened on ``data_dir``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.log = LogVerifier(self, registry.log.origin, TrustPolicy(store=None, max_age_ms=None))

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

    async def get_block(self, cid: CID) -> bytes:
        return await self.registry.get_block(cid)

    async def module(self, dxn: DXN, version: Version) -> ModuleInfo:
        info = await self.registry.version(dxn.base, str(version))
        if info is None:
            raise NotFoundError(f"{dxn.base}@{version} was never released")
        _, record = await self.registry.record(info.record)
        return ModuleInfo(info.record, record, info.yanked, info.yank_reason, info.published_at, info.publisher)

    async def log_size(self) -> int:
        return (await self.registry.log.checkpoint()).size

    async def events_since(self, after: int, limit: int = 100) -> list[RegistryEvent]:
        return await self.registry.entries_since(after, limit)

    def subscribe(self, after: int | None = None) -> AsyncIterator[RegistryEvent]:
        return self.registry.subscribe(after)

    async def verify(self, dxn: DXN, selector: Version | Range | str | None = None) -> Verification:
        """Resolve ``dxn`` and check the answer against this directory's transparency log."""
        if selector is None:
            selector = dxn.version_selector()
        resolution = await self.registry.resolve(dxn, selector)
        envelope, _ = await self.registry.record(resolution.record)
        envelope.verify()
        return await self.log.verify(dxn, selector, resolution.version, resolution.record, envelope, resolution.yanked)

    # --- the transparency log (a LogSource for dmg.client.transparency) ---------------------------------------

    async def checkpoint_note(self) -> str:
        return (await self.registry.log.checkpoint()).note

    async def log_verifier_key(self) -> str:
        return self.registry.log.verifier_key

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return await self.registry.log.consistency_proof(old_size, new_size)

    async def proven_history(self, logs: Sequence[str], size: int) -> dict[str, list[ProvenEntry]]:
        history: dict[str, list[ProvenEntry]] = {}
        for log in logs:
            entries = []
            for stored, block in await self.registry.log_entries(log):
                in_tree = stored.leaf_index < size
                proof = await self.registry.log.inclusion_proof(stored.leaf_index, size) if in_tree else None
                entries.append(ProvenEntry(stored.leaf_index, block, None if proof is None else tuple(proof)))
            history[log] = entries
        return history

    async def export(self, dxns: Iterable[DXN]) -> bytes:
        return await self.registry.export(dxns)

    async def import_car(self, data: bytes) -> ImportResult:
        return await self.registry.import_car(data)

    async def fsck(self) -> FsckReport:
        return await self.registry.fsck()

    async def search(
        self,
        text: str | None = None,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> SearchPage:
        """Modules matching ``text`` (every word as a prefix) and the filters, each at its latest version (the
        highest stable unyanked one, else the highest), as the registry service answers ``modules``."""
        listing = await self.registry.search(text, namespace=namespace, kind=kind, first=first, after=after)
        hits = tuple(
            SearchHit(item.info.dxn, item.record.version, item.info.record, item.record.description, item.info.yanked)
            for item in listing.modules
        )
        return SearchPage(hits, listing.total, listing.has_next, listing.end_cursor)
