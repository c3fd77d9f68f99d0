"""The host side of the ``dmg`` import module, and the bounded ``poll_oneoff``, defined once on a shared linker.

Host functions are defined once per engine, so they find the invocation they serve through :func:`serving`: the
runtime pushes a :class:`HostState` (context, grants, deadline, the kept result) on a thread-local stack around
every call into a guest. That is sound because a guest calls its imports synchronously on the thread that entered
it, and a nested invocation (``dmg.call``) pushes and pops its own state on the same stack.

Every import follows the result convention of ``docs/abi.md``: the result JSON is copied to ``out[0, out_cap)``
with its length at ``*out_len``; when it does not fit, ``ERR_TOO_SMALL`` is returned, the needed length stored, and
the result kept for ``dmg.result``. Refusals and failures carry ``{"error": {"kind", "detail"}}``. Pointers outside
linear memory get ``ERR_INVALID`` and nothing written.

Host functions here never raise: wasmtime-py 50 passes a host function's exception back to Python through one
process-wide slot, which concurrent invocations on other threads would race on. Every failure becomes a status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import wasmtime

from dmg.core.errors import DmgError
from orchestrator.errors import InvocationError
from orchestrator.runtimes.context import InvocationContext
from orchestrator.runtimes.grants import MAX_CALL_DEPTH, CallRequest, Grants
from orchestrator.runtimes.wasi.abi import (
    ERR_DENIED,
    ERR_FAILED,
    ERR_INVALID,
    ERR_NO_RESULT,
    ERR_TOO_SMALL,
    EXPORT_MEMORY,
    IMPORT_MODULE,
    OK,
    HostCallError,
)
from orchestrator.runtimes.wasi.http import HttpFetcher
from orchestrator.runtimes.wasi.poll import ERRNO_FAULT, poll_oneoff

CALL_KEYS: Final = frozenset({"module", "function", "event"})
_I32 = wasmtime.ValType.i32()
_U32 = 0xFFFFFFFF


@dataclass
class HostState:
    """What the host imports need while one invocation runs; ``overran`` is set when a host call (a sleep, a
    request) returned to the guest after the deadline, which ends the invocation with ``TIMEOUT`` even if the guest
    then finishes before wasmtime's next deadline check."""

    context: InvocationContext
    grants: Grants
    deadline: float
    kept: tuple[int, bytes] | None = field(default=None)
    overran: bool = False

    def time_left(self) -> float:
        return self.deadline - time.monotonic()


class _ServedStates(threading.local):
    """Per thread: the states of the invocations running on it, innermost (nested calls) last."""

    def __init__(self) -> None:
        self.states: list[HostState] = []


_served = _ServedStates()


@contextmanager
def serving(state: HostState) -> Iterator[HostState]:
    """Make ``state`` the one host imports see on this thread while the block runs."""
    _served.states.append(state)
    try:
        yield state
    finally:
        _served.states.pop()


def _current() -> HostState | None:
    return _served.states[-1] if _served.states else None


class _Guest:
    """Bounds-checked access to the calling instance's linear memory."""

    def __init__(self, caller: wasmtime.Caller) -> None:
        self.caller = caller
        memory = caller.get(EXPORT_MEMORY)
        self.memory = memory if isinstance(memory, wasmtime.Memory) else None

    def _fits(self, ptr: int, length: int) -> bool:
        return self.memory is not None and ptr >= 0 and ptr + length <= self.memory.data_len(self.caller)

    def read(self, ptr: int, length: int) -> bytes | None:
        if not self._fits(ptr, length):
            return None
        return bytes(self.memory.read(self.caller, ptr, ptr + length)) if length else b""

    def write(self, ptr: int, data: bytes) -> bool:
        if not self._fits(ptr, len(data)):
            return False
        if data:
            self.memory.write(self.caller, data, ptr)
        return True

    def deliver(self, state: HostState, status: int, result: bytes, out: int, cap: int, out_len: int) -> int:
        """Copy a result to the guest under the result convention; the status the import returns."""
        if not self._fits(out, cap) or not self._fits(out_len, 4):
            state.kept = None
            return ERR_INVALID
        self.write(out_len, len(result).to_bytes(4, "little"))
        if len(result) > cap:
            state.kept = (status, result)
            return ERR_TOO_SMALL
        state.kept = None
        self.write(out, result)
        return status


def _error_result(error: HostCallError) -> bytes:
    return json.dumps({"error": error.error}).encode()


def _parse_request(guest: _Guest, ptr: int, length: int) -> Any:
    raw = guest.read(ptr, length)
    if raw is None:
        raise HostCallError(ERR_INVALID, f"the request [{ptr}, {ptr + length}) is outside linear memory")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise HostCallError(ERR_INVALID, f"the request is not JSON: {exc}") from exc


def _dispatch_call(state: HostState, request: Any) -> Any:
    if not isinstance(request, dict) or not {"module", "function"} <= set(request) or set(request) - CALL_KEYS:
        raise HostCallError(ERR_INVALID, 'the request must be {"module": ..., "function": ..., "event": ...}')
    module, function = request["module"], request["function"]
    if not isinstance(module, str) or not isinstance(function, str):
        raise HostCallError(ERR_INVALID, "module and function must be strings")
    call = state.grants.call
    if call is None or module not in state.grants.dependencies:
        raise HostCallError(ERR_DENIED, f"{module} is not a declared dependency of {state.context.module}")
    if state.context.depth >= MAX_CALL_DEPTH:
        raise HostCallError(ERR_DENIED, f"calls are nested deeper than {MAX_CALL_DEPTH}")
    try:
        return call(CallRequest(module, function, request.get("event"), state.context))
    except InvocationError as exc:
        raise HostCallError(ERR_FAILED, exc.detail, exc.to_dict()) from exc
    except DmgError as exc:
        raise HostCallError(ERR_FAILED, str(exc), {"kind": exc.code, "detail": str(exc)}) from exc


def define_host_imports(linker: wasmtime.Linker, fetcher: HttpFetcher) -> None:
    """Define ``dmg.http_fetch``, ``dmg.call``, ``dmg.result`` and the bounded ``poll_oneoff`` on ``linker``."""

    def serve(caller: wasmtime.Caller, operation: str, *args: int) -> int:
        state = _current()
        guest = _Guest(caller)
        if state is None:
            return ERR_DENIED
        req_ptr, req_len, out, cap, out_len = (arg & _U32 for arg in args)
        try:
            request = _parse_request(guest, req_ptr, req_len)
            if operation == "http_fetch":
                if not state.grants.network:
                    raise HostCallError(ERR_DENIED, f"{state.context.module} has no network grant")
                result = fetcher.fetch(request, state.grants.network, state.time_left())
            else:
                result = _dispatch_call(state, request)
            status, payload = OK, json.dumps(result).encode()
        except HostCallError as exc:
            status, payload = exc.status, _error_result(exc)
        except Exception as exc:  # a host function must not raise (see the module docstring)
            status, payload = ERR_FAILED, _error_result(HostCallError(ERR_FAILED, f"internal error: {exc!r}"))
        state.overran = state.overran or state.time_left() <= 0
        return guest.deliver(state, status, payload, out, cap, out_len)

    def http_fetch(caller: wasmtime.Caller, *args: int) -> int:
        return serve(caller, "http_fetch", *args)

    def call(caller: wasmtime.Caller, *args: int) -> int:
        return serve(caller, "call", *args)

    def result(caller: wasmtime.Caller, out: int, cap: int, out_len: int) -> int:
        state = _current()
        if state is None or state.kept is None:
            return ERR_NO_RESULT
        status, payload = state.kept
        return _Guest(caller).deliver(state, status, payload, out & _U32, cap & _U32, out_len & _U32)

    def bounded_poll_oneoff(caller: wasmtime.Caller, in_ptr: int, out_ptr: int, count: int, events_ptr: int) -> int:
        state = _current()
        if state is None:
            return ERRNO_FAULT
        guest = _Guest(caller)
        try:
            pointers = (in_ptr & _U32, out_ptr & _U32, count & _U32, events_ptr & _U32)
            errno = poll_oneoff(guest.read, guest.write, *pointers, state.time_left())
        except Exception:  # a host function must not raise (see the module docstring)
            errno = ERRNO_FAULT
        state.overran = state.overran or state.time_left() <= 0
        return errno

    request_type = wasmtime.FuncType([_I32] * 5, [_I32])
    linker.define_func(IMPORT_MODULE, "http_fetch", request_type, http_fetch, access_caller=True)
    linker.define_func(IMPORT_MODULE, "call", request_type, call, access_caller=True)
    linker.define_func(IMPORT_MODULE, "result", wasmtime.FuncType([_I32] * 3, [_I32]), result, access_caller=True)
    linker.allow_shadowing = True
    linker.define_func(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        wasmtime.FuncType([_I32] * 4, [_I32]),
        bounded_poll_oneoff,
        access_caller=True,
    )
    linker.allow_shadowing = False
