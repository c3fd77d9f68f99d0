"""Benchmark of invocation latency in the WASI runtime, against bare wasmtime-py running the same module.

It builds the C fixtures (``fixtures/functions/build.sh``) and measures, in one run and interleaved (so both sides
see the same machine load):

- the baseline: bare wasmtime-py on a plain engine, per invocation: a ``WasiConfig`` with argv, stdin bytes and
  stdout/stderr callbacks, a ``Store``, instantiate the precompiled module, call ``_start`` (``echo.wasm``);
- lambda: ``WasiRuntime.invoke`` of the same function with the same event, which adds the schema checks, the JSON
  encoding of the invocation and decoding of the result, fuel, the epoch deadline, memory limits and the grants;
- long-lived: ``WasiRuntime.invoke`` of ``counter.wasm``'s ``echo`` on its live instance, against bare wasmtime-py
  calling ``dmg_alloc`` and ``dmg_handle`` on one instance.

It prints p50/p99 in microseconds and, as the last line, one JSON object with every figure and the ratios
(``ratio_vs_bare`` = lambda p50 / bare p50; target ≤ 1.5). Run ``python bench/invoke.py`` (about 10 s) or
``--quick``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime

from dmg.core.records import FunctionSpec
from orchestrator.runtimes.wasi import WasiRuntime
from orchestrator.runtimes.wasi.stdio import set_stdin_bytes

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "fixtures" / "functions" / "build"
EVENT = {"text": "hello", "items": [1, 2, 3], "nested": {"flag": True}}


def build_fixtures() -> None:
    subprocess.run(["bash", str(ROOT / "fixtures" / "functions" / "build.sh")], check=True, capture_output=True)


class BareLambda:
    """What a caller of plain wasmtime-py does to run a WASI command once."""

    def __init__(self, wasm: bytes) -> None:
        self.engine = wasmtime.Engine()
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        self.module = wasmtime.Module(self.engine, wasm)
        self.stdin = json.dumps({"event": EVENT, "context": {"function": "echo"}}).encode()

    def __call__(self) -> bytes:
        out: list[bytes] = []
        log: list[bytes] = []
        config = wasmtime.WasiConfig()
        config.argv = ["echo", "echo"]
        set_stdin_bytes(config, self.stdin)
        config.stdout_custom = out.append
        config.stderr_custom = log.append
        store = wasmtime.Store(self.engine)
        store.set_wasi(config)
        self.linker.instantiate(store, self.module).exports(store)["_start"](store)
        return b"".join(out)


class BareLongLived:
    """Plain wasmtime-py delivering one event to a live reactor instance through dmg_alloc and dmg_handle."""

    def __init__(self, wasm: bytes) -> None:
        engine = wasmtime.Engine()
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        exports = linker.instantiate(self.store, wasmtime.Module(engine, wasm)).exports(self.store)
        exports["_initialize"](self.store)
        self.memory, self.alloc, self.handle = exports["memory"], exports["dmg_alloc"], exports["dmg_handle"]
        self.payload = b"echo" + json.dumps({"event": EVENT, "context": {"function": "echo"}}).encode()

    def __call__(self) -> bytes:
        pointer = self.alloc(self.store, len(self.payload))
        self.memory.write(self.store, self.payload, pointer)
        outcome = self.handle(self.store, pointer, 4, pointer + 4, len(self.payload) - 4)
        start = outcome & 0xFFFFFFFF
        return bytes(self.memory.read(self.store, start, start + (outcome >> 32)))


def timed_us(action: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    action()
    return (time.perf_counter_ns() - start) / 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(actions: dict[str, Callable[[], object]], rounds: int, warmup: int) -> dict[str, list[float]]:
    for action in actions.values():
        for _ in range(warmup):
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            samples[name].append(timed_us(action))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 2 s)")
    parser.add_argument("--rounds", type=int, default=3000, help="invocations per measured kind")
    args = parser.parse_args()
    rounds = 400 if args.quick else args.rounds

    build_fixtures()
    echo_wasm, counter_wasm = (BUILD / "echo.wasm").read_bytes(), (BUILD / "counter.wasm").read_bytes()
    with WasiRuntime() as runtime:
        runtime.add_bundle("echo", echo_wasm)
        runtime.add_bundle("counter", counter_wasm)
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        functions = [FunctionSpec(name="echo", input_schema=schema)]
        echo = runtime.install("echo", module="bench/function/echo", functions=functions)
        counter = runtime.install("counter", module="bench/function/counter", functions=functions, mode="long-lived")
        bare_lambda, bare_long_lived = BareLambda(echo_wasm), BareLongLived(counter_wasm)
        if not json.loads(bare_lambda())["event"] == runtime.invoke(echo, "echo", EVENT).output["event"] == EVENT:
            raise SystemExit("the baseline and the runtime disagree on the echoed event")
        samples = measure(
            {
                "bare_lambda": bare_lambda,
                "lambda": lambda: runtime.invoke(echo, "echo", EVENT),
                "bare_long_lived": bare_long_lived,
                "long_lived": lambda: runtime.invoke(counter, "echo", EVENT),
            },
            rounds=rounds,
            warmup=max(20, rounds // 20),
        )

    figures: dict[str, float] = {}
    print(f"{rounds} invocations each, microseconds")
    print(f"{'kind':<16} {'p50':>9} {'p99':>9} {'mean':>9}")
    for name, values in samples.items():
        p50, p99 = round(statistics.median(values), 1), round(percentile(values, 0.99), 1)
        figures[f"{name}_p50_us"], figures[f"{name}_p99_us"] = p50, p99
        print(f"{name:<16} {p50:>9.1f} {p99:>9.1f} {statistics.fmean(values):>9.1f}")
    ratio = figures["lambda_p50_us"] / figures["bare_lambda_p50_us"]
    long_lived_ratio = figures["long_lived_p50_us"] / figures["bare_long_lived_p50_us"]
    print(f"\nlambda p50 / bare p50: {ratio:.2f} (target <= 1.5)")
    print(f"long-lived p50 / bare long-lived p50: {long_lived_ratio:.2f}")
    print(f"long-lived p50 / lambda p50: {figures['long_lived_p50_us'] / figures['lambda_p50_us']:.2f}")
    print(
        json.dumps(
            {
                "rounds": rounds,
                **figures,
                "ratio_vs_bare": round(ratio, 3),
                "long_lived_ratio_vs_bare": round(long_lived_ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
