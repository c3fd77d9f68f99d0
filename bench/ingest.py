"""Verified publishes per second into SQLite through a batch CAR import.

Builds a CAR with one namespace claim and N releases (each with its signed record; all share one small real WASM
bundle), then imports it into a fresh registry on a temporary SQLite file: every block is re-hashed, every
signature verified, every entry replayed through the name-log state machine, every record validated, the whole
batch committed in one transaction. The floor is the bare cost of the cryptography alone on the same data:
Ed25519 verification of every signature plus sha2-256 of every block. Target: ``ratio_vs_verify_floor`` >= 0.5.

    python bench/ingest.py [--releases N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import wasmtime

from dmg.authoring.publisher import claim, release_bundle
from dmg.authoring.samples import ECHO_WAT
from dmg.core import codec
from dmg.core.bundle import build_bundle
from dmg.core.car import read_car, write_car
from dmg.core.cid import DAG_CBOR
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope, signing_input
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.records import FunctionSpec, ModuleRecord, Requirement, Resources, TimerTrigger, Trigger
from dmg.core.semver import Version
from dmg.registry import Registry


def build_car(releases: int) -> tuple[bytes, int]:
    """A CAR of one claim and ``releases`` releases (10 versions per module); returns it and the release count."""
    key = SigningKey.from_seed(b"b" * 32)
    bundle = build_bundle(wasmtime.wat2wasm(ECHO_WAT), "wasi")
    start = 1_700_000_000_000
    claim_entry = claim("com.bench", [key], LogHead(), start)
    roots = [claim_entry.cid]
    blocks = dict([claim_entry.block(), *bundle.blocks()])
    heads: dict[str, LogHead] = {}
    for n in range(releases):
        # Each module has its own functions, schemas, resources, trigger and dependency; its versions share them, as
        # versions of one module do, so parsing caches keyed by content get the hits real imports give them, no more.
        module = n // 10
        name = f"com.bench/function/module-{module}"
        record = ModuleRecord(
            dxn=DXN.parse(name),
            version=Version.parse(f"1.{n % 10}.0"),
            runtime="wasi",
            bundle=bundle.cid,
            description=f"Benchmark module {n}: indexes things across spaces",
            functions=(
                FunctionSpec(
                    name=f"index-{module}",
                    description=f"Index a space, variant {module}",
                    input_schema={
                        "type": "object",
                        "properties": {f"space{module}": {"type": "string"}, "limit": {"type": "integer"}},
                    },
                    output_schema={"type": "object", "properties": {f"count{module}": {"type": "integer"}}},
                ),
            ),
            resources=Resources(
                memory=(32 + module) << 20, cpu_timeout_ms=5000 + n % 10, network=(f"api{module}.example.com:443",)
            ),
            dependencies=(Requirement(dxn=DXN.parse(f"org.dxos/function/indexer-{module}"), spec="^1.2"),),
            triggers=(Trigger(function=f"index-{module}", spec=TimerTrigger(cron=f"*/{module % 59 + 1} * * * *")),),
        )
        prepared = release_bundle(record, bundle, key, heads.get(name, LogHead()), start + n)
        heads[name] = LogHead(prepared.root, heads.get(name, LogHead()).seq + 1, start + n)
        roots.append(prepared.root)
        blocks[prepared.root] = prepared.entry.block()[1]
        blocks[prepared.record_envelope.cid] = prepared.record_envelope.block()[1]
    return write_car(roots, blocks.items()), releases


async def import_once(car: bytes) -> float:
    with tempfile.TemporaryDirectory() as directory:
        async with await Registry.open(Path(directory)) as registry:
            started = time.perf_counter()
            result = await registry.import_car(car)
            elapsed = time.perf_counter() - started
            assert result.entries_added > 0
    return elapsed


def floor_once(car: bytes) -> float:
    """Ed25519-verify every signature and sha2-256 every block of the CAR; nothing else."""
    parsed = read_car(car)
    values = [codec.decode(data) for cid, data in parsed.blocks.items() if cid.codec == DAG_CBOR]
    envelopes = [Envelope.from_dict(value) for value in values if "signatures" in value]
    signed = [
        (signature, signing_input(envelope.payload_bytes))
        for envelope in envelopes
        for signature in envelope.signatures
    ]
    datas = list(parsed.blocks.values())
    started = time.perf_counter()
    for data in datas:
        hashlib.sha256(data).digest()
    for signature, message in signed:
        assert signature.key.verify(signature.sig, message)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    car, releases = build_car(args.releases)
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(args.repeat):
        # Interleaved, so that drift in the machine's speed hits both alike.
        ours.append(asyncio.run(import_once(car)))
        floor.append(floor_once(car))
    ours_rate = releases / statistics.median(ours)
    floor_rate = releases / statistics.median(floor)
    print(f"CAR: {len(car)} bytes, {releases} releases")
    print(f"verified import into SQLite: {ours_rate:,.0f} publishes/s (median of {args.repeat})")
    print(f"floor, Ed25519 verify + sha2-256 only: {floor_rate:,.0f} publishes/s")
    print(f"ratio vs floor: {ours_rate / floor_rate:.2f} (target >= 0.5)")
    print(
        json.dumps(
            {
                "bench": "ingest",
                "releases": releases,
                "publishes_per_s": round(ours_rate, 1),
                "floor_publishes_per_s": round(floor_rate, 1),
                "ratio_vs_verify_floor": round(ours_rate / floor_rate, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
