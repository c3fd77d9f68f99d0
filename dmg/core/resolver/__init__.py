"""Dependency resolution: a PubGrub solver over modules, with failures explained in plain sentences.

What this package does
----------------------
:class:`Resolver` picks one version of every module that a set of root requirements needs, with PubGrub, the
conflict-driven algorithm behind Dart's pub, uv and pubgrub-rs
(https://github.com/dart-lang/pub/blob/master/doc/solver.md). When no set of versions works it raises
:class:`NoSolutionError`, whose message explains why in sentences derived from the incompatibilities the solver
learned, following pub's error-reporting algorithm::

    Because app 1.0.0 depends on b ^2 and c 1.0.0 depends on b ^1, app 1.0.0 cannot be installed with c 1.0.0.
    So, because the request depends on both app and c, version solving failed.

The solver reads its data only through a :class:`Provider` (the candidate versions of a package; the dependencies,
required APIs and provided APIs of one version), the way resolvelib separates the two, so the same solver runs over
the store, the HTTP client or in-memory test data. Packages are names: the text of a DXN without selector.

Synchronous by choice: the search asks for one package at a time, in an order that depends on every previous
answer, so an async solver would await a round trip per step. Instead :func:`prefetch` walks a registry (anything
with ``versions(dxn)`` and ``record(cid)``: the :class:`~dmg.registry.Registry`, the local or the HTTP client)
breadth first, many requests in flight, and returns an :class:`InMemoryProvider` the solver then reads without
waiting. :class:`InMemoryProvider` is also how tests and benchmarks describe a universe of packages. Each
resolution keeps its own state, so an async caller may run one in a worker thread (``asyncio.to_thread``).

Semantics
---------
- Ranges are the npm ranges of :mod:`dmg.core.semver`; a term is a set of versions of that algebra, so
  intersections, unions and complements are exact, prereleases included.
- The highest version the constraints allow is preferred. Packages with fewer versions are decided first (their
  conflicts surface early); API packages are decided after every module.
- Prereleases are candidates only when a range admits them (npm's rule: ``^2.0.0-beta`` admits ``2.0.0-beta.3``,
  ``^2`` admits no prerelease).
- A yanked version is a candidate only when a root requirement pins exactly that version (as ``dmg resolve
  name@1.2.3`` may return a yanked version). As in cargo and uv, no module's range reaches a yanked version, not
  even an exact one: installs that already use it keep working through their lockfile, and a person who really
  wants it pins it among the roots.
- ``apis.requires``: each API is a virtual package ``api:<dxn>`` whose one selected version is the version of that
  API the graph binds to. A module version requiring ``A R`` depends on ``api:A R``. The candidate versions of
  ``api:A`` are those the target host offers (``host_apis``, passed by the orchestrator) and those that modules
  the solver has read provide. A version the host offers needs nothing more; a version only modules provide holds
  only if one of them is in the graph (the incompatibility "A 1.0.0 is provided only by N1 or N2"). Versions
  available without adding a module (the host's, or a selected module's) are preferred; failing those, the solver
  adds a module it has read that provides the API. Knowledge of providers grows as records are read, so a failure
  that relied on it is retried with what is known by then (a rare restart, reported to the :class:`Reporter`).

One module per role: :mod:`~dmg.core.resolver.provider` (what the solver reads), :mod:`~dmg.core.resolver.prefetch`
(reading a registry ahead), :mod:`~dmg.core.resolver.terms` (terms, incompatibilities, the range algebra),
:mod:`~dmg.core.resolver.solver` (the solve, :class:`Resolver`, :class:`Solution`, :class:`Reporter`) and
:mod:`~dmg.core.resolver.explanation` (failures in sentences). Every public name is importable from this package.

What it does not do: fetch anything while solving, verify signatures or records (the client did that), or select
two versions of one module.
"""

from dmg.core.resolver.explanation import describe_range
from dmg.core.resolver.prefetch import prefetch
from dmg.core.resolver.provider import (
    API_PREFIX,
    ROOT,
    Candidate,
    Dependency,
    InMemoryProvider,
    Metadata,
    Provider,
    RecordSource,
    ReleaseListing,
    parse_host_api,
)
from dmg.core.resolver.solver import (
    DEFAULT_MAX_STEPS,
    ApiBinding,
    NoSolutionError,
    Reporter,
    ResolutionTooLargeError,
    Resolver,
    SelectedModule,
    Solution,
    resolve,
)
from dmg.core.resolver.terms import (
    ANY_VERSION,
    Cause,
    ConflictCause,
    DependencyCause,
    Incompatibility,
    NoVersionsCause,
    ProvidedByCause,
    RootCause,
    Term,
)

__all__ = [
    "ANY_VERSION",
    "API_PREFIX",
    "DEFAULT_MAX_STEPS",
    "ROOT",
    "ApiBinding",
    "Candidate",
    "Cause",
    "ConflictCause",
    "Dependency",
    "DependencyCause",
    "InMemoryProvider",
    "Incompatibility",
    "Metadata",
    "NoSolutionError",
    "NoVersionsCause",
    "ProvidedByCause",
    "Provider",
    "RecordSource",
    "ReleaseListing",
    "Reporter",
    "ResolutionTooLargeError",
    "Resolver",
    "RootCause",
    "SelectedModule",
    "Solution",
    "Term",
    "describe_range",
    "parse_host_api",
    "prefetch",
    "resolve",
]
