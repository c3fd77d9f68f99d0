"""Filling an embedded registry (:class:`dmg.registry.Registry` on a data directory): module records made with
test defaults, namespace claims, releases prepared and published by a key, and :func:`smuggle`, what a compromised
registry does to its own log."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dmg.api.results import EntryKind
from dmg.authoring.publisher import PreparedRelease, claim, release_bundle
from dmg.core.bundle import Bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import FunctionSpec, ModuleRecord, Release, Requirement, parse_entry
from dmg.core.semver import Version
from dmg.registry import Registry
from dmg.store.base import Commit, CommitEntry, ReleaseRow, SearchDocument


def module_record(
    name: str, version: str, bundle: Bundle, dependencies: dict[str, str] | None = None, **fields: object
) -> ModuleRecord:
    """A wasi module record ``name@version`` for ``bundle`` with one function ``run``; ``dependencies`` maps a DXN
    to its range, and ``fields`` replace any other field."""
    defaults: dict[str, object] = {
        "description": f"{name} for tests",
        "functions": (
            FunctionSpec(
                name="run", description="runs", input_schema={"type": "object"}, output_schema={"type": "object"}
            ),
        ),
    }
    return ModuleRecord(
        dxn=DXN.parse(name),
        version=Version.parse(version),
        runtime="wasi",
        bundle=bundle.cid,
        dependencies=tuple(Requirement(dxn=DXN.parse(dxn), spec=spec) for dxn, spec in (dependencies or {}).items()),
        **{**defaults, **fields},  # type: ignore[arg-type]
    )


async def claim_namespace(registry: Registry, namespace: str, key: SigningKey) -> None:
    """Claim ``namespace`` for ``key`` alone."""
    await registry.submit_entry(claim(namespace, [key], await registry.log_head(namespace), now_ms()).block()[1])


async def prepare(
    registry: Registry, key: SigningKey, name: str, version: str, bundle: Bundle, **kwargs: object
) -> PreparedRelease:
    """The release of :func:`module_record` ``(name, version, bundle, **kwargs)`` signed by ``key``, chained to the
    head of its log in ``registry``, not yet published."""
    record = module_record(name, version, bundle, **kwargs)  # type: ignore[arg-type]
    return release_bundle(record, bundle, key, await registry.log_head(name), now_ms())


async def publish(
    registry: Registry, key: SigningKey, name: str, version: str, bundle: Bundle, **kwargs: object
) -> PreparedRelease:
    """:func:`prepare` the release, then publish it to ``registry``."""
    prepared = await prepare(registry, key, name, version, bundle, **kwargs)
    await registry.publish(prepared.root, prepared.blocks())
    return prepared


async def smuggle(data_dir: Path, prepared: PreparedRelease) -> None:
    """What a compromised registry does: append a release to its log and index without checking who signed it."""
    entry = parse_entry(prepared.entry.payload)
    assert isinstance(entry, Release)
    async with await Registry.open(data_dir) as registry:
        log = await registry.dxn_log(entry.dxn)
        state = replace(
            log,
            head=LogHead(prepared.root, entry.seq, entry.time),
            released={**log.released, entry.version: entry.record},
        )
        document = SearchDocument.from_payload(prepared.record_envelope.payload)
        row = ReleaseRow(
            str(entry.dxn), str(entry.version), entry.record, prepared.root, entry.time, "smuggled", document
        )
        commit = Commit(
            blocks=list(prepared.blocks().items()),
            entries=[CommitEntry(prepared.root, str(entry.dxn), EntryKind.DXN, entry.seq, entry.time)],
            dxn_logs={str(entry.dxn): state},
            releases=[row],
        )
        await registry.log.append(commit, [prepared.entry.block()[1]])
