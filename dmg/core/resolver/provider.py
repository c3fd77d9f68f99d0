"""What the solver reads: packages and their versions through a :class:`Provider`, and the values it answers with.

A package is a name (the text of a DXN without selector); a :class:`Provider` lists its :class:`Candidate`
versions and gives the :class:`Metadata` of one (dependencies, required and provided APIs). :class:`InMemoryProvider`
holds packages in memory; :class:`ReleaseListing` and :class:`RecordSource` are what :func:`~dmg.core.resolver.prefetch`
reads a registry through. Nothing here solves anything (:mod:`dmg.core.resolver.solver`) or does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Protocol

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, NotFoundError, RangeError, RecordError
from dmg.core.records import ModuleRecord
from dmg.core.semver import Range, Version

ROOT: Final = "(root)"
"""The package standing for the request itself: its one version depends on the root requirements."""

API_PREFIX: Final = "api:"
"""Names of virtual API packages start with this; a DXN never does."""

_parse_range = lru_cache(maxsize=8192)(Range.parse)


@dataclass(frozen=True, slots=True)
class Dependency:
    """A wanted package and the versions wanted: ``spec`` as written (explanations quote it), ``range`` parsed."""

    name: str
    spec: str
    range: Range = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise RecordError(f"a dependency needs a package name, not {self.name!r}")
        if self.name == ROOT or self.name.startswith(API_PREFIX):
            raise RecordError(f"{self.name!r} is reserved for the resolver's own packages")
        if not isinstance(self.spec, str):
            raise RecordError(f"the range of {self.name} must be a string, not {type(self.spec).__name__}")
        object.__setattr__(self, "range", _parse_range(self.spec))

    @classmethod
    def from_dxn(cls, dxn: DXN) -> Dependency:
        """A root requirement from ``name[@selector]``: none or ``latest`` means ``*``, a version pins exactly."""
        selector = dxn.version_selector()
        if selector is None or selector == "latest":
            return cls(str(dxn.base), "*")
        if isinstance(selector, str):
            raise NotFoundError(f"unknown tag {selector!r} in {dxn}: only 'latest' is defined")
        assert dxn.selector is not None
        return cls(str(dxn.base), dxn.selector)

    def __str__(self) -> str:
        return f"{self.name}@{self.spec}"


def parse_host_api(text: str) -> tuple[str, Version]:
    """``(API name, version)`` from ``API@VERSION``: one API the target host offers, at an exact version."""
    dxn = DXN.parse(text)
    version = dxn.version_selector()
    if not isinstance(version, Version):
        raise RangeError(f"host API {text!r} must name the exact version the host offers, like {dxn.base}@1.0.0")
    return str(dxn.base), version


def _is_api_version(item: object) -> bool:
    """Whether ``item`` is an ``(API name, Version)`` pair, as metadata ``provides`` and host APIs hold."""
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and bool(item[0])
        and isinstance(item[1], Version)
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """One released version of a package, whether it is yanked, and (from a registry) its record's CID."""

    version: Version
    yanked: bool = False
    record: CID | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.version, Version):
            raise RecordError(f"a candidate's version must be a Version, not {type(self.version).__name__}")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What one version needs and offers: module dependencies, required APIs, provided APIs, and its bundle."""

    dependencies: tuple[Dependency, ...] = ()
    requires: tuple[Dependency, ...] = ()
    provides: tuple[tuple[str, Version], ...] = ()
    bundle: CID | None = None

    def __post_init__(self) -> None:
        for where in ("dependencies", "requires"):
            items = getattr(self, where)
            if not isinstance(items, tuple) or not all(isinstance(item, Dependency) for item in items):
                raise RecordError(f"metadata {where} must be a tuple of Dependency")
        for item in self.provides:
            if not _is_api_version(item):
                raise RecordError(f"metadata provides must hold (api name, Version) pairs, not {item!r}")

    @classmethod
    def from_record(cls, record: ModuleRecord) -> Metadata:
        return cls(
            dependencies=tuple(Dependency(str(item.dxn), item.spec) for item in record.dependencies),
            requires=tuple(Dependency(str(item.dxn), item.spec) for item in record.requires),
            provides=tuple((str(api), version) for api, version in record.provides),
            bundle=record.bundle,
        )


class Provider(Protocol):
    """Where the solver reads packages from. Both methods are called many times and should be cheap; the
    solver reads the metadata of every version of a package it decides (to state what neighbouring versions
    have in common), so a provider over a network should be filled ahead, as :func:`prefetch` does."""

    def candidates(self, name: str) -> Sequence[Candidate]:
        """Every released version of ``name``, yanked ones included, in any order; empty if there is none."""
        ...

    def metadata(self, name: str, version: Version) -> Metadata:
        """The metadata of a version :meth:`candidates` listed."""
        ...


class InMemoryProvider:
    """A :class:`Provider` over packages held in memory: test data, benchmarks, and what :func:`prefetch` read."""

    def __init__(self) -> None:
        self._packages: dict[str, dict[Version, tuple[Candidate, Metadata]]] = {}
        self._sorted: dict[str, tuple[Candidate, ...]] = {}

    def add(
        self,
        name: str,
        version: Version | str,
        metadata: Metadata | None = None,
        *,
        yanked: bool = False,
        record: CID | None = None,
    ) -> None:
        """Add one version; adding a version twice is a :class:`ConflictError`, as releasing it twice is."""
        if not isinstance(name, str) or not name:
            raise RecordError(f"a package needs a name, not {name!r}")
        parsed = Version.parse(version) if isinstance(version, str) else version
        versions = self._packages.setdefault(name, {})
        if parsed in versions:
            raise ConflictError(f"{name} {parsed} is added twice")
        versions[parsed] = (Candidate(parsed, yanked, record), metadata if metadata is not None else Metadata())
        self._sorted.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._packages)

    def candidates(self, name: str) -> Sequence[Candidate]:
        found = self._sorted.get(name)
        if found is None:
            versions = self._packages.get(name, {})
            found = tuple(versions[version][0] for version in sorted(versions))
            self._sorted[name] = found
        return found

    def metadata(self, name: str, version: Version) -> Metadata:
        entry = self._packages.get(name, {}).get(version)
        if entry is None:
            raise NotFoundError(f"{name} {version} is not a known version")
        return entry[1]


class ReleaseListing(Protocol):
    """One line of a registry's version list (:class:`~dmg.api.results.VersionInfo` is one)."""

    @property
    def version(self) -> str: ...

    @property
    def record(self) -> CID: ...

    @property
    def yanked(self) -> bool: ...


class RecordSource(Protocol):
    """What :func:`prefetch` reads: a registry, or a local or HTTP client of one."""

    async def versions(self, dxn: DXN) -> Sequence[ReleaseListing]: ...

    async def record(self, cid: CID) -> tuple[object, ModuleRecord]: ...
