"""Planning an install: resolve the dependency graph through a registry client, verify every record, and let the
operator's policy decide on each module before anything is downloaded.

:meth:`Installer.plan` answers "what would installing ``name[@range]`` do":

1. resolve the request and everything it depends on (:mod:`dmg.core.resolver`, over records read through the
   client) and order the graph (:func:`dmg.core.graph.install_order`). Modules already installed keep their
   versions: when the graph wants another version of one, it is resolved again with the installed versions pinned,
   and fails with the resolver's explanation if it cannot. :meth:`Installer.plan_locked` takes a
   :class:`~dmg.core.lockfile.Lockfile` instead: no resolution, the locked records and bundles exactly;
2. fetch each selected record's block and verify it (the block against its CID, strict decoding, every signature;
   :func:`dmg.client.verify.verified_record`), whatever the client checked already, and check the release against
   the registry's transparency log (``RegistryClient.verify``: signer authorised by the namespace log, entry
   included in a signed checkpoint consistent with the last one seen);
3. read each module's mode (:func:`entry_modes`) and ask the runtime its record names whether it can run it
   (:func:`~orchestrator.runtimes.base.runtime_for`: a kind no runtime is registered for is refused);
4. decide each module's resources with the :class:`~orchestrator.policy.Policy` and the install's grants.

The plan lists the modules in install order (each after the modules it depends on), which ones are installed
already, and each one's :class:`~orchestrator.policy.Decision`. Downloading bundles, compiling and persisting are
the orchestrator's, after the plan is accepted (:mod:`orchestrator.core`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dmg.client.base import RegistryClient
from dmg.client.errors import RecordMismatchError
from dmg.client.verify import verified_record
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError
from dmg.core.graph import dependency_graph, install_order
from dmg.core.lockfile import Lockfile
from dmg.core.records import Mode, ModuleRecord
from dmg.core.resolver import Dependency, Resolver, prefetch
from dmg.core.semver import Version
from orchestrator.policy import Decision, GrantSet, Policy
from orchestrator.runtimes.base import Runtime, runtime_for


def entry_modes(record: ModuleRecord) -> dict[str, Mode]:
    """Each function's mode: its own ``mode`` field, else the module's, else ``lambda``."""
    return {spec.name: spec.mode or record.mode or Mode.LAMBDA for spec in record.functions}


@dataclass(frozen=True)
class PlannedModule:
    """One module of a plan: its verified record (and the block it came in) and the policy's decision."""

    record_cid: CID
    record_block: bytes
    record: ModuleRecord
    decision: Decision
    installed: bool
    """Whether it is installed already (at this version): installing leaves it as it is."""

    @property
    def dxn(self) -> str:
        return str(self.record.dxn)


@dataclass(frozen=True)
class InstallPlan:
    """What installing ``request`` (a DXN with its range, or a lockfile's roots) does: ``modules`` in install
    order, dependencies first; ``roots`` names the modules asked for by name."""

    request: str
    roots: frozenset[str]
    modules: tuple[PlannedModule, ...]

    @property
    def new(self) -> tuple[PlannedModule, ...]:
        """The modules this install adds."""
        return tuple(module for module in self.modules if not module.installed)

    @property
    def allowed(self) -> bool:
        return all(module.decision.allowed for module in self.new)

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(module.decision for module in self.new)


class Installer:
    """Plans installs from one registry (through ``client``) under one ``policy``, of modules that one of
    ``runtimes`` (keyed by the name a record's ``runtime`` field gives) can run."""

    def __init__(self, client: RegistryClient, policy: Policy, runtimes: Mapping[str, Runtime[Any]]) -> None:
        self.client = client
        self.policy = policy
        self.runtimes = runtimes

    async def plan(
        self, request: DXN, grants: GrantSet | None = None, installed: Mapping[str, Version] | None = None
    ) -> InstallPlan:
        """The plan for installing ``request`` with ``grants`` beside the ``installed`` modules (name → version)."""
        present = dict(installed or {})
        base = str(request.base)
        root = Dependency.from_dxn(request)
        if base in present and not root.range.contains(present[base]):
            raise ConflictError(
                f"{base} {present[base]} is installed; {request} asks for another version (destroy it first)"
            )
        provider = await prefetch(self.client, [request.base])
        solution = Resolver(provider).resolve([root])
        pins = [
            Dependency(name, str(present[name]))
            for name, module in solution.modules.items()
            if name in present and module.version != present[name]
        ]
        if pins:  # every pinned module is in the graph, so the provider has read it already
            label = f"installing {request} beside the installed modules"
            solution = Resolver(provider, root_label=label).resolve([root, *pins])
        modules = []
        for step in install_order(dependency_graph(solution)):
            for name in step:
                selected = solution.modules[name]
                if selected.record is None:
                    raise RecordMismatchError(f"the registry listed {name} {selected.version} without its record")
                modules.append(await self._planned(name, selected.version, selected.record, grants, present.get(name)))
        return InstallPlan(str(request), frozenset({base}), tuple(modules))

    async def plan_locked(
        self, lockfile: Lockfile, grants: GrantSet | None = None, installed: Mapping[str, Version] | None = None
    ) -> InstallPlan:
        """The plan for installing exactly what ``lockfile`` locks: no resolution, each record fetched by its CID
        and checked to link the locked bundle. A module installed at another version is a conflict."""
        present = dict(installed or {})
        modules = []
        for step in lockfile.install_order():
            for locked in step:
                name = str(locked.dxn)
                if name in present and present[name] != locked.version:
                    raise ConflictError(
                        f"{name} {present[name]} is installed; the lockfile locks {locked.version} (destroy it first)"
                    )
                module = await self._planned(name, locked.version, locked.record, grants, present.get(name))
                if module.record.bundle != locked.bundle:
                    linked = f"{name}@{locked.version} links bundle {module.record.bundle}"
                    raise RecordMismatchError(f"{linked}; the lockfile locks {locked.bundle}")
                modules.append(module)
        roots = frozenset(root.name for root in lockfile.roots)
        return InstallPlan(f"dmg.lock ({', '.join(str(root) for root in lockfile.roots)})", roots, tuple(modules))

    async def _planned(
        self, name: str, version: Version, record_cid: CID, grants: GrantSet | None, installed: Version | None
    ) -> PlannedModule:
        """Fetch and verify the record ``record_cid`` (it must be ``name`` at ``version``) and decide on it."""
        block = await self.client.get_block(record_cid)
        _, record = verified_record(record_cid, block)
        if str(record.dxn) != name or record.version != version:
            raise RecordMismatchError(f"the record listed as {name}@{version} is {record.dxn}@{record.version}")
        logged = await self.client.verify(record.dxn, version)
        if logged.record != record_cid:
            raise RecordMismatchError(
                f"{name}@{version}: the transparency log releases record {logged.record}, not {record_cid}"
            )
        runtime_for(self.runtimes, record)
        return PlannedModule(record_cid, block, record, self.policy.decide(record, grants), installed == version)
