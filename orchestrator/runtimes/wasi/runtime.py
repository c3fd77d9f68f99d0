"""The WASI runtime: runs installed function modules in wasmtime, in process, under their grants and limits.

One :class:`WasiRuntime` owns one wasmtime engine (fuel metering and epoch interruption on), one linker with WASI,
the ``dmg`` host imports and a deadline-bounded ``poll_oneoff`` (defined once, shared by every store), a
:class:`~orchestrator.runtimes.wasi.cache.ModuleCache` of compiled modules keyed by bundle CID, and the epoch ticker
thread. :meth:`WasiRuntime.install` binds a compiled bundle to a module name, its functions (with their schemas),
its :class:`~orchestrator.runtimes.grants.Grants` and its mode, giving an :class:`InstalledModule`;
:meth:`WasiRuntime.invoke` runs one function of it:

1. the event is checked against the function's input schema (``INVALID_INPUT``);
2. the module runs in lambda mode (:mod:`~orchestrator.runtimes.wasi.lambda_mode`) or long-lived mode
   (:mod:`~orchestrator.runtimes.wasi.long_lived`), under the grants' limits (``TIMEOUT``, ``OUT_OF_FUEL``,
   ``OUT_OF_MEMORY``, ``TRAP``, ``EXIT(n)``, ``OUTPUT_TOO_LARGE``);
3. the storage directory, if granted, is measured: an invocation that had it read-write and left it above its
   quota fails (``QUOTA_EXCEEDED``), and later ones get it read-only until it is back under;
4. the result must be JSON that matches the output schema (``INVALID_OUTPUT``).

A failure is an :class:`~orchestrator.errors.InvocationError` for that invocation only. ``invoke`` is synchronous
and thread-safe: wasmtime releases the GIL while a guest runs, so a thread pool runs invocations in parallel
(events of one long-lived instance are serialised). Whatever the grants say, limits are capped to the operator's
maximums and storage quotas to ``policy.max_storage`` at install.

Fetching and verifying bundles, choosing grants from a module record, persistence and triggers belong to the
orchestrator's installer and lifecycle, not here. The ABI is specified in ``docs/abi.md``.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Final

import wasmtime

from dmg.core.errors import BundleError
from dmg.core.records import FunctionSpec, Mode, ModuleRecord
from orchestrator.errors import FailureKind, GrantError, InvocationError, OrchestratorError, UnsupportedModuleError
from orchestrator.runtimes.base import InvocationResult
from orchestrator.runtimes.context import AgentContext, InvocationContext, new_invocation_id
from orchestrator.runtimes.grants import Grants
from orchestrator.runtimes.limits import LimitPolicy, MiB
from orchestrator.runtimes.schemas import FunctionContract
from orchestrator.runtimes.storage import DataDirectory
from orchestrator.runtimes.wasi.abi import EXPORT_ALLOC, EXPORT_HANDLE, EXPORT_MEMORY
from orchestrator.runtimes.wasi.cache import DEFAULT_MAX_LOADED, CompiledModule, ModuleCache
from orchestrator.runtimes.wasi.epoch import EpochTicker
from orchestrator.runtimes.wasi.hostcalls import HostState, define_host_imports
from orchestrator.runtimes.wasi.http import HttpFetcher
from orchestrator.runtimes.wasi.lambda_mode import ENTRY_POINT, run_command
from orchestrator.runtimes.wasi.long_lived import INITIALIZER, InstanceSlot, LongLivedInstance
from orchestrator.runtimes.wasi.outcome import GuestOutput
from orchestrator.runtimes.wasi.stdio import wait_for_releases

REQUIRED_EXPORTS: Final[dict[Mode, dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None]]] = {
    Mode.LAMBDA: {ENTRY_POINT: ((), ())},
    Mode.LONG_LIVED: {
        EXPORT_MEMORY: None,
        EXPORT_ALLOC: (("i32",), ("i32",)),
        EXPORT_HANDLE: (("i32", "i32", "i32", "i32"), ("i64",)),
    },
}
"""What each mode needs a module to export: function signatures as (params, results); ``None`` for the memory."""


def _check_exports(compiled: CompiledModule, mode: Mode) -> None:
    signatures = {
        export.name: (tuple(map(str, export.type.params)), tuple(map(str, export.type.results)))
        for export in compiled.module.exports
        if isinstance(export.type, wasmtime.FuncType)
    }
    for name, signature in REQUIRED_EXPORTS[mode].items():
        if name not in compiled.exports:
            raise BundleError(f"a {mode} module must export {name!r}; bundle {compiled.key} does not")
        if signature is not None and signatures.get(name) != signature:
            params, results = signature
            raise BundleError(
                f"bundle {compiled.key}: export {name!r} must have type ({', '.join(params)}) -> ({', '.join(results)})"
            )


class InstalledModule:
    """A compiled bundle bound to a module name, its functions, its grants and its mode. Small while idle."""

    __slots__ = ("_contracts", "grants", "key", "mode", "module", "slot")

    def __init__(self, key: str, module: str, functions: Iterable[FunctionSpec], grants: Grants, mode: Mode) -> None:
        self.key = key
        self.module = module
        self.grants = grants
        self.mode = mode
        self._contracts = {spec.name: FunctionContract(spec) for spec in functions}
        self.slot = InstanceSlot() if mode is Mode.LONG_LIVED else None

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(self._contracts)

    @property
    def live(self) -> bool:
        """Whether a long-lived instance of this module is in memory now."""
        return self.slot is not None and self.slot.live

    def contract(self, function: str) -> FunctionContract:
        contract = self._contracts.get(function)
        if contract is None:
            known = ", ".join(self._contracts) or "none"
            detail = f"module {self.module} has no function {function!r} (its functions: {known})"
            raise InvocationError(FailureKind.INVALID_INPUT, detail)
        return contract

    def __repr__(self) -> str:
        return f"InstalledModule({self.module!r}, key={self.key!r}, mode={self.mode.value!r})"


class WasiRuntime:
    """Runs installed WASI function modules; see the module docstring. Close it (or use ``with``) when done.

    It is the :class:`~orchestrator.runtimes.base.Runtime` for ``runtime: wasi``, its bindings
    :class:`InstalledModule`.
    """

    name: Final = "wasi"

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        policy: LimitPolicy | None = None,
        max_loaded_modules: int = DEFAULT_MAX_LOADED,
        epoch_tick: float = 0.01,
        http_timeout: float = 10.0,
        http_max_response: int = 1 * MiB,
    ) -> None:
        self.policy = policy if policy is not None else LimitPolicy()
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        self._engine = wasmtime.Engine(config)
        linker = wasmtime.Linker(self._engine)
        linker.define_wasi()
        self._fetcher = HttpFetcher(timeout=http_timeout, max_response=http_max_response)
        define_host_imports(linker, self._fetcher)
        self._cache = ModuleCache(self._engine, linker, cache_dir, max_loaded=max_loaded_modules)
        self._ticker = EpochTicker(self._engine, epoch_tick)
        self._slots: weakref.WeakSet[InstanceSlot] = weakref.WeakSet()
        self._closed = False
        atexit.register(self.close)

    # --- installing ---------------------------------------------------------------------------------------

    def check(self, record: ModuleRecord) -> None:
        """Refuse a record that is not for ``runtime: wasi``; its bundle's exports are checked at :meth:`install`."""
        if record.runtime != self.name:
            raise UnsupportedModuleError(
                f"{record.dxn}@{record.version} runs on {record.runtime}; the WASI runtime runs only wasi modules"
            )

    def add_bundle(self, key: str, content: bytes) -> None:
        """Compile (once) the WebAssembly module ``content`` under ``key``, its bundle CID."""
        self._cache.add(key, content)

    def has_bundle(self, key: str) -> bool:
        """Whether the bundle ``key`` is compiled already (in memory or in the cache directory)."""
        return key in self._cache

    def install(
        self,
        key: str,
        *,
        module: str,
        functions: Iterable[FunctionSpec],
        grants: Grants | None = None,
        mode: Mode | str = Mode.LAMBDA,
    ) -> InstalledModule:
        """Bind the compiled bundle ``key`` to ``module``'s functions, grants and mode; checks its exports."""
        try:
            mode = Mode(mode)
        except ValueError as exc:
            raise GrantError(f"mode: must be one of {', '.join(Mode)}, not {mode!r}") from exc
        _check_exports(self._cache.get(key), mode)
        installed = InstalledModule(key, module, functions, self._capped(grants or Grants()), mode)
        if installed.slot is not None:
            self._slots.add(installed.slot)
        return installed

    def _capped(self, grants: Grants) -> Grants:
        storage = grants.storage
        if storage is not None and storage.quota > self.policy.max_storage:
            storage = DataDirectory(storage.path, self.policy.max_storage)
        return dataclasses.replace(grants, limits=grants.limits.capped_by(self.policy.maximums), storage=storage)

    # --- running ------------------------------------------------------------------------------------------

    def invoke(
        self,
        installed: InstalledModule,
        function: str,
        event: Any,
        *,
        agent: AgentContext | None = None,
        invocation_id: str | None = None,
        depth: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> InvocationResult:
        """Run ``function`` of ``installed`` on ``event`` for ``agent``; :class:`InvocationError` if it fails."""
        if self._closed:
            raise OrchestratorError("the WASI runtime is closed")
        started = time.perf_counter()
        contract = installed.contract(function)
        contract.check_input(event)
        context = InvocationContext(
            module=installed.module,
            function=function,
            invocation_id=invocation_id or new_invocation_id(),
            agent=agent,
            depth=depth,
            extra=extra or {},
        )
        try:
            payload = json.dumps(
                {"event": event, "context": context.to_dict()}, ensure_ascii=False, separators=(",", ":")
            ).encode()
        except (TypeError, ValueError) as exc:
            raise InvocationError(FailureKind.INVALID_INPUT, f"the event or context is not JSON: {exc}") from exc
        grants = installed.grants
        state = HostState(context, grants, time.monotonic() + grants.limits.timeout_ms / 1000)
        could_write = grants.storage is not None and grants.storage.writable
        try:
            if installed.slot is None:
                produced = run_command(self._engine, self._ticker, self._cache.get(installed.key), payload, state)
            else:
                produced = self._deliver(installed.slot, payload, state, installed.key)
        finally:
            if grants.storage is not None:
                grants.storage.measure()
        if isinstance(produced, InvocationError):
            raise produced
        if state.overran:
            detail = "was still waiting at its wall-clock deadline"
            raise InvocationError(FailureKind.TIMEOUT, detail, logs=produced.logs)
        if could_write and grants.storage is not None and not grants.storage.writable:
            if installed.slot is not None:
                installed.slot.discard()  # a live instance would keep its read-write /data
            detail = f"/data holds {grants.storage.usage} bytes; the quota is {grants.storage.quota}"
            raise InvocationError(FailureKind.QUOTA_EXCEEDED, detail, logs=produced.logs)
        output = _parse_result(produced)
        contract.check_output(output, produced.logs)
        return InvocationResult(
            output=output,
            logs=produced.logs,
            fuel_used=produced.fuel_used,
            peak_memory=produced.peak_memory,
            duration=time.perf_counter() - started,
            invocation_id=context.invocation_id,
        )

    def _deliver(self, slot: InstanceSlot, payload: bytes, state: HostState, key: str) -> GuestOutput | InvocationError:
        with slot.holding(state.time_left()):
            instance = slot.instance(lambda: self._start_instance(key, state))
            if isinstance(instance, InvocationError):
                return instance
            produced = instance.handle(payload, state)
            if instance.broken:
                slot.discard()
            return produced

    def _start_instance(self, key: str, state: HostState) -> LongLivedInstance | InvocationError:
        return LongLivedInstance.start(self._engine, self._ticker, self._cache.get(key), state)

    # --- long-lived lifecycle -----------------------------------------------------------------------------

    def start(self, installed: InstalledModule) -> None:
        """Create the live instance of a long-lived module now rather than on its first event."""
        if installed.slot is None:
            raise OrchestratorError(f"{installed.module} runs in lambda mode; only long-lived modules are started")
        context = InvocationContext(module=installed.module, function=INITIALIZER)
        state = HostState(context, installed.grants, time.monotonic() + installed.grants.limits.timeout_ms / 1000)
        with installed.slot.holding(state.time_left()):
            started = installed.slot.instance(lambda: self._start_instance(installed.key, state))
        if isinstance(started, InvocationError):
            raise started

    def stop(self, installed: InstalledModule) -> None:
        """Drop the live instance of a long-lived module (its state is lost); a no-op when none is live."""
        if installed.slot is not None:
            with installed.slot.holding(installed.grants.limits.timeout_ms / 1000):
                installed.slot.discard()

    def close(self) -> None:
        """Drop the live instances, stop the epoch ticker and the HTTP client; invocations after this fail.

        Also called at interpreter exit: live stores must be freed while Python can still take wasmtime's
        callbacks (see :mod:`orchestrator.runtimes.wasi.stdio`).
        """
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        for slot in list(self._slots):
            slot.discard()
        self._ticker.stop()
        self._fetcher.close()
        wait_for_releases()

    def __enter__(self) -> WasiRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _parse_result(produced: GuestOutput) -> Any:
    try:
        return json.loads(produced.result)
    except ValueError as exc:
        preview = produced.result[:80].decode("utf-8", errors="replace")
        detail = f"the result is not JSON ({exc}); it starts {preview!r}"
        raise InvocationError(FailureKind.INVALID_OUTPUT, detail, logs=produced.logs) from exc
