"""Lambda mode: one fresh instance per invocation of a WASI command.

``argv`` is ``[module, function]``, stdin the invocation JSON, stdout the result, stderr the log; the instance and
its store are dropped when ``_start`` returns, so nothing survives from one invocation to the next except what the
function wrote to ``/data``.
"""

from __future__ import annotations

import wasmtime

from orchestrator.errors import FailureKind, InvocationError
from orchestrator.runtimes.wasi.cache import CompiledModule
from orchestrator.runtimes.wasi.epoch import EpochTicker
from orchestrator.runtimes.wasi.hostcalls import HostState, serving
from orchestrator.runtimes.wasi.outcome import GuestOutput, failure_from
from orchestrator.runtimes.wasi.sandbox import arm, memory_size, new_store, starts_too_big, wasi_config
from orchestrator.runtimes.wasi.stdio import CappedSink

ENTRY_POINT = "_start"


def run_command(
    engine: wasmtime.Engine, ticker: EpochTicker, compiled: CompiledModule, payload: bytes, state: HostState
) -> GuestOutput | InvocationError:
    """Run ``compiled`` once for the invocation ``state`` describes, with ``payload`` on stdin.

    The failure is returned, not raised, so that its traceback does not keep this frame's store alive.
    """
    grants, limits = state.grants, state.grants.limits
    too_big = starts_too_big(compiled, limits)
    if too_big is not None:
        return too_big
    stdout, stderr = CappedSink(limits.output), CappedSink(limits.logs)
    argv = [state.context.module, state.context.function]
    store = new_store(engine, wasi_config(argv, payload, stdout, stderr, grants.storage), limits)
    arm(store, limits, ticker)
    instance: wasmtime.Instance | None = None
    failure: InvocationError | None = None
    with serving(state):
        try:
            instance = compiled.instance_pre.instantiate(store)
            instance.exports(store)[ENTRY_POINT](store)
        except wasmtime.ExitTrap as exc:
            if exc.code != 0:
                failure = failure_from(exc, memory_used=memory_size(store, instance), memory_limit=limits.memory)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            failure = failure_from(exc, memory_used=memory_size(store, instance), memory_limit=limits.memory)
    logs = stderr.text()
    if stdout.overflowed:
        detail = f"wrote {stdout.size + stdout.dropped} bytes or more of output; the limit is {limits.output}"
        return InvocationError(FailureKind.OUTPUT_TOO_LARGE, detail, logs=logs)
    if failure is not None:
        failure.logs = logs
        return failure
    return GuestOutput(stdout.getvalue(), logs, limits.fuel - store.get_fuel(), memory_size(store, instance))
