"""Strict DAG-CBOR throughput: encode + CID and decode + verify of realistic records, against a floor and a peer.

The data: signed envelopes ``{payload, signatures: [{key, sig}]}`` whose payload is either a module record
(functions with JSON Schemas, resources, APIs, dependencies, a timer trigger; ~1 KiB) or a DXN-log release entry
(~300 bytes), built in Python insertion order (not sorted), every one different.

Each implementation does the same work on the same data:

- ours: ``codec.encode_block(value)`` (data-model check, key sort, bytes, CID) and ``codec.decode_block(cid, data)``
  (sha2-256 check, strict decode);
- floor: plain ``cbor2.dumps`` + sha2-256, and sha2-256 + plain ``cbor2.loads``: no key sort, no checks (links as
  ``CBORTag(42, ...)``, cbor2's own form);
- peer: the ``dag-cbor`` package (pure-Python DAG-CBOR) with the same hashing (links as ``multiformats.CID``).

Figures are items per second, the median of ``--runs`` runs, with the implementations interleaved in each run so
that drift in the machine's speed hits all of them alike. ``ratio_vs_floor`` and ``speedup_vs_dag_cbor`` compare
the combined work (encode and decode of both kinds, one record per log entry); targets: >= 0.5 and >= 5.

    python bench/codec.py [--quick] [--items N] [--runs R]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import cbor2
import dag_cbor
from multiformats import CID as MultiformatsCID

from dmg.core import codec
from dmg.core.cid import CID, DAG_CBOR

KINDS = ("record", "entry")
OPERATIONS = ("encode", "decode")
IMPLEMENTATIONS = ("ours", "floor", "peer")


def _cid(label: str) -> CID:
    return CID.of(label.encode(), DAG_CBOR)


def _signed(payload: dict[str, Any], n: int) -> dict[str, Any]:
    key = b"\xed\x01" + hashlib.sha256(b"key %d" % (n % 7)).digest()
    sig = hashlib.sha512(b"sig %d" % n).digest()
    return {"payload": payload, "signatures": [{"key": key, "sig": sig}]}


def module_record(n: int) -> dict[str, Any]:
    name = f"com.example/function/mail-bridge-{n // 10}"
    return _signed(
        {
            "dxn": name,
            "version": f"1.{n % 10}.0",
            "description": "Mirrors an IMAP mailbox into a space",
            "runtime": "wasi",
            "bundle": _cid(f"bundle {n}"),
            "functions": [
                {
                    "name": "sync",
                    "description": "Fetch new mail and write it to the space",
                    "inputSchema": {
                        "type": "object",
                        "properties": {"mailbox": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
                        "required": ["mailbox"],
                    },
                    "outputSchema": {"type": "object", "properties": {"count": {"type": "integer"}}},
                },
                {
                    "name": "status",
                    "description": "Report when the mailbox was last mirrored",
                    "inputSchema": {"type": "object"},
                    "outputSchema": {
                        "type": "object",
                        "properties": {"last": {"type": "string", "format": "date-time"}},
                    },
                },
            ],
            "resources": {
                "memory": 32 << 20,
                "cpu": {"timeout": 5000},
                "storage": 10 << 20,
                "network": {"allow": ["imap.example.com:993"]},
                "spaces": "read-write",
            },
            "apis": {"provides": ["com.example/api/mail@1.0.0"], "requires": ["org.dxos/api/echo@^0.1"]},
            "dependencies": {"org.dxos/function/universal-indexer": "^1.2", "org.dxos/type/mailbox": "~0.3.1"},
            "triggers": [
                {"function": "sync", "spec": {"kind": "timer", "cron": "*/5 * * * *"}, "input": {"mailbox": "INBOX"}}
            ],
        },
        n,
    )


def log_entry(n: int) -> dict[str, Any]:
    return _signed(
        {
            "type": "release",
            "dxn": f"com.example/function/mail-bridge-{n // 10}",
            "version": f"1.{n % 10}.0",
            "seq": n % 10 + 1,
            "time": 1_767_225_600_000 + 60_000 * n,
            "prev": _cid(f"entry {n - 1}"),
            "record": _cid(f"record {n}"),
        },
        n,
    )


def with_links(value: Any, link: Callable[[CID], Any]) -> Any:
    """``value`` with every CID replaced by ``link(cid)``: each library's own form of a link."""
    if isinstance(value, dict):
        return {key: with_links(item, link) for key, item in value.items()}
    if isinstance(value, list):
        return [with_links(item, link) for item in value]
    return link(value) if isinstance(value, CID) else value


def workloads(items: int) -> dict[tuple[str, str, str], tuple[Callable[[Any], Any], list[Any]]]:
    """(kind, operation, implementation) -> (function, inputs): the same values and bytes for everyone."""
    made = {"record": [module_record(n) for n in range(items)], "entry": [log_entry(n) for n in range(items)]}
    jobs: dict[tuple[str, str, str], tuple[Callable[[Any], Any], list[Any]]] = {}
    for kind, values in made.items():
        blocks = [codec.encode_block(value) for value in values]
        as_tags = [with_links(value, lambda cid: cbor2.CBORTag(42, b"\x00" + cid.bytes)) for value in values]
        as_multiformats = [with_links(value, lambda cid: MultiformatsCID.decode(cid.bytes)) for value in values]
        if any(dag_cbor.encode(peer) != data for peer, (_, data) in zip(as_multiformats, blocks, strict=True)):
            raise SystemExit("the dag-cbor package and dmg disagree on an encoding; figures would mean nothing")
        with_digests = [(cid.digest, data) for cid, data in blocks]
        jobs[kind, "encode", "ours"] = (codec.encode_block, values)
        jobs[kind, "encode", "floor"] = (floor_encode, as_tags)
        jobs[kind, "encode", "peer"] = (peer_encode, as_multiformats)
        jobs[kind, "decode", "ours"] = (ours_decode, blocks)
        jobs[kind, "decode", "floor"] = (floor_decode, with_digests)
        jobs[kind, "decode", "peer"] = (peer_decode, with_digests)
    return jobs


def floor_encode(value: Any) -> bytes:
    return hashlib.sha256(cbor2.dumps(value)).digest()


def floor_decode(block: tuple[bytes, bytes]) -> Any:
    digest, data = block
    if hashlib.sha256(data).digest() != digest:
        raise ValueError("digest mismatch")
    return cbor2.loads(data)


def peer_encode(value: Any) -> bytes:
    return hashlib.sha256(dag_cbor.encode(value)).digest()


def peer_decode(block: tuple[bytes, bytes]) -> Any:
    digest, data = block
    if hashlib.sha256(data).digest() != digest:
        raise ValueError("digest mismatch")
    return dag_cbor.decode(data)


def ours_decode(block: tuple[CID, bytes]) -> Any:
    return codec.decode_block(*block)


def seconds_for(function: Callable[[Any], Any], inputs: Sequence[Any]) -> float:
    start = time.perf_counter()
    for item in inputs:
        function(item)
    return time.perf_counter() - start


def measure(items: int, runs: int, peer_share: int) -> dict[tuple[str, str, str], list[float]]:
    """Seconds per item of every job, one sample per run; the slow peer works on a slice of the inputs."""
    jobs = workloads(items)
    samples: dict[tuple[str, str, str], list[float]] = {job: [] for job in jobs}
    for _ in range(runs):
        for job, (function, inputs) in jobs.items():
            share = inputs[: max(1, len(inputs) // peer_share)] if job[2] == "peer" else inputs
            samples[job].append(seconds_for(function, share) / len(share))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=400, help="records and log entries each (default 400)")
    parser.add_argument("--runs", type=int, default=9, help="runs; the median is reported (default 9)")
    parser.add_argument("--quick", action="store_true", help="100 items, 5 runs")
    args = parser.parse_args()
    items, runs = (100, 5) if args.quick else (args.items, args.runs)

    samples = measure(items, runs, peer_share=8)
    per_item = {job: statistics.median(values) for job, values in samples.items()}

    def total(implementation: str, kinds: Sequence[str] = KINDS, operations: Sequence[str] = OPERATIONS) -> float:
        return sum(per_item[kind, operation, implementation] for kind in kinds for operation in operations)

    codec_path = "native (dmg.core._dagcbor)" if codec.ACCELERATED else "pure Python + cbor2"
    print(f"strict DAG-CBOR, {items} module records + {items} log entries, median of {runs} runs (items/s)")
    print(f"codec path: {codec_path}")
    print(f"{'':24}{'ours':>10}{'floor':>10}{'peer':>10}{'ours/floor':>12}{'ours/peer':>11}")
    rows: dict[str, dict[str, float]] = {}
    groups = [((kind,), (operation,)) for kind in KINDS for operation in OPERATIONS]
    groups += [(KINDS, (operation,)) for operation in OPERATIONS] + [(KINDS, OPERATIONS)]
    for kinds, operations in groups:
        label = f"{'+'.join(kinds) if len(kinds) == 1 else 'combined'} {'+'.join(operations)}"
        seconds = {implementation: total(implementation, kinds, operations) for implementation in IMPLEMENTATIONS}
        # Throughput of the mix: items of every kind taken once through every operation listed.
        rate = {implementation: len(kinds) / seconds[implementation] for implementation in IMPLEMENTATIONS}
        rows[label] = {
            **{f"{implementation}_per_s": round(rate[implementation]) for implementation in IMPLEMENTATIONS},
            "ratio_vs_floor": round(rate["ours"] / rate["floor"], 3),
            "speedup_vs_dag_cbor": round(rate["ours"] / rate["peer"], 1),
        }
        row = rows[label]
        print(
            f"{label:24}{row['ours_per_s']:>10}{row['floor_per_s']:>10}{row['peer_per_s']:>10}"
            f"{row['ratio_vs_floor']:>12}{row['speedup_vs_dag_cbor']:>11}"
        )
    combined = rows["combined encode+decode"]
    print(
        json.dumps(
            {
                "bench": "codec",
                "items": items,
                "runs": runs,
                "accelerated": codec.ACCELERATED,
                "ratio_vs_floor": combined["ratio_vs_floor"],
                "speedup_vs_dag_cbor": combined["speedup_vs_dag_cbor"],
                "ratio_vs_floor_encode": rows["combined encode"]["ratio_vs_floor"],
                "ratio_vs_floor_decode": rows["combined decode"]["ratio_vs_floor"],
                "targets": {"ratio_vs_floor": 0.5, "speedup_vs_dag_cbor": 5},
                "per_s": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
