"""Reading a registry ahead of solving: every version and record a resolution may need, many requests at once.

The solver is synchronous (it asks for one package at a time, in an order that depends on every answer), so
:func:`prefetch` walks a :class:`~dmg.core.resolver.provider.RecordSource` breadth first and returns an
:class:`~dmg.core.resolver.provider.InMemoryProvider` the solver then reads without waiting. It checks that each
record is the one its listing names; it verifies no signature (the client did that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from dmg.core.dxn import DXN
from dmg.core.errors import RecordError
from dmg.core.records import ModuleRecord
from dmg.core.resolver.provider import InMemoryProvider, Metadata, RecordSource, ReleaseListing
from dmg.core.semver import Version


async def prefetch(
    source: RecordSource, names: Iterable[DXN | str], *, transitive: bool = True, concurrency: int = 16
) -> InMemoryProvider:
    """Read every version and record of ``names`` (and, when ``transitive``, of everything any of them depends
    on, breadth first) into an :class:`InMemoryProvider`, with up to ``concurrency`` requests in flight.

    A record that does not match the listing it came from (another DXN or version) is a :class:`RecordError`.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    provider = InMemoryProvider()
    limit = asyncio.Semaphore(concurrency)

    async def limited_versions(dxn: DXN) -> Sequence[ReleaseListing]:
        async with limit:
            return await source.versions(dxn)

    async def release(dxn: DXN, listing: ReleaseListing) -> ModuleRecord:
        async with limit:
            _, record = await source.record(listing.record)
        if record.dxn != dxn or record.version != Version.parse(listing.version):
            raise RecordError(f"the record listed as {dxn}@{listing.version} is for {record.dxn}@{record.version}")
        return record

    seen: set[str] = set()
    frontier = []
    for name in names:
        dxn = (DXN.parse(name) if isinstance(name, str) else name).base
        if str(dxn) not in seen:
            seen.add(str(dxn))
            frontier.append(dxn)
    while frontier:
        listings = await asyncio.gather(*(limited_versions(dxn) for dxn in frontier))
        pairs = [(dxn, listing) for dxn, found in zip(frontier, listings, strict=True) for listing in found]
        records = await asyncio.gather(*(release(dxn, listing) for dxn, listing in pairs))
        frontier = []
        for (_, listing), record in zip(pairs, records, strict=True):
            provider.add(str(record.dxn), record.version, Metadata.from_record(record), yanked=listing.yanked,
                         record=listing.record)  # fmt: skip
            for dependency in record.dependencies if transitive else ():
                if str(dependency.dxn) not in seen:
                    seen.add(str(dependency.dxn))
                    frontier.append(dependency.dxn)
    return provider
