"""The PubGrub resolver: pub's classic cases with their explanations, DMG's semantics (yanked, prereleases,
APIs), random universes checked against brute force, reading a real registry, and refusals of bad input.

Every solution is checked by :func:`verify`, written here from the semantics alone (no solver code).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmg.authoring.publisher import yank
from dmg.core.bundle import Bundle
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, NotFoundError, RangeError, RecordError, ResolutionError, TooLargeError
from dmg.core.keys import SigningKey
from dmg.core.records import ModuleRecord, Requirement
from dmg.core.resolver import (
    ANY_VERSION,
    DEFAULT_MAX_STEPS,
    Candidate,
    Dependency,
    Incompatibility,
    InMemoryProvider,
    Metadata,
    NoSolutionError,
    Reporter,
    ResolutionTooLargeError,
    Resolver,
    Solution,
    describe_range,
    prefetch,
    resolve,
)
from dmg.core.semver import Range, Version
from dmg.registry import Registry
from tests.support.registries import claim_namespace, publish

Spec = Mapping[str, Mapping[str, Mapping[str, str]]]


def universe(spec: Spec, yanked: Sequence[tuple[str, str]] = ()) -> InMemoryProvider:
    """Packages from ``{name: {version: {dependency: range}}}``; ``yanked`` lists (name, version) pairs."""
    provider = InMemoryProvider()
    for name, versions in spec.items():
        for version, dependencies in versions.items():
            metadata = Metadata(tuple(Dependency(target, wanted) for target, wanted in dependencies.items()))
            provider.add(name, version, metadata, yanked=(name, version) in yanked)
    return provider


def requirements(roots: Mapping[str, str]) -> list[Dependency]:
    return [Dependency(name, wanted) for name, wanted in roots.items()]


def verify(
    provider: InMemoryProvider,
    roots: Sequence[Dependency],
    solution: Solution,
    host_apis: Sequence[tuple[str, Version]] = (),
) -> None:
    """Check a solution from first principles: roots hold; every dependency and required API of a selected
    version holds; nothing needed is missing; nothing is selected that no root, dependency or required API
    brings in; yanked versions only when a root pins exactly them; versions exist."""
    chosen = {name: module.version for name, module in solution.modules.items()}
    pins = {(root.name, root.range.exact_version) for root in roots}
    for root in roots:
        assert root.name in chosen, f"root {root.name} is missing"
        assert root.range.contains(chosen[root.name]), f"root {root} is not satisfied by {chosen[root.name]}"
    provided: dict[str, dict[Version, list[str]]] = {}
    for name, version in chosen.items():
        listed = {candidate.version: candidate for candidate in provider.candidates(name)}
        assert version in listed, f"{name} {version} does not exist"
        assert not listed[version].yanked or (name, version) in pins, f"{name} {version} is yanked"
        for api, api_version in provider.metadata(name, version).provides:
            provided.setdefault(api, {}).setdefault(api_version, []).append(name)
    host = {(api, version) for api, version in host_apis}
    brought_in = {root.name for root in roots}
    for name, version in chosen.items():
        metadata = provider.metadata(name, version)
        for dependency in metadata.dependencies:
            assert dependency.name in chosen, f"{name} {version} needs {dependency}, which is missing"
            assert dependency.range.contains(chosen[dependency.name]), f"{name} {version} needs {dependency}"
            brought_in.add(dependency.name)
        for requirement in metadata.requires:
            offers = [v for (api, v) in host if api == requirement.name and requirement.range.contains(v)]
            offers += [v for v in provided.get(requirement.name, {}) if requirement.range.contains(v)]
            assert offers, f"{name} {version} requires {requirement}, which nothing offers"
            for providers in provided.get(requirement.name, {}).values():
                brought_in.update(providers)
    assert set(chosen) <= brought_in, f"selected for no reason: {sorted(set(chosen) - brought_in)}"
    for api, binding in solution.apis.items():
        if binding.provider is None:
            assert (api, binding.version) in host
        else:
            assert binding.provider in provided.get(api, {}).get(binding.version, [])


def solve(spec: Spec, roots: Mapping[str, str], **options: object) -> dict[str, str]:
    provider = universe(spec, options.pop("yanked", ()))  # type: ignore[arg-type]
    wanted = requirements(roots)
    solution = Resolver(provider, root_label="root").resolve(wanted)
    verify(provider, wanted, solution)
    return {name: str(version) for name, version in solution.versions.items()}


def explain(spec: Spec, roots: Mapping[str, str], **options: object) -> str:
    provider = universe(spec, options.pop("yanked", ()))  # type: ignore[arg-type]
    with pytest.raises(NoSolutionError) as raised:
        Resolver(provider, root_label=str(options.pop("label", "root"))).resolve(requirements(roots))
    assert str(raised.value) == raised.value.explanation
    assert isinstance(raised.value, ResolutionError) and isinstance(raised.value.incompatibility, Incompatibility)
    return raised.value.explanation


# --- pub's examples (doc/solver.md) ---------------------------------------------------------------------------


def test_no_conflicts() -> None:
    spec = {"foo": {"1.0.0": {"bar": "^1.0.0"}}, "bar": {"1.0.0": {}, "2.0.0": {}}}
    assert solve(spec, {"foo": "^1.0.0"}) == {"bar": "1.0.0", "foo": "1.0.0"}


def test_avoiding_conflict_during_decision_making() -> None:
    spec = {
        "foo": {"1.1.0": {"bar": "^2.0.0"}, "1.0.0": {}},
        "bar": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
    }
    assert solve(spec, {"foo": "^1.0.0", "bar": "^1.0.0"}) == {"bar": "1.1.0", "foo": "1.0.0"}


def test_performing_conflict_resolution() -> None:
    spec = {"foo": {"2.0.0": {"bar": "^1.0.0"}, "1.0.0": {}}, "bar": {"1.0.0": {"foo": "^1.0.0"}}}
    assert solve(spec, {"foo": ">=1.0.0"}) == {"foo": "1.0.0"}


def test_conflict_resolution_with_a_partial_satisfier() -> None:
    spec = {
        "foo": {"1.1.0": {"left": "^1.0.0", "right": "^1.0.0"}, "1.0.0": {}},
        "left": {"1.0.0": {"shared": ">=1.0.0"}},
        "right": {"1.0.0": {"shared": "<2.0.0"}},
        "shared": {"2.0.0": {}, "1.0.0": {"target": "^1.0.0"}},
        "target": {"2.0.0": {}, "1.0.0": {}},
    }
    assert solve(spec, {"foo": "^1.0.0", "target": "^2.0.0"}) == {"foo": "1.0.0", "target": "2.0.0"}


def test_linear_error_reporting() -> None:
    spec = {
        "foo": {"1.0.0": {"bar": "^2.0.0"}},
        "bar": {"2.0.0": {"baz": "^3.0.0"}},
        "baz": {"1.0.0": {}, "3.0.0": {}},
    }
    assert explain(spec, {"foo": "^1.0.0", "baz": "^1.0.0"}) == (
        "Because foo 1.0.0 depends on bar ^2.0.0 which depends on baz ^3.0.0, foo 1.0.0 requires baz ^3.0.0.\n"
        "So, because root depends on both foo ^1.0.0 and baz ^1.0.0, version solving failed."
    )


def test_branching_error_reporting() -> None:
    spec = {
        "foo": {"1.0.0": {"a": "^1.0.0", "b": "^1.0.0"}, "1.1.0": {"x": "^1.0.0", "y": "^1.0.0"}},
        "a": {"1.0.0": {"b": "^2.0.0"}},
        "b": {"1.0.0": {}, "2.0.0": {}},
        "x": {"1.0.0": {"y": "^2.0.0"}},
        "y": {"1.0.0": {}, "2.0.0": {}},
    }
    assert explain(spec, {"foo": "^1.0.0"}) == (
        "    Because foo 1.0.0 depends on a ^1.0.0 which depends on b ^2.0.0, foo 1.0.0 requires b ^2.0.0.\n"
        "(1) So, because foo 1.0.0 depends on b ^1.0.0, foo 1.0.0 is forbidden.\n"
        "\n"
        "    Because foo 1.1.0 depends on x ^1.0.0 which depends on y ^2.0.0, foo 1.1.0 requires y ^2.0.0.\n"
        "    And because foo 1.1.0 depends on y ^1.0.0, foo 1.1.0 is forbidden.\n"
        "    And because foo 1.0.0 is forbidden (1), every version of foo is forbidden.\n"
        "    So, because root depends on foo ^1.0.0, version solving failed."
    )


def test_the_issue_example_reads_as_promised() -> None:
    spec = {
        "app": {"1.0.0": {"b": "^2"}, "2.0.0": {"b": "^3"}},
        "c": {"1.0.0": {"b": "^1"}},
        "b": {"1.0.0": {}, "2.0.0": {}},
    }
    explanation = explain(spec, {"app": "1.0.0", "c": "*"}, label="the request")
    assert explanation.splitlines() == [
        "Because c 1.0.0 depends on b ^1 and app 1.0.0 depends on b ^2, c 1.0.0 cannot be installed with app 1.0.0.",
        "So, because the request depends on both app 1.0.0 and c, version solving failed.",
    ]


# --- semantics ------------------------------------------------------------------------------------------------


def test_highest_compatible_version_wins() -> None:
    spec = {"a": {"1.0.0": {}, "1.5.0": {}, "1.9.9": {}, "2.0.0": {}}}
    assert solve(spec, {"a": "^1.2"}) == {"a": "1.9.9"}
    assert solve(spec, {"a": "*"}) == {"a": "2.0.0"}


def test_prereleases_only_when_a_range_asks_for_them() -> None:
    spec = {"a": {"1.0.0": {}, "2.0.0-beta.1": {}, "2.0.0-beta.2": {}, "2.1.0-rc.1": {}}}
    assert solve(spec, {"a": "*"}) == {"a": "1.0.0"}
    assert solve(spec, {"a": ">=1.0.0"}) == {"a": "1.0.0"}
    assert solve(spec, {"a": "^2.0.0-beta.1"}) == {"a": "2.0.0-beta.2"}
    assert solve(spec, {"a": "2.1.0-rc.1"}) == {"a": "2.1.0-rc.1"}
    assert (
        explain(spec, {"a": "^2"})
        == "Because root depends on a ^2 which doesn't match any versions, version solving failed."
    )


def test_yanked_versions_are_skipped_unless_a_root_pins_them() -> None:
    spec = {"a": {"1.0.0": {}, "1.1.0": {}}, "app": {"1.0.0": {"a": "1.1.0"}}}
    yanked = [("a", "1.1.0")]
    assert solve(spec, {"a": "^1"}, yanked=yanked) == {"a": "1.0.0"}
    assert solve(spec, {"a": "1.1.0"}, yanked=yanked) == {"a": "1.1.0"}
    assert solve(spec, {"app": "*", "a": "1.1.0"}, yanked=yanked) == {"a": "1.1.0", "app": "1.0.0"}
    assert explain(spec, {"app": "*"}, yanked=yanked) == (
        "Because app 1.0.0 depends on a 1.1.0 which matches only yanked versions, app 1.0.0 is forbidden.\n"
        "So, because root depends on app, version solving failed."
    )
    assert explain(spec, {"a": "~1.1"}, yanked=yanked) == (
        "Because root depends on a ~1.1 which matches only yanked versions, version solving failed."
    )


def test_a_missing_package_is_explained() -> None:
    assert explain({"app": {"1.0.0": {"ghost": "^1"}}}, {"app": "*"}) == (
        "Because app 1.0.0 depends on ghost ^1 which doesn't exist, app 1.0.0 is forbidden.\n"
        "So, because root depends on app, version solving failed."
    )
    assert explain({}, {"ghost": "*"}) == "Because root depends on ghost which doesn't exist, version solving failed."


def test_cycles_resolve() -> None:
    spec = {"a": {"1.0.0": {"b": "^1"}}, "b": {"1.0.0": {"a": "^1"}, "2.0.0": {"a": "^2"}}}
    assert solve(spec, {"a": "*"}) == {"a": "1.0.0", "b": "1.0.0"}


def test_identical_dependencies_of_neighbouring_versions_are_explained_together() -> None:
    spec = {"a": {f"1.{minor}.0": {"b": "^2"} for minor in range(5)}, "b": {"1.0.0": {}}}
    explanation = explain(spec, {"a": "*"})
    assert explanation.startswith("Because every version of a depends on b ^2 which doesn't match any versions")


def test_empty_roots_give_an_empty_solution() -> None:
    solution = Resolver(InMemoryProvider()).resolve([])
    assert solution.modules == {} and solution.apis == {} and solution.versions == {}


def test_duplicate_and_overlapping_roots_are_intersected() -> None:
    spec = {"a": {"1.0.0": {}, "1.5.0": {}, "2.0.0": {}}}
    assert solve(spec, {"a": "^1"}) == {"a": "1.5.0"}
    provider = universe(spec)
    roots = [Dependency("a", "^1"), Dependency("a", "<1.5.0"), Dependency("a", "^1")]
    assert resolve(provider, roots).versions == {"a": Version(1, 0, 0)}


def test_the_reporter_hears_decisions_conflicts_and_the_end() -> None:
    class Recorder(Reporter):
        def __init__(self) -> None:
            self.events: list[str] = []

        def starting(self, roots: Sequence[Dependency]) -> None:
            self.events.append(f"start {len(roots)}")

        def decided(self, name: str, version: Version) -> None:
            self.events.append(f"{name} {version}")

        def conflict(self, incompatibility: Incompatibility) -> None:
            self.events.append("conflict")

        def learned(self, incompatibility: Incompatibility) -> None:
            self.events.append("learned")

        def backtracked(self, level: int) -> None:
            self.events.append(f"back {level}")

        def ending(self, solution: Solution) -> None:
            self.events.append("end")

    spec = {"foo": {"2.0.0": {"bar": "^1.0.0"}, "1.0.0": {}}, "bar": {"1.0.0": {"foo": "^1.0.0"}}}
    recorder = Recorder()
    Resolver(universe(spec), recorder).resolve(requirements({"foo": ">=1.0.0"}))
    assert recorder.events[0] == "start 1" and recorder.events[-1] == "end"
    assert "foo 2.0.0" in recorder.events and "conflict" in recorder.events and "back 1" in recorder.events
    assert recorder.events[-2] == "foo 1.0.0"


# --- APIs -----------------------------------------------------------------------------------------------------


def api_universe() -> InMemoryProvider:
    provider = InMemoryProvider()
    mail = "com.example/api/mail"
    echo = "org.dxos/api/echo"
    provider.add("app", "1.0.0", Metadata((Dependency("bridge", "^1"),), (Dependency(mail, "^1"),)))
    provider.add("bridge", "1.0.0", Metadata(provides=((mail, Version(1, 0, 0)),)))
    provider.add("bridge", "1.1.0", Metadata(provides=((mail, Version(1, 2, 0)),)))
    provider.add("indexer", "0.9.0", Metadata(requires=(Dependency(echo, "^0.1"),)))
    provider.add("indexer", "1.0.0", Metadata(requires=(Dependency(echo, "^0.2"),)))
    return provider


def test_a_required_api_is_met_by_a_module_in_the_graph() -> None:
    provider = api_universe()
    roots = [Dependency("app", "*")]
    solution = Resolver(provider).resolve(roots)
    verify(provider, roots, solution)
    binding = solution.apis["com.example/api/mail"]
    assert (binding.version, binding.provider) == (Version(1, 2, 0), "bridge")


def test_a_host_api_is_preferred_and_needs_no_module() -> None:
    provider = api_universe()
    roots = [Dependency("app", "*")]
    host = [("com.example/api/mail", Version(1, 5, 0))]
    solution = Resolver(provider).resolve(roots, host)
    verify(provider, roots, solution, host)
    assert solution.apis["com.example/api/mail"].provider is None
    assert solution.host_apis == (("com.example/api/mail", Version(1, 5, 0)),)


def test_the_host_api_version_steers_the_module_version() -> None:
    provider = api_universe()
    roots = [Dependency("indexer", "*")]
    host = [("org.dxos/api/echo", Version(0, 1, 3))]
    solution = Resolver(provider).resolve(roots, host)
    verify(provider, roots, solution, host)
    assert solution.versions == {"indexer": Version(0, 9, 0)}


def test_an_api_nobody_offers_is_explained() -> None:
    with pytest.raises(NoSolutionError) as raised:
        Resolver(api_universe()).resolve([Dependency("indexer", "1.0.0")])
    assert raised.value.explanation == (
        "Because indexer 1.0.0 requires org.dxos/api/echo ^0.2 which neither the host nor any module in the graph "
        "offers, indexer 1.0.0 is forbidden.\n"
        "So, because the request depends on indexer 1.0.0, version solving failed."
    )


def test_a_provider_read_in_an_abandoned_branch_is_added_when_nothing_else_offers_the_api() -> None:
    provider = InMemoryProvider()
    api = "com.example/api/store"
    provider.add("app", "1.0.0", Metadata((Dependency("lib", "*"),), (Dependency(api, "^1"),)))
    provider.add(
        "lib", "2.0.0", Metadata((Dependency("impl-a", "*"), Dependency("impl-b", "*"), Dependency("bad", "^2")))
    )
    provider.add("lib", "1.0.0")
    provider.add("bad", "1.0.0")
    provider.add("bad", "2.0.0", Metadata((Dependency("app", "^9"),)))
    provider.add("impl-a", "1.0.0", Metadata(provides=((api, Version(1, 0, 0)),)))
    provider.add("impl-b", "1.0.0", Metadata(provides=((api, Version(1, 0, 0)),)))
    roots = [Dependency("app", "*")]
    solution = Resolver(provider).resolve(roots)
    verify(provider, roots, solution)
    assert solution.versions == {"app": Version(1, 0, 0), "impl-a": Version(1, 0, 0), "lib": Version(1, 0, 0)}
    assert solution.apis[api].provider == "impl-a"


def test_a_failure_that_relied_on_unknown_providers_is_retried() -> None:
    class Restarts(Reporter):
        def __init__(self) -> None:
            self.reasons: list[str] = []

        def restarted(self, reason: str) -> None:
            self.reasons.append(reason)

    api = "com.example/api/store"
    provider = InMemoryProvider()
    provider.add("app", "1.0.0", Metadata(requires=(Dependency(api, "^1"),)))
    provider.add("app", "0.9.0", Metadata((Dependency("z", "*"), Dependency("w", "*"))))
    provider.add("z", "1.0.0", Metadata(provides=((api, Version(1, 0, 0)),)))
    provider.add("w", "1.0.0", Metadata((Dependency("z", "^2"),)))
    provider.add("w", "1.1.0", Metadata((Dependency("z", "^2"),)))
    reporter = Restarts()
    roots = [Dependency("app", "*")]
    solution = Resolver(provider, reporter).resolve(roots)
    verify(provider, roots, solution)
    assert reporter.reasons == ["modules providing a required API became known during the search"]
    assert solution.versions == {"app": Version(1, 0, 0), "z": Version(1, 0, 0)}
    assert solution.apis[api].provider == "z"


# --- random universes against brute force ---------------------------------------------------------------------

VERSIONS = ["1.0.0", "1.1.0", "2.0.0-beta.2", "2.0.0", "3.0.0"]
RANGES = ["*", "^1.0.0", "^2.0.0", "1.0.0", "2.0.0", ">=1.1.0", "<2.0.0", "~1.1.0", ">=2.0.0-beta.1 <2.0.0", "^2.0.0-0"]


@st.composite
def universes(draw: st.DrawFn) -> tuple[dict[str, dict[str, dict[str, str]]], list[tuple[str, str]], dict[str, str]]:
    names = [f"p{index}" for index in range(draw(st.integers(2, 4)))]
    spec: dict[str, dict[str, dict[str, str]]] = {}
    yanked = []
    for name in names:
        spec[name] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=4, unique=True)):
            others = [other for other in names if other != name]
            targets = draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
            spec[name][version] = {target: draw(st.sampled_from(RANGES)) for target in targets}
            if draw(st.integers(0, 9)) == 0:
                yanked.append((name, version))
    roots = {
        name: draw(st.sampled_from(RANGES))
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    }
    return spec, yanked, roots


def brute_force_exists(spec: Spec, yanked: Sequence[tuple[str, str]], roots: Mapping[str, str]) -> bool:
    pins = {(name, Range.parse(wanted).exact_version) for name, wanted in roots.items()}
    options = []
    for name, versions in spec.items():
        usable = [
            version for version in versions if (name, version) not in yanked or (name, Version.parse(version)) in pins
        ]
        options.append([None, *usable])
    for picked in itertools.product(*options):
        chosen = dict(zip(spec, picked, strict=True))
        if any(chosen.get(name) is None or not Range.parse(wanted).contains(Version.parse(chosen[name]))
               for name, wanted in roots.items()):  # fmt: skip
            continue
        if all(
            chosen.get(target) is not None and Range.parse(wanted).contains(Version.parse(chosen[target]))
            for name, version in chosen.items()
            if version is not None
            for target, wanted in spec[name][version].items()
        ):
            return True
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(universes())
def test_random_universes_agree_with_brute_force(
    case: tuple[dict[str, dict[str, dict[str, str]]], list[tuple[str, str]], dict[str, str]],
) -> None:
    spec, yanked, roots = case
    provider = universe(spec, yanked)
    wanted = requirements(roots)
    exists = brute_force_exists(spec, yanked, roots)
    try:
        solution = Resolver(provider).resolve(wanted)
    except NoSolutionError as error:
        assert not exists, f"a solution exists, yet: {error.explanation}"
        assert error.explanation.rstrip(".").endswith("version solving failed")
        return
    assert exists
    verify(provider, wanted, solution)


# --- the step budget ------------------------------------------------------------------------------------------


def pigeonholes(holes: int) -> tuple[InMemoryProvider, list[Dependency]]:
    """``holes + 1`` pigeons, each of whose versions sits in one hole: hole ``h`` at version ``1.p.0`` holds pigeon
    ``p``, and a hole holds one pigeon. No assignment works, and resolution proves it the hard way (every pair of
    pigeons fails separately), so the work grows quickly with the holes."""
    provider = InMemoryProvider()
    pigeons = range(holes + 1)
    for hole in range(holes):
        for pigeon in pigeons:
            provider.add(f"hole-{hole}", f"1.{pigeon}.0")
    for pigeon in pigeons:
        for hole in range(holes):
            provider.add(f"pigeon-{pigeon}", f"1.{hole}.0", Metadata((Dependency(f"hole-{hole}", f"1.{pigeon}.0"),)))
    return provider, [Dependency(f"pigeon-{pigeon}", "*") for pigeon in pigeons]


def test_a_search_beyond_its_budget_stops_with_a_coded_error() -> None:
    provider, roots = pigeonholes(5)
    with pytest.raises(ResolutionTooLargeError, match=r"^resolving these roots takes more than 1000 steps") as raised:
        Resolver(provider, max_steps=1000).resolve(roots)
    assert isinstance(raised.value, TooLargeError) and raised.value.code == "TOO_LARGE"
    assert not isinstance(raised.value, NoSolutionError) and raised.value.max_steps == 1000
    assert "fewer roots, narrower ranges or exact versions" in str(raised.value)
    with pytest.raises(NoSolutionError):
        Resolver(provider).resolve(roots)


def test_the_default_budget_refuses_a_pathological_search() -> None:
    provider, roots = pigeonholes(7)
    with pytest.raises(ResolutionTooLargeError, match=f"more than {DEFAULT_MAX_STEPS} steps"):
        resolve(provider, roots)


def test_resolutions_within_the_budget_are_unchanged() -> None:
    provider = universe(
        {
            "app": {"1.0.0": {"b": "^1", "c": "^1"}, "2.0.0": {"b": "^2", "c": "^1"}},
            "b": {"1.0.0": {}, "2.0.0": {"c": "^2"}},
            "c": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    roots = [Dependency("app", "*")]
    unbounded = Resolver(provider).resolve(roots)
    assert unbounded.versions == {"app": Version(1, 0, 0), "b": Version(1, 0, 0), "c": Version(1, 0, 0)}
    # This one takes 44 steps (it backtracks from app 2.0.0): with exactly those it finds the same solution.
    assert resolve(provider, roots, max_steps=44) == unbounded
    with pytest.raises(ResolutionTooLargeError, match="more than 43 steps"):
        resolve(provider, roots, max_steps=43)
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="max_steps must be a positive integer"):
            Resolver(provider, max_steps=bad)  # type: ignore[arg-type]


# --- reading a registry ---------------------------------------------------------------------------------------

A = "com.example/function/a"
B = "com.example/function/b"


async def test_prefetch_reads_a_registry_and_the_solution_carries_cids(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, B, "1.0.0", bundle)
    await publish(registry, key, B, "1.1.0", bundle)
    await publish(registry, key, A, "1.0.0", bundle, dependencies={B: "^1"})
    await registry.submit_entry(
        yank(DXN.parse(B), Version.parse("1.1.0"), "broken", key, await registry.log_head(B), now_ms()).block()[1]
    )
    provider = await prefetch(registry, [A], concurrency=2)
    assert provider.names() == [A, B]
    assert [(c.version, c.yanked) for c in provider.candidates(B)] == [
        (Version(1, 0, 0), False),
        (Version(1, 1, 0), True),
    ]
    roots = [Dependency.from_dxn(DXN.parse(A))]
    solution = Resolver(provider).resolve(roots)
    verify(provider, roots, solution)
    assert solution.versions == {A: Version(1, 0, 0), B: Version(1, 0, 0)}
    infos = {info.version: info for info in await registry.versions(DXN.parse(B))}
    assert solution.modules[B].record == infos["1.0.0"].record
    assert solution.modules[B].metadata.bundle == bundle.cid
    shallow = await prefetch(registry, [DXN.parse(A)], transitive=False)
    assert shallow.names() == [A]


async def test_prefetch_refuses_a_record_that_does_not_match_its_listing(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, A, "1.0.0", bundle)
    await publish(registry, key, B, "1.0.0", bundle)

    class Mislabelled:
        """A registry whose listing of a points at b's record, as a lying server might."""

        async def versions(self, dxn: DXN) -> Sequence[object]:
            return await registry.versions(DXN.parse(B))

        async def record(self, cid: CID) -> tuple[object, ModuleRecord]:
            return await registry.record(cid)

    with pytest.raises(RecordError, match=r"is for com\.example/function/b@1\.0\.0"):
        await prefetch(Mislabelled(), [A])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="concurrency"):
        await prefetch(registry, [A], concurrency=0)


# --- bad input ------------------------------------------------------------------------------------------------


def test_bad_dependencies_are_refused() -> None:
    with pytest.raises(RecordError, match="needs a package name"):
        Dependency("", "*")
    with pytest.raises(RecordError, match="reserved"):
        Dependency("api:x", "*")
    with pytest.raises(RecordError, match="reserved"):
        Dependency("(root)", "*")
    with pytest.raises(RecordError, match="must be a string"):
        Dependency("a", 1)  # type: ignore[arg-type]
    with pytest.raises(RangeError):
        Dependency("a", "^^1")
    with pytest.raises(NotFoundError, match="unknown tag 'beta'"):
        Dependency.from_dxn(DXN.parse("com.example/function/a@beta"))
    assert str(Dependency.from_dxn(DXN.parse("com.example/function/a"))) == "com.example/function/a@*"
    assert Dependency.from_dxn(DXN.parse("com.example/function/a@latest")).range == Range.any()
    assert Dependency.from_dxn(DXN.parse("com.example/function/a@1.2.3")).range.exact_version == Version(1, 2, 3)


def test_bad_metadata_and_candidates_are_refused() -> None:
    with pytest.raises(RecordError, match="dependencies must be a tuple of Dependency"):
        Metadata(dependencies=("a",))  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="requires must be a tuple of Dependency"):
        Metadata(requires=[Dependency("a", "*")])  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="provides must hold"):
        Metadata(provides=(("x", "1.0.0"),))  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="must be a Version"):
        Candidate("1.0.0")  # type: ignore[arg-type]


def test_the_in_memory_provider_refuses_duplicates_and_unknown_versions() -> None:
    provider = InMemoryProvider()
    provider.add("a", "1.0.0")
    with pytest.raises(ConflictError, match="added twice"):
        provider.add("a", Version(1, 0, 0))
    with pytest.raises(RecordError, match="needs a name"):
        provider.add("", "1.0.0")
    with pytest.raises(NotFoundError, match="not a known version"):
        provider.metadata("a", Version(2, 0, 0))
    assert provider.candidates("nothing") == ()


def test_bad_roots_and_host_apis_are_refused() -> None:
    resolver = Resolver(InMemoryProvider())
    with pytest.raises(RecordError, match="must be a Dependency"):
        resolver.resolve(["a@^1"])  # type: ignore[list-item]
    with pytest.raises(RecordError, match="host API"):
        resolver.resolve([], [("org.dxos/api/echo", "0.1.0")])  # type: ignore[list-item]


def test_from_record_keeps_specs_and_cids() -> None:
    bundle = CID.of(b"bundle", DAG_CBOR)
    record = ModuleRecord(
        dxn=DXN.parse(A),
        version=Version(1, 0, 0),
        runtime="wasi",
        bundle=bundle,
    )
    assert Metadata.from_record(record) == Metadata(bundle=bundle)
    echo, mail = "org.dxos/api/echo", "com.example/api/mail"
    record = ModuleRecord(
        dxn=DXN.parse(A),
        version=Version(1, 0, 0),
        runtime="wasi",
        bundle=bundle,
        provides=((DXN.parse(mail), Version(1, 2, 0)),),
        requires=(Requirement(dxn=DXN.parse(echo), spec="^0.1"),),
        dependencies=(Requirement(dxn=DXN.parse(B), spec="~1.2"),),
    )
    # Dependency equality compares the spec as written, so "~1.2" must survive, not a normalised range.
    assert Metadata.from_record(record) == Metadata(
        dependencies=(Dependency(B, "~1.2"),),
        requires=(Dependency(echo, "^0.1"),),
        provides=((mail, Version(1, 2, 0)),),
        bundle=bundle,
    )


# --- describing ranges ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("^1.2.0", "^1.2.0"),
        ("^0.2.3", "^0.2.3"),
        ("~1.2.0", "~1.2.0"),
        (">=1.1.0", ">=1.1.0"),
        ("<2.0.0", "<2.0.0"),
        ("1.2.3", "1.2.3"),
        ("*", "any"),
        (">=1.0.0 <1.5.0", ">=1.0.0 <1.5.0"),
        ("^1 || ^3", "^1.0.0 || ^3.0.0"),
        ("2.0.0-rc.1", "2.0.0-rc.1"),
    ],
)
def test_ranges_are_described_briefly(text: str, described: str) -> None:
    assert describe_range(Range.parse(text)) == described


def test_every_version_is_described_as_any() -> None:
    assert describe_range(ANY_VERSION) == "any"
