"""The clock every part of DMG reads: milliseconds since the Unix epoch, and how far apart two clocks may be.

Entry times, checkpoint times and invocation records are all in these milliseconds. :data:`MAX_CLOCK_SKEW_MS` is the
one tolerance between a signer's clock and a verifier's: a registry refuses entries from further in its future, and a
client refuses checkpoints signed further in its own. Components take a ``clock`` callable (default :func:`now_ms`)
so that tests can move time; nothing here keeps state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

Clock = Callable[[], int]
"""A source of the current time in milliseconds since the Unix epoch."""

MAX_CLOCK_SKEW_MS: Final = 5 * 60 * 1000
"""How far ahead of a verifier's clock a signed time may be (five minutes)."""


def now_ms() -> int:
    """The current time in milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
