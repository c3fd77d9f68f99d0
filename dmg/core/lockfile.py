"""Lockfiles (``dmg.lock``): the exact versions, record CIDs and bundle CIDs of a resolved module graph.

A lockfile is written once by ``dmg lock`` from a :class:`~dmg.core.resolver.Solution` and read by whoever
installs: installing from it needs no resolution, only fetching the locked records and bundles (which are
content-addressed, so what is fetched is what was locked) in :meth:`Lockfile.install_order`.

The format is a small subset of TOML (parsed with :mod:`tomllib`), chosen to diff well: one value per line,
modules sorted by DXN, list items one per line, empty or default fields left out::

    # dmg.lock: the resolved module graph, written by `dmg lock`. ...
    lock-version = 1
    roots = [
        "com.example/app/inbox@^1.2",
    ]
    host-apis = [
        "org.dxos/api/echo@0.1.0",
    ]

    [[module]]
    dxn = "com.example/app/inbox"
    version = "1.2.3"
    record = "bafyrei..."
    bundle = "bafyrei..."
    dependencies = [
        "com.example/function/mail-bridge@^1.4",
    ]
    requires = [
        "org.dxos/api/echo@^0.1",
    ]

    [[api]]
    dxn = "org.dxos/api/echo"
    version = "0.1.0"
    provider = "host"

``yanked = true`` marks a version that was already yanked when it was locked (only a root can pin one).
:meth:`Lockfile.parse` checks the shape and that the graph is whole and consistent (every dependency and
required API is locked at a version its range admits), so a damaged lockfile fails before anything is fetched.
:meth:`Lockfile.check` compares the lockfile with a registry and reports versions that are gone, newly yanked,
or whose record or bundle changed.

This module does not resolve (the resolver does) or install (the orchestrator does).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, TypeVar

import networkx as nx

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError, LockfileError
from dmg.core.graph import API, Edge, build_graph, install_order
from dmg.core.resolver import Dependency, Provider, RecordSource, Solution, prefetch
from dmg.core.semver import Version

T = TypeVar("T")

LOCK_VERSION: Final = 1
HOST: Final = "host"
HEADER: Final = (
    "# dmg.lock: the resolved module graph, written by `dmg lock`. Installing from it needs no resolution.\n"
    "# Regenerate it rather than editing it; `dmg lock --check` compares it with the registry.\n"
)


def _parsed(text: Any, parse: Callable[[str], T], what: str, where: str) -> T:
    """``parse(text)``, with any problem a :class:`LockfileError` saying ``where`` (``what``: "a DXN", ...)."""
    if not isinstance(text, str):
        raise LockfileError(f"{where}: must be {what} string")
    try:
        return parse(text)
    except DmgError as exc:
        raise LockfileError(f"{where}: {exc}") from exc


def _dxn(text: Any, where: str) -> DXN:
    dxn = _parsed(text, DXN.parse, "a DXN", where)
    if dxn.selector is not None:
        raise LockfileError(f"{where}: {text!r} must not carry an @version")
    return dxn


def _version(text: Any, where: str) -> Version:
    return _parsed(text, Version.parse, "a version", where)


def _cid(text: Any, where: str) -> CID:
    return _parsed(text, CID.parse, "a CID", where)


def _requirement(text: Any, where: str) -> Dependency:
    """``dxn@range`` as a lockfile writes requirements."""
    if not isinstance(text, str) or "@" not in text:
        raise LockfileError(f"{where}: {text!r} must be a requirement like name@range")
    try:
        dxn = DXN.parse(text)
        assert dxn.selector is not None
        return Dependency(str(dxn.base), dxn.selector)
    except DmgError as exc:
        raise LockfileError(f"{where}: {exc}") from exc


def _pinned(text: Any, where: str) -> tuple[DXN, Version]:
    """``dxn@version``, as host APIs are written."""
    if not isinstance(text, str) or "@" not in text:
        raise LockfileError(f"{where}: {text!r} must be an API with its version, like name@1.0.0")
    name, _, version = text.partition("@")
    return _dxn(name, where), _version(version, where)


def _table(data: Any, known: frozenset[str], required: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise LockfileError(f"{where}: must be a table")
    unknown = sorted(set(data) - known)
    if unknown:
        raise LockfileError(f"{where}: unknown key {unknown[0]!r}")
    missing = sorted(required - set(data))
    if missing:
        raise LockfileError(f"{where}: missing key {missing[0]!r}")
    return data


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise LockfileError(f"{where}: {key!r} must be an array")
    return value


def _string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes, and every value here is ASCII anyway.
    return json.dumps(value)


def _array(key: str, items: Iterable[str]) -> list[str]:
    values = list(items)
    if not values:
        return [f"{key} = []"]
    return [f"{key} = [", *(f"    {_string(value)}," for value in values), "]"]


@dataclass(frozen=True)
class LockedModule:
    """One module of the locked graph."""

    dxn: DXN
    version: Version
    record: CID
    bundle: CID
    dependencies: tuple[Dependency, ...] = ()
    requires: tuple[Dependency, ...] = ()
    yanked: bool = False

    KNOWN: ClassVar = frozenset({"dxn", "version", "record", "bundle", "dependencies", "requires", "yanked"})

    def __post_init__(self) -> None:
        # Kept sorted, as written, so that a parsed lockfile equals the one it was written from.
        object.__setattr__(self, "dependencies", tuple(sorted(self.dependencies, key=str)))
        object.__setattr__(self, "requires", tuple(sorted(self.requires, key=str)))

    @classmethod
    def from_dict(cls, data: Any, where: str) -> LockedModule:
        table = _table(data, cls.KNOWN, frozenset({"dxn", "version", "record", "bundle"}), where)
        yanked = table.get("yanked", False)
        if not isinstance(yanked, bool):
            raise LockfileError(f"{where}: 'yanked' must be true or false")
        return cls(
            dxn=_dxn(table["dxn"], f"{where}.dxn"),
            version=_version(table["version"], f"{where}.version"),
            record=_cid(table["record"], f"{where}.record"),
            bundle=_cid(table["bundle"], f"{where}.bundle"),
            dependencies=tuple(
                _requirement(item, f"{where}.dependencies[{index}]")
                for index, item in enumerate(_list(table, "dependencies", where))
            ),
            requires=tuple(
                _requirement(item, f"{where}.requires[{index}]")
                for index, item in enumerate(_list(table, "requires", where))
            ),
            yanked=yanked,
        )

    def to_lines(self) -> list[str]:
        lines = [
            "[[module]]",
            f"dxn = {_string(str(self.dxn))}",
            f"version = {_string(str(self.version))}",
            f"record = {_string(str(self.record))}",
            f"bundle = {_string(str(self.bundle))}",
        ]
        if self.yanked:
            lines.append("yanked = true")
        if self.dependencies:
            lines += _array("dependencies", [str(dependency) for dependency in self.dependencies])
        if self.requires:
            lines += _array("requires", [str(requirement) for requirement in self.requires])
        return lines


@dataclass(frozen=True)
class LockedApi:
    """The version of an API the graph binds to, and its provider: a locked module, or None for the host."""

    dxn: DXN
    version: Version
    provider: DXN | None

    KNOWN: ClassVar = frozenset({"dxn", "version", "provider"})

    @classmethod
    def from_dict(cls, data: Any, where: str) -> LockedApi:
        table = _table(data, cls.KNOWN, cls.KNOWN, where)
        provider = table["provider"]
        return cls(
            dxn=_dxn(table["dxn"], f"{where}.dxn"),
            version=_version(table["version"], f"{where}.version"),
            provider=None if provider == HOST else _dxn(provider, f"{where}.provider"),
        )

    def to_lines(self) -> list[str]:
        return [
            "[[api]]",
            f"dxn = {_string(str(self.dxn))}",
            f"version = {_string(str(self.version))}",
            f"provider = {_string(HOST if self.provider is None else str(self.provider))}",
        ]


@dataclass(frozen=True)
class LockProblem:
    """Why the registry no longer matches one locked module: ``kind`` is ``missing``, ``yanked``,
    ``record-changed`` or ``bundle-changed``."""

    dxn: DXN
    version: Version
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.dxn}@{self.version}: {self.detail}"


@dataclass(frozen=True)
class LockCheck:
    """The outcome of :meth:`Lockfile.check`; ``ok`` when the registry still serves exactly what was locked."""

    problems: tuple[LockProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Lockfile:
    """A locked module graph; construction checks that it is whole and consistent."""

    roots: tuple[Dependency, ...]
    modules: tuple[LockedModule, ...]
    apis: tuple[LockedApi, ...] = ()
    host_apis: tuple[tuple[DXN, Version], ...] = ()
    by_name: dict[str, LockedModule] = field(init=False, repr=False, compare=False)

    KNOWN: ClassVar = frozenset({"lock-version", "roots", "host-apis", "module", "api"})

    def __post_init__(self) -> None:
        by_name: dict[str, LockedModule] = {}
        for module in self.modules:
            if str(module.dxn) in by_name:
                raise LockfileError(f"{module.dxn} is locked twice")
            by_name[str(module.dxn)] = module
        object.__setattr__(self, "by_name", by_name)
        object.__setattr__(self, "modules", tuple(by_name[name] for name in sorted(by_name)))
        apis: dict[str, LockedApi] = {}
        for api in self.apis:
            if str(api.dxn) in apis:
                raise LockfileError(f"the API {api.dxn} is bound twice")
            if api.provider is not None and str(api.provider) not in by_name:
                raise LockfileError(f"the API {api.dxn} is provided by {api.provider}, which is not locked")
            if api.provider is None and (api.dxn, api.version) not in self.host_apis:
                raise LockfileError(f"the API {api.dxn}@{api.version} is bound to the host, which does not offer it")
            apis[str(api.dxn)] = api
        object.__setattr__(self, "apis", tuple(apis[name] for name in sorted(apis)))
        object.__setattr__(
            self, "host_apis", tuple(sorted(set(self.host_apis), key=lambda item: (str(item[0]), item[1])))
        )
        object.__setattr__(self, "roots", tuple(sorted(set(self.roots), key=str)))
        for root in self.roots:
            self._check_locked(root, "the roots")
        for module in self.modules:
            for dependency in module.dependencies:
                self._check_locked(dependency, f"{module.dxn}@{module.version}")
            for requirement in module.requires:
                bound = apis.get(requirement.name)
                if bound is None or not requirement.range.contains(bound.version):
                    found = "is not bound" if bound is None else f"is bound at {bound.version}"
                    raise LockfileError(f"{module.dxn}@{module.version} requires {requirement} but it {found}")

    def _check_locked(self, requirement: Dependency, who: str) -> None:
        locked = self.by_name.get(requirement.name)
        if locked is None:
            raise LockfileError(f"{who} needs {requirement}, which is not locked")
        if not requirement.range.contains(locked.version):
            raise LockfileError(f"{who} needs {requirement}, but it is locked at {locked.version}")

    # --- building

    @classmethod
    def from_solution(cls, solution: Solution) -> Lockfile:
        """Lock a solution; every module needs a record and a bundle CID (it must come from a registry)."""
        for root in solution.roots:
            _dxn(root.name, "roots")
        modules = []
        for name, module in solution.modules.items():
            if module.record is None or module.metadata.bundle is None:
                raise LockfileError(f"{name}@{module.version} has no record or bundle CID: lock from a registry")
            modules.append(
                LockedModule(
                    dxn=_dxn(name, name),
                    version=module.version,
                    record=module.record,
                    bundle=module.metadata.bundle,
                    dependencies=module.metadata.dependencies,
                    requires=module.metadata.requires,
                    yanked=module.yanked,
                )
            )
        apis = tuple(
            LockedApi(
                _dxn(name, name), binding.version, None if binding.provider is None else _dxn(binding.provider, name)
            )
            for name, binding in solution.apis.items()
        )
        host = tuple((_dxn(name, "host API"), version) for name, version in solution.host_apis)
        return cls(solution.roots, tuple(modules), apis, host)

    # --- text

    def to_text(self) -> str:
        lines = [HEADER.rstrip("\n"), f"lock-version = {LOCK_VERSION}"]
        lines += _array("roots", [str(root) for root in self.roots])
        lines += _array("host-apis", [f"{dxn}@{version}" for dxn, version in self.host_apis])
        for module in self.modules:
            lines += ["", *module.to_lines()]
        for api in self.apis:
            lines += ["", *api.to_lines()]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Lockfile:
        """Read a lockfile; any problem is a :class:`LockfileError` saying where."""
        if not isinstance(text, str):
            raise LockfileError(f"a lockfile must be text, not {type(text).__name__}")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LockfileError(f"dmg.lock is not valid: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Lockfile:
        table = _table(data, cls.KNOWN, frozenset({"lock-version"}), "dmg.lock")
        version = table["lock-version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise LockfileError("dmg.lock: 'lock-version' must be an integer")
        if version != LOCK_VERSION:
            raise LockfileError(f"dmg.lock: lock-version {version} is not supported (this dmg reads {LOCK_VERSION})")
        return cls(
            roots=tuple(
                _requirement(item, f"roots[{index}]") for index, item in enumerate(_list(table, "roots", "dmg.lock"))
            ),
            modules=tuple(
                LockedModule.from_dict(item, f"module[{index}]")
                for index, item in enumerate(_list(table, "module", "dmg.lock"))
            ),
            apis=tuple(
                LockedApi.from_dict(item, f"api[{index}]") for index, item in enumerate(_list(table, "api", "dmg.lock"))
            ),
            host_apis=tuple(
                _pinned(item, f"host-apis[{index}]") for index, item in enumerate(_list(table, "host-apis", "dmg.lock"))
            ),
        )

    # --- using it

    def graph(self) -> nx.DiGraph[str]:
        """The locked graph (see :mod:`dmg.core.graph`), with API edges to providing modules."""
        edges = []
        for module in self.modules:
            edges += [Edge(str(module.dxn), dependency.name, dependency.spec) for dependency in module.dependencies]
            for requirement in module.requires:
                provider = next(api.provider for api in self.apis if str(api.dxn) == requirement.name)
                if provider is not None and provider != module.dxn:
                    edges.append(Edge(str(module.dxn), str(provider), str(requirement), API))
        nodes = [(str(module.dxn), module.version, module.record) for module in self.modules]
        return build_graph(nodes, edges, sorted({root.name for root in self.roots}))

    def install_order(self) -> list[tuple[LockedModule, ...]]:
        """Install steps, dependencies first; modules in a dependency cycle share a step."""
        return [tuple(self.by_name[name] for name in step) for step in install_order(self.graph())]

    def check(self, provider: Provider) -> LockCheck:
        """Compare with what ``provider`` (a registry's view) serves now."""
        problems = []
        for module in self.modules:
            listed = {candidate.version: candidate for candidate in provider.candidates(str(module.dxn))}
            candidate = listed.get(module.version)
            if candidate is None:
                problems.append(LockProblem(module.dxn, module.version, "missing", "this version is not released"))
                continue
            if candidate.yanked and not module.yanked:
                problems.append(LockProblem(module.dxn, module.version, "yanked", "this version has been yanked"))
            if candidate.record is not None and candidate.record != module.record:
                detail = f"the record is now {candidate.record}, locked {module.record}"
                problems.append(LockProblem(module.dxn, module.version, "record-changed", detail))
            bundle = provider.metadata(str(module.dxn), module.version).bundle
            if bundle is not None and bundle != module.bundle:
                detail = f"the bundle is now {bundle}, locked {module.bundle}"
                problems.append(LockProblem(module.dxn, module.version, "bundle-changed", detail))
        return LockCheck(tuple(problems))

    async def check_registry(self, source: RecordSource) -> LockCheck:
        """:meth:`check` against a registry or client, reading the versions of every locked module."""
        return self.check(await prefetch(source, [module.dxn for module in self.modules], transitive=False))
