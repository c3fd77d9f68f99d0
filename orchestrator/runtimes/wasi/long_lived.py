"""Long-lived mode: one instance of a WASI reactor kept across invocations, its state in linear memory.

The instance is created (and ``_initialize`` run, if exported) on the first event or by ``WasiRuntime.start``.
Each event refills the fuel and sets a new deadline, then: ``p = dmg_alloc(len(name) + len(input))``, the function
name and the invocation JSON are written at ``p``, and ``dmg_handle(p, len(name), p + len(name), len(input))``
returns ``(result_len << 32) | result_ptr``, or ``-n`` to fail with exit code ``n``. stdout and stderr both go to
the event's log. A trap, a limit hit or ``proc_exit`` leaves the instance in an unknown state, so it is marked
``broken`` and the runtime replaces it on the next event (its state is lost); a failure the module reports itself
(``-n``), a result over the output limit or one that breaks the output schema keeps it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import wasmtime

from orchestrator.errors import FailureKind, InvocationError
from orchestrator.runtimes.limits import Limits
from orchestrator.runtimes.wasi.abi import EXPORT_ALLOC, EXPORT_HANDLE, EXPORT_MEMORY
from orchestrator.runtimes.wasi.cache import CompiledModule
from orchestrator.runtimes.wasi.epoch import EpochTicker
from orchestrator.runtimes.wasi.hostcalls import HostState, serving
from orchestrator.runtimes.wasi.outcome import GuestOutput, failure_from, memory_exhausted
from orchestrator.runtimes.wasi.sandbox import arm, new_store, starts_too_big, wasi_config
from orchestrator.runtimes.wasi.stdio import CappedSink

INITIALIZER = "_initialize"
_U32 = 0xFFFFFFFF


class LongLivedInstance:
    """One live instance of a reactor module and its store; used by one thread at a time.

    :meth:`start` and :meth:`handle` return failures rather than raise them: a raised error's traceback would keep
    the frame, and through it the store, alive for as long as someone keeps the error.
    """

    __slots__ = ("_alloc", "_handle", "_logs", "_memory", "_store", "_ticker", "broken")

    def __init__(
        self, store: wasmtime.Store, exports: wasmtime.InstanceExports, logs: CappedSink, ticker: EpochTicker
    ) -> None:
        self._store = store
        self._memory: wasmtime.Memory = exports[EXPORT_MEMORY]
        self._alloc: wasmtime.Func = exports[EXPORT_ALLOC]
        self._handle: wasmtime.Func = exports[EXPORT_HANDLE]
        self._logs = logs
        self._ticker = ticker
        self.broken = False

    @classmethod
    def start(
        cls, engine: wasmtime.Engine, ticker: EpochTicker, compiled: CompiledModule, state: HostState
    ) -> LongLivedInstance | InvocationError:
        """Instantiate ``compiled`` and run its ``_initialize``, under the limits of ``state``'s grants."""
        grants, limits = state.grants, state.grants.limits
        too_big = starts_too_big(compiled, limits)
        if too_big is not None:
            return too_big
        logs = CappedSink(limits.logs)
        store = new_store(engine, wasi_config([state.context.module], b"", logs, logs, grants.storage), limits)
        arm(store, limits, ticker)
        with serving(state):
            try:
                exports = compiled.instance_pre.instantiate(store).exports(store)
                initializer = exports.get(INITIALIZER)
                if isinstance(initializer, wasmtime.Func):
                    initializer(store)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                return failure_from(exc, memory_used=0, memory_limit=limits.memory, logs=logs.text())
        return cls(store, exports, logs, ticker)

    @property
    def memory_size(self) -> int:
        return self._memory.data_len(self._store)

    def handle(self, payload: bytes, state: HostState) -> GuestOutput | InvocationError:
        """Deliver one event; a failure that loses the instance also sets ``broken``."""
        limits = state.grants.limits
        name = state.context.function.encode()
        self._logs.clear()
        arm(self._store, limits, self._ticker)
        with serving(state):
            try:
                pointer = self._alloc(self._store, len(name) + len(payload)) & _U32
                if pointer == 0:
                    self.broken = True
                    detail = f"dmg_alloc could not allocate {len(name) + len(payload)} bytes"
                    return InvocationError(FailureKind.OUT_OF_MEMORY, detail, logs=self._logs.text())
                self._memory.write(self._store, name + payload, pointer)
                outcome = self._handle(self._store, pointer, len(name), pointer + len(name), len(payload))
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                self.broken = True
                logs = self._logs.text()
                return failure_from(exc, memory_used=self.memory_size, memory_limit=limits.memory, logs=logs)
        return self._result(outcome, limits)

    def _result(self, outcome: int, limits: Limits) -> GuestOutput | InvocationError:
        logs = self._logs.text()
        memory = self.memory_size
        if outcome < 0:
            if memory_exhausted(memory, limits.memory):
                detail = f"failed with code {-outcome} with its memory at {memory} of {limits.memory} bytes"
                return InvocationError(FailureKind.OUT_OF_MEMORY, detail, logs=logs)
            return InvocationError(FailureKind.EXIT, f"returned exit code {-outcome}", exit_code=-outcome, logs=logs)
        length, pointer = outcome >> 32, outcome & _U32
        if length > limits.output:
            detail = f"returned {length} bytes; the limit is {limits.output}"
            return InvocationError(FailureKind.OUTPUT_TOO_LARGE, detail, logs=logs)
        if pointer + length > memory:
            detail = f"returned a result [{pointer}, {pointer + length}) outside its memory"
            return InvocationError(FailureKind.INVALID_OUTPUT, detail, logs=logs)
        result = bytes(self._memory.read(self._store, pointer, pointer + length))
        return GuestOutput(result, logs, limits.fuel - self._store.get_fuel(), memory)


class InstanceSlot:
    """Where a long-lived module keeps its one live instance, with the lock that serialises its events."""

    __slots__ = ("__weakref__", "_instance", "_lock")

    def __init__(self) -> None:
        self._instance: LongLivedInstance | None = None
        self._lock = threading.Lock()

    @property
    def live(self) -> bool:
        return self._instance is not None

    @contextmanager
    def holding(self, timeout: float) -> Iterator[None]:
        """Hold the slot for one event; ``TIMEOUT`` when it stays busy for ``timeout`` seconds."""
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            raise InvocationError(FailureKind.TIMEOUT, "the long-lived instance stayed busy past the deadline")
        try:
            yield
        finally:
            self._lock.release()

    def instance(self, start: Callable[[], LongLivedInstance | InvocationError]) -> LongLivedInstance | InvocationError:
        """The live instance, started with ``start`` when there is none (call while holding the slot)."""
        if self._instance is None:
            started = start()
            if isinstance(started, InvocationError):
                return started
            self._instance = started
        return self._instance

    def discard(self) -> None:
        """Forget the live instance; the next event creates a new one."""
        self._instance = None
