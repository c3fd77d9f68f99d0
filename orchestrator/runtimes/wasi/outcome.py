"""How a guest's run in wasmtime ended: :class:`GuestOutput` when it ended normally, and the mapping from
wasmtime's ways of stopping a guest to :class:`~orchestrator.errors.InvocationError` kinds.

- ``proc_exit(n)``, ``n != 0`` → ``EXIT(n)``; ``proc_exit(0)`` is success, like returning from ``main``.
- the fuel trap → ``OUT_OF_FUEL``; the epoch interrupt → ``TIMEOUT``.
- any other trap, or a non-zero exit, while linear memory is within :func:`oom_margin` of its limit →
  ``OUT_OF_MEMORY``. WebAssembly reports a refused ``memory.grow`` to the guest only (as -1, so ``malloc`` returns
  ``NULL``), and wasmtime-py 50 cannot make it trap, so the runtime infers it: a guest that fails right after its
  memory came within one large allocation of the limit almost surely failed for lack of memory.
- anything else → ``TRAP`` with the reason wasmtime gives (without its backtrace).

Checking a normal ending's result and reporting it as an
:class:`~orchestrator.runtimes.base.InvocationResult` is the runtime's (:mod:`orchestrator.runtimes.wasi.runtime`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import wasmtime

from orchestrator.errors import FailureKind, InvocationError
from orchestrator.runtimes.limits import MiB


@dataclass(frozen=True)
class GuestOutput:
    """What a guest produced in one invocation that ended normally, before the runtime checks it."""

    result: bytes
    logs: str
    fuel_used: int
    peak_memory: int


def oom_margin(limit: int) -> int:
    """How close to its memory limit a failing guest must be for the failure to count as ``OUT_OF_MEMORY``."""
    return max(2 * MiB, limit // 16)


def memory_exhausted(memory_used: int, limit: int) -> bool:
    return memory_used > limit - oom_margin(limit)


GuestStop = wasmtime.Trap | wasmtime.WasmtimeError
"""How wasmtime reports a guest that stopped abnormally: a trap, an exit, or an error during instantiation."""


def _summary(error: GuestStop) -> str:
    # wasmtime's message is a backtrace followed by "Caused by:" and the reasons, numbered; the last is the cause.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return re.sub(r"^[0-9]+: ", "", lines[-1]) if lines else type(error).__name__


def failure_from(error: GuestStop, *, memory_used: int, memory_limit: int, logs: str = "") -> InvocationError:
    """The :class:`InvocationError` for a guest that wasmtime stopped with ``error`` (not a zero exit).

    Runners return it rather than raise it: a raised error's traceback keeps the runner's frame, and with it the
    guest's store, alive for as long as anyone holds the error; wasmtime-py 50 can abort the process when such a
    store is finally freed at interpreter exit (see :mod:`orchestrator.runtimes.wasi.stdio`).
    """
    out_of_memory = memory_exhausted(memory_used, memory_limit)
    if isinstance(error, wasmtime.ExitTrap):
        if out_of_memory:
            detail = f"exited with code {error.code} with its memory at {memory_used} of {memory_limit} bytes"
            return InvocationError(FailureKind.OUT_OF_MEMORY, detail, logs=logs)
        return InvocationError(FailureKind.EXIT, f"exited with code {error.code}", exit_code=error.code, logs=logs)
    code = error.trap_code if isinstance(error, wasmtime.Trap) else None
    if code is wasmtime.TrapCode.OUT_OF_FUEL:
        return InvocationError(FailureKind.OUT_OF_FUEL, "used up its CPU budget (fuel)", logs=logs)
    if code is wasmtime.TrapCode.INTERRUPT:
        return InvocationError(FailureKind.TIMEOUT, "ran past its wall-clock deadline", logs=logs)
    message = _summary(error)
    if out_of_memory:
        detail = f"failed ({message}) with its memory at {memory_used} of {memory_limit} bytes"
        return InvocationError(FailureKind.OUT_OF_MEMORY, detail, logs=logs)
    return InvocationError(FailureKind.TRAP, message, logs=logs)
