"""Sample modules a new registry is seeded with, so a newcomer can resolve and export something at once.

The samples live under ``org.example`` and are signed by a key generated for this registry (kept in the data
directory as ``samples.key``); their bundle is a tiny WASI command, assembled from WebAssembly text here, that
copies stdin to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from dmg.authoring.publisher import claim, release_bundle
from dmg.core.bundle import build_bundle
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec, ModuleRecord, Requirement, Resources
from dmg.core.semver import Version
from dmg.registry import Registry

SAMPLE_NAMESPACE: Final = "org.example"
SAMPLE_KEY_FILE: Final = "samples.key"

ECHO_WAT: Final = """
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $n i32)
    (block $done
      (loop $copy
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 4096))
        (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store (i32.const 4) (local.get $n))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br $copy)))))
"""

_OBJECT: Final = {"type": "object"}


def _record(name: str, version: str, description: str, dependencies: dict[str, str], bundle: CID) -> ModuleRecord:
    return ModuleRecord(
        dxn=DXN.parse(f"{SAMPLE_NAMESPACE}/function/{name}"),
        version=Version.parse(version),
        runtime="wasi",
        bundle=bundle,
        description=description,
        functions=(
            FunctionSpec(
                name=name.replace("-", "_"), description=description, input_schema=_OBJECT, output_schema=_OBJECT
            ),
        ),
        resources=Resources(memory=16 * 1024 * 1024, cpu_timeout_ms=1000),
        dependencies=tuple(Requirement(dxn=DXN.parse(dxn), spec=spec) for dxn, spec in dependencies.items()),
    )


SAMPLES: Final = (
    ("echo", "1.0.0", "Returns its invocation unchanged", {}),
    ("echo", "1.1.0", "Returns its invocation unchanged", {}),
    ("greeter", "0.1.0", "Greets whoever calls it, through echo", {f"{SAMPLE_NAMESPACE}/function/echo": "^1.0"}),
)


async def seed_samples(registry: Registry, data_dir: Path) -> list[str]:
    """Publish the samples into an empty ``org.example`` namespace; return the ``dxn@version`` published."""
    if (await registry.namespace(SAMPLE_NAMESPACE)).claimed:
        return []
    key_path = data_dir / SAMPLE_KEY_FILE
    key = SigningKey.load(key_path) if key_path.exists() else SigningKey.generate()
    if not key_path.exists():
        key.save(key_path)
    await registry.submit_entry(
        claim(SAMPLE_NAMESPACE, [key], await registry.log_head(SAMPLE_NAMESPACE), now_ms()).block()[1]
    )
    import wasmtime  # loaded only to seed a registry: the command line imports this module for every command

    bundle = build_bundle(wasmtime.wat2wasm(ECHO_WAT), "wasi")
    published = []
    for name, version, description, dependencies in SAMPLES:
        record = _record(name, version, description, dependencies, bundle.cid)
        head = await registry.log_head(str(record.dxn))
        prepared = release_bundle(record, bundle, key, head, now_ms())
        await registry.publish(prepared.root, prepared.blocks())
        published.append(f"{record.dxn}@{record.version}")
    return published
