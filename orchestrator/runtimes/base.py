"""What the orchestrator asks of a runtime: the :class:`Runtime` protocol, and the values that cross it.

The split follows resolvelib's provider interface: the orchestrator (:mod:`orchestrator.core`, with the installer)
is the algorithm, which plans, persists, sequences life cycles and records invocations for every kind of module;
a runtime is the pluggable part that knows one kind of bundle (``record.runtime``: ``"wasi"``, later
``"container"``) and how to run it under granted capabilities. The orchestrator holds its runtimes keyed by
:attr:`Runtime.name` and hands each module to the one its record names (:func:`runtime_for`), so a new kind of
runtime is a new package beside :mod:`orchestrator.runtimes.wasi`, not a branch in the core.

A runtime is used in this order: :meth:`~Runtime.check` at plan time (nothing downloaded yet), then
:meth:`~Runtime.add_bundle` once per bundle CID and :meth:`~Runtime.install` once per mode a module's functions
use, then any number of :meth:`~Runtime.invoke` calls (from worker threads) and of :meth:`~Runtime.start` /
:meth:`~Runtime.stop` for long-lived bindings, and :meth:`~Runtime.close` once.

This module defines types only; it neither runs anything nor imports any engine (wasmtime is loaded by
:mod:`orchestrator.runtimes.wasi` alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from dmg.core.records import FunctionSpec, Mode, ModuleRecord
from orchestrator.errors import UnsupportedModuleError
from orchestrator.runtimes.context import AgentContext
from orchestrator.runtimes.grants import Grants


@dataclass(frozen=True)
class InvocationResult:
    """A successful invocation: the function's output (parsed JSON), its log, and what it used."""

    output: Any
    logs: str
    fuel_used: int
    peak_memory: int
    duration: float
    invocation_id: str


class Binding(Protocol):
    """A bundle bound by :meth:`Runtime.install` to a module's functions, grants and mode; small while idle."""

    @property
    def module(self) -> str:
        """The installed module's name (its DXN without a version)."""
        ...

    @property
    def mode(self) -> Mode: ...

    @property
    def functions(self) -> tuple[str, ...]:
        """The names of the functions this binding runs."""
        ...

    @property
    def live(self) -> bool:
        """Whether a long-lived instance of this binding is in memory now."""
        ...


BindingT = TypeVar("BindingT", bound=Binding)


class Runtime(Protocol[BindingT]):
    """Runs the modules of one kind of bundle; ``BindingT`` is what its :meth:`install` returns.

    Failures of one invocation are :class:`~orchestrator.errors.InvocationError`; a bundle the runtime cannot load
    is a :class:`~dmg.core.errors.BundleError`; a module it cannot run at all is an
    :class:`~orchestrator.errors.UnsupportedModuleError`.
    """

    @property
    def name(self) -> str:
        """The ``runtime`` a module record names to be run by this runtime (``"wasi"``)."""
        ...

    def check(self, record: ModuleRecord) -> None:
        """Raise :class:`~orchestrator.errors.UnsupportedModuleError`, saying why, unless this runtime can run
        ``record``'s module. Called when an install is planned, before the bundle is fetched, so it judges the
        record alone; the bundle is checked by :meth:`add_bundle` and :meth:`install`."""
        ...

    def add_bundle(self, key: str, content: bytes) -> None:
        """Prepare (compile, unpack...) the bundle file ``content`` once, under ``key``, its verified bundle CID."""
        ...

    def has_bundle(self, key: str) -> bool:
        """Whether the bundle ``key`` is prepared already (this run, or kept from an earlier one)."""
        ...

    def install(
        self,
        key: str,
        *,
        module: str,
        functions: Iterable[FunctionSpec],
        grants: Grants | None = None,
        mode: Mode = Mode.LAMBDA,
    ) -> BindingT:
        """Bind the prepared bundle ``key`` to ``module``'s ``functions``, their grants and their mode."""
        ...

    def invoke(
        self,
        binding: BindingT,
        function: str,
        event: Any,
        *,
        agent: AgentContext | None = None,
        invocation_id: str | None = None,
        depth: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> InvocationResult:
        """Run ``function`` of ``binding`` on ``event`` for ``agent``, ``depth`` calls deep; thread-safe."""
        ...

    def start(self, binding: BindingT) -> None:
        """Create the live instance of a long-lived binding now rather than on its first event."""
        ...

    def stop(self, binding: BindingT) -> None:
        """Drop the live instance of a long-lived binding; a no-op when none is live."""
        ...

    def close(self) -> None:
        """Release everything the runtime holds; invocations after this fail. Idempotent."""
        ...


def runtime_for(runtimes: Mapping[str, Runtime[Any]], record: ModuleRecord) -> Runtime[Any]:
    """The runtime ``record`` names, after it has checked the record; :class:`UnsupportedModuleError` when there is
    none or it refuses the module."""
    runtime = runtimes.get(record.runtime)
    if runtime is None:
        registered = ", ".join(sorted(runtimes)) or "none"
        raise UnsupportedModuleError(
            f"{record.dxn}@{record.version} runs on {record.runtime}, and this orchestrator has no {record.runtime} "
            f"runtime (its runtimes: {registered})"
        )
    runtime.check(record)
    return runtime
