"""The engine's clock for wall-clock deadlines: one background thread that advances the epoch every tick.

Every store gets an epoch deadline of :meth:`EpochTicker.ticks_for` ticks; wasmtime interrupts a guest whose store
has passed its deadline at the next loop back-edge or function entry (checks compiled in by
``Config.epoch_interruption``). One thread serves every store of the engine, so a deadline costs nothing per
invocation beyond setting it. The deadline is at least the timeout and at most one tick more.
"""

from __future__ import annotations

import math
import threading

import wasmtime


class EpochTicker:
    """Advances ``engine``'s epoch every ``tick`` seconds until :meth:`stop`."""

    def __init__(self, engine: wasmtime.Engine, tick: float = 0.01) -> None:
        if not 0 < tick <= 1:
            raise ValueError(f"tick must be in (0, 1] seconds, not {tick!r}")
        self.tick = tick
        self._engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wasi-epoch-ticker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.tick):
            self._engine.increment_epoch()

    def ticks_for(self, timeout_ms: int) -> int:
        """Ticks to wait for at least ``timeout_ms``: the current tick may be nearly over, hence one more."""
        return math.ceil(timeout_ms / 1000 / self.tick) + 1

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
