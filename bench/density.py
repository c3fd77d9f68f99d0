"""Benchmark of memory density: RSS of the WASI runtime per idle installed function and per live instance.

It builds the C fixtures (``fixtures/functions/build.sh``), starts one :class:`WasiRuntime` with a compiled-module
cache directory, compiles the fixture modules once and invokes each kind once (so code, caches and allocator
arenas are warm), then measures resident set size (``VmRSS``) deltas:

- idle: 10,000 installed functions (``--functions``), each its own module name, function spec with JSON Schemas
  and grants, over the fixture bundles; an idle function holds no instance and no compiled code of its own
  (compiled modules are shared by bundle CID and loaded on demand). Target: ≤ 10 KiB each.
- live: 1,000 long-lived instances (``--instances``) of ``counter.wasm``, each started and handed one event. The
  RSS delta per instance includes the resident part of the instance's linear memory (each has 128 KiB of it, not
  all touched), so it is an upper bound of the cost beyond linear memory. Target: ≤ 64 KiB beyond linear memory.

Baseline: RSS right before each step, in the same process. Prints the figures and, as the last line, one JSON
object with ``kib_per_idle_function`` and ``kib_per_live_instance``. Run ``python bench/density.py`` (a few
seconds) or ``--quick``.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import tempfile
from pathlib import Path

from dmg.core.records import FunctionSpec
from orchestrator.runtimes import Grants, Limits
from orchestrator.runtimes.wasi import InstalledModule, WasiRuntime

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "fixtures" / "functions" / "build"
LAMBDA_BUNDLES = ("echo", "transform", "storage", "fetch", "caller", "hostile")
SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}, "count": {"type": "integer"}}}


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("VmRSS is not in /proc/self/status (this benchmark needs Linux)")


def settled_rss_kib() -> int:
    gc.collect()
    return rss_kib()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 idle functions and 100 live instances")
    parser.add_argument("--functions", type=int, default=10_000, help="idle installed functions")
    parser.add_argument("--instances", type=int, default=1_000, help="live long-lived instances")
    args = parser.parse_args()
    functions, instances = (1_000, 100) if args.quick else (args.functions, args.instances)

    subprocess.run(["bash", str(ROOT / "fixtures" / "functions" / "build.sh")], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as cache, WasiRuntime(cache) as runtime:
        for name in (*LAMBDA_BUNDLES, "counter"):
            runtime.add_bundle(name, (BUILD / f"{name}.wasm").read_bytes())
        spec = [FunctionSpec(name="echo", input_schema=SCHEMA, output_schema={"type": "object"})]
        warm = runtime.install("echo", module="bench/function/warm", functions=spec)
        runtime.invoke(warm, "echo", {"text": "warm"})
        warm_live = runtime.install("counter", module="bench/function/warm-live", functions=spec, mode="long-lived")
        runtime.invoke(warm_live, "echo", {"text": "warm"})

        before_idle = settled_rss_kib()
        idle: list[InstalledModule] = []
        for index in range(functions):
            module_spec = [FunctionSpec(name="echo", input_schema=dict(SCHEMA), output_schema={"type": "object"})]
            grants = Grants(limits=Limits(memory=(16 + index % 16) * 1024 * 1024))
            bundle = LAMBDA_BUNDLES[index % len(LAMBDA_BUNDLES)] if index % 2 else "echo"
            idle.append(
                runtime.install(bundle, module=f"bench/function/idle-{index}", functions=module_spec, grants=grants)
            )
        after_idle = settled_rss_kib()

        live: list[InstalledModule] = []
        for index in range(instances):
            module = runtime.install(
                "counter", module=f"bench/function/live-{index}", functions=spec, mode="long-lived"
            )
            linear_bytes = runtime.invoke(module, "echo", {"text": "hello"}).peak_memory
            live.append(module)
        after_live = settled_rss_kib()

        per_idle = (after_idle - before_idle) / functions
        per_live = (after_live - after_idle) / instances
        print(f"RSS before: {before_idle} KiB")
        print(f"{functions} idle installed functions: +{after_idle - before_idle} KiB = {per_idle:.2f} KiB each")
        print(f"{instances} live long-lived instances: +{after_live - after_idle} KiB = {per_live:.1f} KiB each")
        print(f"  (including the resident part of {linear_bytes // 1024} KiB of linear memory each; target <= 64)")
        print(
            json.dumps(
                {
                    "functions": functions,
                    "instances": instances,
                    "rss_before_kib": before_idle,
                    "kib_per_idle_function": round(per_idle, 2),
                    "kib_per_live_instance": round(per_live, 1),
                    "linear_memory_kib_per_instance": linear_bytes // 1024,
                }
            )
        )


if __name__ == "__main__":
    main()
