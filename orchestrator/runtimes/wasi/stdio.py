"""A guest's standard streams: stdin from bytes in memory, stdout and stderr into size-capped sinks.

Output is captured with wasmtime's custom stdout/stderr callbacks. A :class:`CappedSink` keeps at most ``limit``
bytes and silently drops the rest while recording that it overflowed; the runtime then fails the invocation with
``OUTPUT_TOO_LARGE`` (stdout) or marks the log truncated (stderr). The sink always reports a write as complete:
reporting an error back to wasmtime-py 50 from the callback leaves a worker thread that panics at interpreter exit,
and the guest is stopped by its CPU and wall-clock limits anyway, so memory stays bounded either way.

wasmtime releases a custom stream on one of its own (tokio) threads, a moment after the store that used it is
freed, by calling back into Python. If the interpreter is already shutting down then, Python ends that thread with
``pthread_exit``, which Rust cannot unwind: the process aborts. So every callback handed to wasmtime comes from
:func:`writer_for` and is counted until wasmtime lets it go, and :func:`wait_for_releases` (which the runtime calls
from ``close``, and this module at exit) waits for the count to reach zero.

Stdin is set from bytes through the wasmtime C API's ``wasi_config_set_stdin_bytes``, which wasmtime-py 50 binds
but does not wrap; the alternative, a file per invocation, costs several times a whole small invocation.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import threading
import time
import weakref
from collections.abc import Callable

import wasmtime
from wasmtime import _ffi as wasmtime_ffi

_held = 0
_released = threading.Condition()


def _release() -> None:
    global _held
    with _released:
        _held -= 1
        _released.notify_all()


def writer_for(sink: CappedSink) -> Callable[[bytes], None]:
    """The callback to hand wasmtime for ``sink``: only wasmtime holds it, so its release is wasmtime's."""
    global _held
    writer = sink.write
    with _released:
        _held += 1
    weakref.finalize(writer, _release).atexit = False
    return writer


def wait_for_releases(timeout: float = 2.0) -> bool:
    """Wait until wasmtime has released every callback (stores kept by reference cycles are collected first)."""
    gc.collect()
    deadline = time.monotonic() + timeout
    with _released:
        while _held > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _released.wait(left)
    return True


atexit.register(wait_for_releases)


def set_stdin_bytes(config: wasmtime.WasiConfig, data: bytes) -> None:
    """Make ``data`` the guest's stdin; the config takes a copy."""
    vector = wasmtime_ffi.wasm_byte_vec_t()
    buffer = (ctypes.c_ubyte * len(data)).from_buffer_copy(data)
    wasmtime_ffi.wasm_byte_vec_new(ctypes.byref(vector), len(data), buffer)
    wasmtime_ffi.wasi_config_set_stdin_bytes(config.ptr(), ctypes.byref(vector))


class CappedSink:
    """Collects what a guest writes to one stream, up to ``limit`` bytes."""

    __slots__ = ("_chunks", "dropped", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: list[bytes] = []
        self.size = 0
        self.dropped = 0

    def write(self, data: bytes) -> None:
        room = self.limit - self.size
        if len(data) <= room:
            self._chunks.append(data)
            self.size += len(data)
            return
        if room > 0:
            self._chunks.append(data[:room])
            self.size += room
        self.dropped += len(data) - max(room, 0)

    @property
    def overflowed(self) -> bool:
        return self.dropped > 0

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)

    def text(self) -> str:
        """The contents as text, with a final note when some were dropped (for logs)."""
        text = self.getvalue().decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[log truncated: {self.dropped} more bytes dropped]\n"
        return text

    def clear(self) -> None:
        self._chunks.clear()
        self.size = 0
        self.dropped = 0
