"""``poll_oneoff`` for guests, bounded by the invocation's deadline.

Epoch interruption stops a guest only while it executes WebAssembly; a guest blocked in WASI's ``poll_oneoff`` (how
``sleep`` and ``nanosleep`` are built) would hold its thread for as long as it asked. The runtime therefore replaces
the ``wasi_snapshot_preview1.poll_oneoff`` import with this implementation, which never sleeps past the deadline;
when the guest resumes, the epoch deadline has passed and it is interrupted with ``TIMEOUT``.

Supported: relative clock subscriptions on any clock, absolute ones on the realtime clock, and fd subscriptions
(reported ready at once: stdin is in memory, stdout and stderr always accept writes). Absolute deadlines on the
monotonic clock return ``ENOTSUP``: the host cannot see the guest's monotonic epoch. Layouts follow WASI preview 1:
a subscription is 48 bytes, an event 32.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import Final

SUBSCRIPTION_SIZE: Final = 48
EVENT_SIZE: Final = 32
TAG_CLOCK: Final = 0
CLOCK_REALTIME: Final = 0
CLOCK_MONOTONIC: Final = 1
FLAG_ABSTIME: Final = 1
ERRNO_SUCCESS: Final = 0
ERRNO_FAULT: Final = 21
ERRNO_INVAL: Final = 28
ERRNO_NOTSUP: Final = 58
MAX_SUBSCRIPTIONS: Final = 4096

ReadMemory = Callable[[int, int], bytes | None]
WriteMemory = Callable[[int, bytes], bool]


def _clock_wait_ns(clock_id: int, timeout: int, flags: int) -> int | None:
    """Nanoseconds until a clock subscription fires, or ``None`` when it cannot be honoured."""
    if not flags & FLAG_ABSTIME:
        return timeout
    if clock_id == CLOCK_REALTIME:
        return max(0, timeout - time.time_ns())
    return None


def poll_oneoff(
    read: ReadMemory,
    write: WriteMemory,
    in_ptr: int,
    out_ptr: int,
    subscriptions: int,
    events_ptr: int,
    time_left: float,
) -> int:
    """Wait for the first of ``subscriptions`` (at most ``time_left`` seconds), write its events; a WASI errno."""
    if not 0 < subscriptions <= MAX_SUBSCRIPTIONS:
        return ERRNO_INVAL
    raw = read(in_ptr, subscriptions * SUBSCRIPTION_SIZE)
    if raw is None:
        return ERRNO_FAULT
    fds_ready: list[tuple[int, int]] = []
    clocks: list[tuple[int, int]] = []
    for offset in range(0, len(raw), SUBSCRIPTION_SIZE):
        userdata, tag = struct.unpack_from("<QB", raw, offset)
        if tag != TAG_CLOCK:
            fds_ready.append((userdata, tag))
            continue
        clock_id, timeout, _precision, flags = struct.unpack_from("<I4xQQH", raw, offset + 16)
        if clock_id not in (CLOCK_REALTIME, CLOCK_MONOTONIC):
            return ERRNO_INVAL
        wait = _clock_wait_ns(clock_id, timeout, flags)
        if wait is None:
            return ERRNO_NOTSUP
        clocks.append((userdata, wait))
    if fds_ready:
        fired = fds_ready + [(userdata, TAG_CLOCK) for userdata, wait in clocks if wait == 0]
    else:
        earliest = min(wait for _, wait in clocks)
        time.sleep(max(0.0, min(earliest / 1e9, time_left)))
        fired = [(userdata, TAG_CLOCK) for userdata, wait in clocks if wait == earliest]
    events = b"".join(struct.pack("<QHBxxxxxQH6x", userdata, 0, tag, 0, 0) for userdata, tag in fired)
    if not write(out_ptr, events) or not write(events_ptr, struct.pack("<I", len(fired))):
        return ERRNO_FAULT
    return ERRNO_SUCCESS
