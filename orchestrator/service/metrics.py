"""Prometheus metrics of one orchestrator service: per function invocations, errors by kind, durations, fuel and
peak memory; functions by state; HTTP requests.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (as the registry service does). Series are
labelled by ``module`` (the installed DXN) and ``function`` (the function of the module), so their number is
bounded by what is installed; a destroyed function's series are removed. :class:`OrchestratorMetrics` is the
orchestrator's :class:`~orchestrator.core.Observer`, and offers the ``requests`` and ``latency`` families that
:class:`dmg.http.metrics.MetricsMiddleware` records HTTP requests in.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from dmg.http.metrics import request_families
from orchestrator.lifecycle import FunctionState
from orchestrator.state import InvocationRow, InvocationStatus

DURATION_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class OrchestratorMetrics:
    """The metric families of one orchestrator app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests, self.latency = request_families("dmg_orchestrator", self.registry)
        labels = ["module", "function"]
        self.invocations = Counter(
            "dmg_orchestrator_invocations",
            "Invocations that ended, by status (succeeded or failed)",
            [*labels, "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "dmg_orchestrator_invocation_errors",
            "Failed invocations by kind (TIMEOUT, OUT_OF_FUEL, EXIT...)",
            [*labels, "kind"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "dmg_orchestrator_invocation_duration_seconds",
            "Wall-clock time of an invocation",
            labels,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.fuel = Counter(
            "dmg_orchestrator_fuel_used",
            "Fuel (about one unit per WebAssembly operator) used by successes",
            labels,
            registry=self.registry,
        )
        self.peak_memory = Gauge(
            "dmg_orchestrator_peak_memory_bytes",
            "Largest linear memory a successful invocation ended with",
            labels,
            registry=self.registry,
        )
        self.functions = Gauge(
            "dmg_orchestrator_functions", "Installed functions by life-cycle state", ["state"], registry=self.registry
        )
        self.queued = Gauge(
            "dmg_orchestrator_queued_invocations",
            "Invocations held while their function is paused",
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self._peaks: dict[tuple[str, str], int] = {}
        self._series: dict[str, set[tuple[str, ...]]] = {}

    def _remember(self, module: str, *labels: str) -> None:
        self._series.setdefault(module, set()).add(labels)

    def invoked(self, row: InvocationRow) -> None:
        """Count one finished invocation."""
        if row.status not in (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED):
            return
        module, function = row.dxn, row.function
        with self._lock:
            self.invocations.labels(module, function, str(row.status)).inc()
            self._remember(module, "invocations", function, str(row.status))
            if row.duration_ms is not None:
                self.duration.labels(module, function).observe(row.duration_ms / 1000)
                self._remember(module, "duration", function)
            if row.status is InvocationStatus.FAILED:
                kind = str((row.error or {}).get("kind") or (row.error or {}).get("code") or "UNKNOWN")
                self.errors.labels(module, function, kind).inc()
                self._remember(module, "errors", function, kind)
            if row.fuel_used is not None:
                self.fuel.labels(module, function).inc(row.fuel_used)
                self._remember(module, "fuel", function)
            if row.peak_memory is not None:
                peak = max(self._peaks.get((module, function), 0), row.peak_memory)
                self._peaks[(module, function)] = peak
                self.peak_memory.labels(module, function).set(peak)
                self._remember(module, "peak_memory", function)

    def destroyed(self, dxn: str) -> None:
        """Drop every series of the destroyed function ``dxn``."""
        families = {
            "invocations": self.invocations,
            "duration": self.duration,
            "errors": self.errors,
            "fuel": self.fuel,
            "peak_memory": self.peak_memory,
        }
        with self._lock:
            for family, *labels in self._series.pop(dxn, set()):
                families[family].remove(dxn, *labels)
            self._peaks = {key: peak for key, peak in self._peaks.items() if key[0] != dxn}

    def render(self, states: Iterable[FunctionState], queued: int) -> bytes:
        """The Prometheus text exposition, with the state gauges set from ``states`` (one per installed function)."""
        tally = Tally(states)
        for state in FunctionState:
            if state is not FunctionState.DESTROYED:
                self.functions.labels(str(state)).set(tally[state])
        self.queued.set(queued)
        return generate_latest(self.registry)
