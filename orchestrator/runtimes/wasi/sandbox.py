"""The sandbox one guest runs in: its WASI configuration and its store, both built from its grants and limits.

Nothing is ambient: no environment variables, no inherited stdio, no preopened directory except ``/data`` when
storage is granted (read-only while over quota), no sockets (wasmtime grants none unless asked). The store carries
the memory limit (one memory, one table, one instance per store), the fuel budget and the epoch deadline.
"""

from __future__ import annotations

import wasmtime

from orchestrator.errors import FailureKind, InvocationError
from orchestrator.runtimes.limits import Limits
from orchestrator.runtimes.storage import GUEST_PATH, DataDirectory
from orchestrator.runtimes.wasi.cache import CompiledModule
from orchestrator.runtimes.wasi.epoch import EpochTicker
from orchestrator.runtimes.wasi.stdio import CappedSink, set_stdin_bytes, writer_for


def wasi_config(
    argv: list[str], stdin: bytes, stdout: CappedSink, stderr: CappedSink, storage: DataDirectory | None
) -> wasmtime.WasiConfig:
    config = wasmtime.WasiConfig()
    config.argv = argv
    set_stdin_bytes(config, stdin)
    config.stdout_custom = writer_for(stdout)
    config.stderr_custom = writer_for(stderr)
    if storage is not None:
        config.preopen_dir(str(storage.path), GUEST_PATH, storage.writable)
    return config


def starts_too_big(compiled: CompiledModule, limits: Limits) -> InvocationError | None:
    """``OUT_OF_MEMORY`` when the module's initial linear memory is already above the limit, else ``None``."""
    if compiled.initial_memory <= limits.memory:
        return None
    detail = f"the module starts with {compiled.initial_memory} bytes of memory; the limit is {limits.memory}"
    return InvocationError(FailureKind.OUT_OF_MEMORY, detail)


def new_store(engine: wasmtime.Engine, config: wasmtime.WasiConfig, limits: Limits) -> wasmtime.Store:
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    store.set_limits(memory_size=limits.memory, instances=1, tables=1, memories=1)
    return store


def arm(store: wasmtime.Store, limits: Limits, ticker: EpochTicker) -> None:
    """Give ``store`` a full CPU budget and a deadline ``limits.timeout_ms`` from now."""
    store.set_fuel(limits.fuel)
    store.set_epoch_deadline(ticker.ticks_for(limits.timeout_ms))


def memory_size(store: wasmtime.Store, instance: wasmtime.Instance | None) -> int:
    """Bytes of linear memory the instance has now (its peak: linear memory never shrinks)."""
    if instance is None:
        return 0
    memory = instance.exports(store).get("memory")
    return memory.data_len(store) if isinstance(memory, wasmtime.Memory) else 0
