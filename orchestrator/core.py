"""The orchestrator: installed functions, their life cycle and their invocations, persisted across restarts.

One :class:`Orchestrator` owns a data directory::

    <data>/orchestrator.sqlite3     functions and invocation records (orchestrator.state)
    <data>/blocks/<cid>             bundle blocks, shared by every function (orchestrator.cache)
    <data>/compiled/                compiled modules, one per bundle CID (the runtime's cache)
    <data>/functions/<name>/data    a function's storage, when granted (``/`` in its DXN written as ``+``)
    <data>/trust/                   the registry's pinned log key and last checkpoint (dmg.client.trust)

**Install** (:meth:`Orchestrator.install`, of ``name[@range]`` or of a lockfile): the
:class:`~orchestrator.install.Installer` resolves (or reads the lockfile) and verifies the graph (signatures, and
every module against the registry's transparency log, judged with the orchestrator's own trust store) and the
:class:`~orchestrator.policy.Policy` decides; if anything is refused nothing is installed and the
:class:`~orchestrator.errors.PolicyError` names each refusal. Otherwise each new module's bundle is assembled from
the block cache and the registry (every block checked), compiled once per bundle CID, bound to its functions,
grants and mode (which checks its exports), and all of them are persisted in one transaction, in install order.

**Runtimes** (:mod:`orchestrator.runtimes.base`): the orchestrator holds one
:class:`~orchestrator.runtimes.base.Runtime` per kind of module, keyed by the ``runtime`` its records name; it
hands each module's bundle, bindings, invocations and instances to that one and knows nothing of how it runs
them. :meth:`Orchestrator.open` builds the WASI runtime (:mod:`orchestrator.runtimes.wasi`) unless given one; a
module whose kind has no runtime is refused when its install is planned.

**Life cycle** (:mod:`orchestrator.lifecycle`): ``start`` starts the function's installed or stopped dependencies
first and creates its long-lived instance; ``pause`` holds new invocations in a persisted queue and keeps the
instance's memory; ``resume`` delivers the queue in order (in the background; invocations made meanwhile run
beside it); ``stop`` drops the instance and cancels the queue; ``destroy`` removes the function, its invocation
records and its data directory, unless an installed function depends on it. Transitions of one function are
serialised; a refused one raises :class:`~orchestrator.errors.IllegalTransitionError`.

**Invocations** run on a thread pool (a runtime's ``invoke`` blocks its worker thread; wasmtime releases the GIL). Each
ends as a record: output or error, log, fuel, peak memory and duration, reported to the :class:`Observer` (the service's
metrics). A failed invocation raises its :class:`~orchestrator.errors.InvocationError` with ``invocation_id`` set, after
it is recorded. Calls from a function to a dependency (``dmg.call``) run on the caller's thread and are recorded as
invocations of the callee; the callee must be running.

**Restart**: opening the data directory again restores every function in its state: records are verified again,
compiled modules reloaded (recompiled from cached blocks if needed), long-lived instances of running and paused
functions started again (their memory is not kept across a restart), queued invocations delivered to running
functions.
An invocation that was running when the orchestrator stopped is recorded as failed with code ``INTERRUPTED``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Protocol

from dmg.client.base import RegistryClient, open_client
from dmg.client.trust import TrustPolicy, TrustStore
from dmg.client.verify import verified_record
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import BundleError, ConflictError
from dmg.core.lockfile import Lockfile
from dmg.core.records import ModuleRecord
from orchestrator.cache import BlockCache
from orchestrator.errors import (
    InvocationError,
    NotInstalledError,
    NotRunningError,
    QueueFullError,
)
from orchestrator.install import Installer, InstallPlan, PlannedModule, entry_modes
from orchestrator.lifecycle import Action, FunctionState, transition
from orchestrator.policy import GrantedResources, GrantSet, Policy, refuse
from orchestrator.runtimes import (
    AgentContext,
    AllowList,
    Binding,
    CallRequest,
    DataDirectory,
    Grants,
    Mode,
    Runtime,
    runtime_for,
)
from orchestrator.runtimes.context import new_invocation_id
from orchestrator.runtimes.wasi import WasiRuntime
from orchestrator.state import FunctionRow, InvocationRow, InvocationStatus, StateStore

logger = logging.getLogger("orchestrator")

DEFAULT_WORKERS: Final = 4
DEFAULT_MAX_QUEUE: Final = 1000
INTERRUPTED: Final = "INTERRUPTED"
"""The error code of an invocation record whose run the orchestrator's own stop cut short."""


def installed_name(text: str) -> str:
    """The installed function a DXN names (its name without ``dxn:`` or ``@version``)."""
    return str(DXN.parse(text).base)


class Observer(Protocol):
    """Told about every finished invocation and every destroyed function (the service's metrics)."""

    def invoked(self, row: InvocationRow) -> None: ...

    def destroyed(self, dxn: str) -> None: ...


class InstalledFunction:
    """One installed module in memory: its verified record, grants, the runtime that runs it and its bindings
    there (one per mode its functions use), and its life-cycle state."""

    def __init__(
        self, row: FunctionRow, record: ModuleRecord, runtime: Runtime[Any], bindings: dict[Mode, Binding]
    ) -> None:
        self.row = row
        self.record = record
        self.runtime = runtime
        self.granted = GrantedResources.from_dict(row.granted)
        self.modes = entry_modes(record)
        self.bindings = bindings
        self.lock = asyncio.Lock()
        self.delivery: asyncio.Task[None] | None = None

    @property
    def dxn(self) -> str:
        return self.row.dxn

    @property
    def state(self) -> FunctionState:
        return self.row.state

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(str(requirement.dxn) for requirement in self.record.dependencies)

    @property
    def live(self) -> bool:
        """Whether a long-lived instance of it is in memory."""
        return any(binding.live for binding in self.bindings.values())

    def binding(self, function: str) -> Binding:
        """The runtime binding that runs ``function`` (an unknown name goes to one that reports it)."""
        mode = self.modes.get(function)
        return self.bindings[mode] if mode is not None else next(iter(self.bindings.values()))


@dataclass(frozen=True)
class _Outcome:
    """An invocation's end, as the worker thread hands it back."""

    row: InvocationRow
    error: InvocationError | None


def _error_dict(error: InvocationError) -> dict[str, Any]:
    return {"code": error.code, "message": str(error), **error.to_dict()}


class Orchestrator:
    """See the module docstring. Open with :meth:`open`; close when done."""

    def __init__(
        self,
        data_dir: Path,
        state: StateStore,
        runtimes: Mapping[str, Runtime[Any]],
        policy: Policy,
        registry: str | None,
        *,
        registry_key: str | None,
        workers: int,
        max_queue: int,
        observer: Observer | None,
    ) -> None:
        self.data_dir = data_dir
        self.state = state
        self.runtimes = dict(runtimes)
        self.policy = policy
        self.registry = registry
        self.trust = TrustPolicy(TrustStore(data_dir / "trust"), registry_key=registry_key)
        self.max_queue = max_queue
        self.observer = observer
        self.blocks = BlockCache(data_dir / "blocks")
        self._functions: dict[str, InstalledFunction] = {}
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="invoke")
        self._client: RegistryClient | None = None
        self._install_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._loop = asyncio.get_running_loop()
        self._closed = False

    @classmethod
    async def open(
        cls,
        data_dir: str | Path,
        *,
        registry: str | None = None,
        registry_key: str | None = None,
        policy: Policy | None = None,
        workers: int = DEFAULT_WORKERS,
        max_queue: int = DEFAULT_MAX_QUEUE,
        keep: int = 200,
        observer: Observer | None = None,
        http_timeout: float = 10.0,
        runtimes: Iterable[Runtime[Any]] = (),
    ) -> Orchestrator:
        """Open the orchestrator on ``data_dir``, installing from ``registry`` (a URL or data directory; the
        default registry when None) whose transparency log is signed with ``registry_key`` (None: the key it
        first shows, then pinned in ``<data>/trust``), and restore every installed function in its state.

        ``runtimes`` run the kinds of module they are named for, a WASI one among them replacing the one built
        here (on ``<data>/compiled``, under the policy's limits); the orchestrator closes them when it closes."""
        directory = Path(data_dir)
        policy = policy or Policy()
        registered = {runtime.name: runtime for runtime in runtimes}
        state = await StateStore.open(directory, keep=keep)
        if WasiRuntime.name not in registered:
            registered[WasiRuntime.name] = WasiRuntime(
                directory / "compiled", policy=policy.limit_policy, http_timeout=http_timeout
            )
        orchestrator = cls(
            directory,
            state,
            registered,
            policy,
            registry,
            registry_key=registry_key,
            workers=workers,
            max_queue=max_queue,
            observer=observer,
        )
        try:
            await orchestrator._restore()
        except BaseException:
            await orchestrator.close()
            raise
        return orchestrator

    async def close(self) -> None:
        """Finish what runs, then close the runtimes, the registry client and the state database (once)."""
        if self._closed:
            return
        self._closed = True
        for function in self._functions.values():
            if function.delivery is not None:
                function.delivery.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.to_thread(self._executor.shutdown)
        for runtime in self.runtimes.values():
            runtime.close()
        if self._client is not None:
            await self._client.close()
        await self.state.close()

    # --- reading --------------------------------------------------------------------------------------------

    def functions(self) -> list[InstalledFunction]:
        return [self._functions[name] for name in sorted(self._functions)]

    def function(self, name: str) -> InstalledFunction:
        dxn = installed_name(name)
        found = self._functions.get(dxn)
        if found is None:
            raise NotInstalledError(f"{dxn} is not installed")
        return found

    async def queued(self, name: str | None = None) -> int:
        """Invocations queued for ``name`` (while it is paused), or for every function."""
        return await self.state.count_queued(None if name is None else self.function(name).dxn)

    async def invocation(self, invocation_id: str) -> InvocationRow:
        row = await self.state.invocation(invocation_id)
        if row is None:
            raise NotInstalledError(f"no invocation {invocation_id!r} is recorded (records are pruned, oldest first)")
        return row

    async def invocations(self, name: str, *, after: int = 0, limit: int = 100) -> list[InvocationRow]:
        return await self.state.invocations(self.function(name).dxn, after=after, limit=limit)

    # --- installing -----------------------------------------------------------------------------------------

    async def client(self) -> RegistryClient:
        if self._client is None:
            self._client = await open_client(self.registry, trust=self.trust)
        return self._client

    async def plan(self, request: str | Lockfile, grants: list[str] | None = None) -> InstallPlan:
        """What installing ``request`` (``name[@range]``, or a lockfile) with ``grants`` would do, and the policy's
        decision on each module."""
        installer = Installer(await self.client(), self.policy, self.runtimes)
        installed = {dxn: function.record.version for dxn, function in self._functions.items()}
        grant_set = GrantSet.parse(grants or [])
        if isinstance(request, Lockfile):
            return await installer.plan_locked(request, grant_set, installed)
        return await installer.plan(DXN.parse(request), grant_set, installed)

    async def install(self, request: str | Lockfile, grants: list[str] | None = None) -> InstallPlan:
        """Install ``request`` (``name[@range]``, or a lockfile) and its dependencies; nothing is installed when
        anything is refused."""
        async with self._install_lock:
            plan = await self.plan(request, grants)
            refuse(plan.decisions)
            client = await self.client()
            for module in plan.new:
                bundle = module.record.bundle
                runtime = runtime_for(self.runtimes, module.record)
                if not runtime.has_bundle(str(bundle)):
                    content = await self.blocks.bundle(bundle, client.get_block)
                    await self._in_worker(runtime.add_bundle, str(bundle), content)
            now = now_ms()
            rows = [self._row(module, module.dxn in plan.roots, now) for module in plan.new]
            loaded = [self._load(row, module.record) for row, module in zip(rows, plan.new, strict=True)]
            await self.state.add_functions(rows)
            for function in loaded:
                self._functions[function.dxn] = function
            return plan

    @staticmethod
    def _row(module: PlannedModule, root: bool, now: int) -> FunctionRow:
        assert module.decision.granted is not None
        return FunctionRow(
            dxn=module.dxn,
            version=str(module.record.version),
            record=module.record_cid,
            record_block=module.record_block,
            state=FunctionState.INSTALLED,
            granted=module.decision.granted.to_dict(),
            root=root,
            installed_at=now,
            updated_at=now,
        )

    def _data_path(self, dxn: str) -> Path:
        return self.data_dir / "functions" / dxn.replace("/", "+")

    def _load(self, row: FunctionRow, record: ModuleRecord) -> InstalledFunction:
        """Bind an installed module's prepared bundle to its functions, grants and modes, in its runtime."""
        runtime = runtime_for(self.runtimes, record)
        granted = GrantedResources.from_dict(row.granted)
        storage = None
        if granted.storage is not None:
            storage = DataDirectory(self._data_path(row.dxn) / "data", granted.storage)
        dependencies = frozenset(str(requirement.dxn) for requirement in record.dependencies)
        grants = Grants(
            limits=granted.limits,
            storage=storage,
            network=AllowList.parse(granted.network),
            dependencies=dependencies,
            call=self._call if dependencies else None,
        )
        modes = entry_modes(record)
        bindings = {}
        for mode in sorted(set(modes.values()) or {Mode.LAMBDA}):
            functions = [spec for spec in record.functions if modes[spec.name] is mode]
            bindings[mode] = runtime.install(
                str(record.bundle), module=row.dxn, functions=functions, grants=grants, mode=mode
            )
        return InstalledFunction(row, record, runtime, bindings)

    async def _restore(self) -> None:
        interrupted = {"code": INTERRUPTED, "message": "the orchestrator stopped while this invocation ran"}
        await self.state.end_unfinished(InvocationStatus.RUNNING, interrupted, now_ms())
        for row in await self.state.functions():
            _, record = verified_record(row.record, row.record_block)
            runtime = runtime_for(self.runtimes, record)
            if not runtime.has_bundle(str(record.bundle)):
                try:
                    content = await self.blocks.bundle(record.bundle)
                except BundleError:  # a block went missing from the cache: fetch it again
                    content = await self.blocks.bundle(record.bundle, (await self.client()).get_block)
                await self._in_worker(runtime.add_bundle, str(record.bundle), content)
            function = self._load(row, record)
            self._functions[function.dxn] = function
        for function in self.functions():
            if function.state in (FunctionState.RUNNING, FunctionState.PAUSED):
                await self._start_instances(function, strict=False)
            if function.state is FunctionState.RUNNING:
                self._deliver_queue(function)

    # --- life cycle -----------------------------------------------------------------------------------------

    async def _transition(self, function: InstalledFunction, action: Action) -> FunctionState:
        target = transition(function.dxn, function.state, action)
        now = now_ms()
        await self.state.set_state(function.dxn, target, now)
        function.row = replace(function.row, state=target, updated_at=now)
        return target

    async def start(self, name: str) -> InstalledFunction:
        """Start ``name`` (and its installed or stopped dependencies first)."""
        function = self.function(name)
        for dependency in function.dependencies:
            callee = self._functions.get(dependency)
            if callee is not None and callee.state in (FunctionState.INSTALLED, FunctionState.STOPPED):
                await self.start(dependency)
        async with function.lock:
            transition(function.dxn, function.state, Action.START)
            await self._start_instances(function, strict=True)
            await self._transition(function, Action.START)
        return function

    async def _start_instances(self, function: InstalledFunction, *, strict: bool) -> None:
        binding = function.bindings.get(Mode.LONG_LIVED)
        if binding is None:
            return
        try:
            await self._in_worker(function.runtime.start, binding)
        except InvocationError as exc:
            if strict:
                raise
            logger.warning("%s: the long-lived instance did not start (%s); its first event retries", function.dxn, exc)

    async def pause(self, name: str) -> InstalledFunction:
        """Hold new invocations of ``name`` in its queue; a long-lived instance keeps its memory."""
        function = self.function(name)
        async with function.lock:
            await self._transition(function, Action.PAUSE)
        return function

    async def resume(self, name: str) -> InstalledFunction:
        """Run ``name`` again and deliver its queued invocations, oldest first, in the background."""
        function = self.function(name)
        async with function.lock:
            await self._transition(function, Action.RESUME)
            self._deliver_queue(function)
        return function

    async def stop(self, name: str) -> InstalledFunction:
        """Refuse new invocations, cancel queued ones, drop the long-lived instance."""
        function = self.function(name)
        async with function.lock:
            await self._transition(function, Action.STOP)
            cancelled = {"code": NotRunningError.code, "message": f"{function.dxn} was stopped before delivery"}
            await self.state.end_unfinished(InvocationStatus.QUEUED, cancelled, now_ms(), function.dxn)
            for binding in function.bindings.values():
                await self._in_worker(function.runtime.stop, binding)
        return function

    async def destroy(self, name: str) -> str:
        """Remove ``name``, its invocation records and its data; refused while an installed function needs it."""
        function = self.function(name)
        dependants = sorted(other.dxn for other in self._functions.values() if function.dxn in other.dependencies)
        if dependants:
            raise ConflictError(f"cannot destroy {function.dxn}: {', '.join(dependants)} depends on it")
        async with function.lock:
            transition(function.dxn, function.state, Action.DESTROY)
            await self.state.remove_function(function.dxn)
            del self._functions[function.dxn]
            await asyncio.to_thread(shutil.rmtree, self._data_path(function.dxn), True)
        if self.observer is not None:
            self.observer.destroyed(function.dxn)
        return function.dxn

    # --- invoking -------------------------------------------------------------------------------------------

    async def invoke(self, name: str, entry: str, event: Any) -> InvocationRow:
        """Invoke the function ``entry`` of ``name`` on ``event``: now when ``name`` is running, later when it is
        paused (the record comes back ``queued``). A failure is recorded, then raised."""
        function = self.function(name)
        if function.state is FunctionState.PAUSED:
            return await self._enqueue(function, entry, event)
        if function.state is not FunctionState.RUNNING:
            raise NotRunningError(f"{function.dxn} is {function.state}; start it to invoke it")
        row = InvocationRow(new_invocation_id(), function.dxn, entry, InvocationStatus.RUNNING, event, now_ms())
        outcome = await self._in_worker(self._run, function, row)
        recorded = await self.state.add_invocation(outcome.row)
        self._observe(recorded)
        if outcome.error is not None:
            raise outcome.error
        return recorded

    async def _enqueue(self, function: InstalledFunction, entry: str, event: Any) -> InvocationRow:
        if await self.state.count_queued(function.dxn) >= self.max_queue:
            raise QueueFullError(f"{function.dxn} is paused with {self.max_queue} invocations queued; resume it first")
        row = InvocationRow(new_invocation_id(), function.dxn, entry, InvocationStatus.QUEUED, event, now_ms())
        return await self.state.add_invocation(row)

    def _run(
        self, function: InstalledFunction, row: InvocationRow, depth: int = 0, agent: AgentContext | None = None
    ) -> _Outcome:
        """Run one invocation on this (worker) thread; never raises for the invocation's own failure."""
        started = time.perf_counter()
        try:
            result = function.runtime.invoke(
                function.binding(row.function), row.function, row.input, agent=agent, invocation_id=row.id, depth=depth
            )
        except InvocationError as exc:
            exc.invocation_id = row.id
            failed = replace(
                row,
                status=InvocationStatus.FAILED,
                error=_error_dict(exc),
                logs=exc.logs,
                duration_ms=(time.perf_counter() - started) * 1000,
                finished_at=now_ms(),
            )
            return _Outcome(failed, exc)
        succeeded = replace(
            row,
            status=InvocationStatus.SUCCEEDED,
            output=result.output,
            logs=result.logs,
            fuel_used=result.fuel_used,
            peak_memory=result.peak_memory,
            duration_ms=result.duration * 1000,
            finished_at=now_ms(),
        )
        return _Outcome(succeeded, None)

    def _call(self, request: CallRequest) -> Any:
        """``dmg.call`` from a running function to a dependency, on the caller's thread."""
        callee = self._functions.get(request.module)
        if callee is None:
            raise NotInstalledError(f"{request.module} is not installed")
        if callee.state is not FunctionState.RUNNING:
            raise NotRunningError(f"{request.module} is {callee.state}")
        row = InvocationRow(
            new_invocation_id(), callee.dxn, request.function, InvocationStatus.RUNNING, request.event, now_ms()
        )
        outcome = self._run(callee, row, request.caller.depth + 1, request.caller.agent)
        self._loop.call_soon_threadsafe(self._spawn, self._record_call(outcome.row))
        if outcome.error is not None:
            raise outcome.error
        return outcome.row.output

    async def _record_call(self, row: InvocationRow) -> None:
        self._observe(await self.state.add_invocation(row))

    def _observe(self, row: InvocationRow) -> None:
        if self.observer is not None:
            self.observer.invoked(row)

    def _deliver_queue(self, function: InstalledFunction) -> None:
        function.delivery = self._spawn(self._deliver(function, function.delivery))

    async def _deliver(self, function: InstalledFunction, previous: asyncio.Task[None] | None) -> None:
        """Deliver the function's queued invocations, oldest first, while it runs (after an earlier delivery)."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        while function.state is FunctionState.RUNNING and self._functions.get(function.dxn) is function:
            queued = await self.state.with_status(InvocationStatus.QUEUED, function.dxn)
            if not queued:
                return
            for row in queued:
                if function.state is not FunctionState.RUNNING:
                    return
                running = replace(row, status=InvocationStatus.RUNNING)
                await self.state.finish_invocation(running)
                outcome = await self._in_worker(self._run, function, running)
                await self.state.finish_invocation(outcome.row)
                self._observe(outcome.row)

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _in_worker(self, call: Callable[..., Any], *args: Any) -> Any:
        return await self._loop.run_in_executor(self._executor, call, *args)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self._loop.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())
