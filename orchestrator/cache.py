"""The orchestrator's content-addressed cache of bundle blocks, shared by every installed function.

Each block of a bundle (its DAG-CBOR index node and its raw chunks) is kept once, as ``<directory>/<cid>``, whoever
installed it: two functions with the same bundle, or two bundles sharing a chunk, store it once. A block is checked
against its CID when it arrives from a registry (by the client), again before it is written, and again when it is
read back, so a damaged file is noticed and fetched afresh rather than trusted. Files are written whole and renamed
into place.

:meth:`BlockCache.bundle` assembles a bundle from cached blocks, fetching the missing ones through a callback
(normally a registry client's verifying ``get_block``) and keeping them; :func:`~dmg.core.bundle.assemble_bundle_async`
checks every chunk and the whole file's sha256 on the way. Compiling is not done here: the runtime's
:class:`~orchestrator.runtimes.wasi.cache.ModuleCache` keeps the compiled artefact under the same bundle CID.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from dmg.core.bundle import assemble_bundle_async
from dmg.core.cid import CID
from dmg.core.errors import StoreError

FetchBlock = Callable[[CID], Awaitable[bytes]]


class BlockCache:
    """Blocks on disk under ``directory``, named by CID; reads and writes are checked against the CID."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the block cache {str(self.directory)!r}: {exc.strerror}") from exc

    def _path(self, cid: CID) -> Path:
        return self.directory / str(cid)

    def get(self, cid: CID) -> bytes | None:
        """The block ``cid``, or ``None`` when it is not cached (or the cached file does not match, and is removed)."""
        path = self._path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if not cid.matches(data):
            path.unlink(missing_ok=True)
            return None
        return data

    def put(self, cid: CID, data: bytes) -> None:
        """Keep ``data`` as block ``cid``; :class:`StoreError` if it does not match."""
        if not cid.matches(data):
            raise StoreError(f"refusing to cache {len(data)} bytes as block {cid}: they do not match the CID")
        path = self._path(cid)
        if path.exists():
            return
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
        partial.write_bytes(data)
        partial.replace(path)

    def __contains__(self, cid: CID) -> bool:
        return self._path(cid).exists()

    async def bundle(self, cid: CID, fetch: FetchBlock | None = None) -> bytes:
        """The bundle file under ``cid``, from cached blocks and, for missing ones, ``fetch`` (whose blocks are
        kept). Without ``fetch`` a missing block is a :class:`~dmg.core.errors.BundleError`."""

        async def block(wanted: CID) -> bytes | None:
            data = self.get(wanted)
            if data is None and fetch is not None:
                data = await fetch(wanted)
                self.put(wanted, data)
            return data

        return await assemble_bundle_async(cid, block)
