"""Lockfiles: the text format, parsing with typed errors, install order, and checks against a registry."""

from __future__ import annotations

import pytest

from dmg.authoring.publisher import yank
from dmg.core.bundle import Bundle
from dmg.core.cid import CID, DAG_CBOR, RAW
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import LockfileError
from dmg.core.keys import SigningKey
from dmg.core.lockfile import LockCheck, LockedApi, LockedModule, Lockfile, LockProblem
from dmg.core.resolver import Dependency, InMemoryProvider, Metadata, Resolver, prefetch
from dmg.core.semver import Version
from dmg.registry import Registry
from tests.support.registries import claim_namespace, publish

INBOX = "com.example/app/inbox"
BRIDGE = "com.example/function/mail-bridge"
ECHO = "org.dxos/api/echo"
MAIL = "com.example/api/mail"


def cid(text: str, codec: int = DAG_CBOR) -> CID:
    return CID.of(text.encode(), codec)


def registry_view(
    *, yanked: bool = False, bridge_record: str = "bridge", bridge_bundle: str = "bridge bundle"
) -> InMemoryProvider:
    """What a registry serves: inbox 1.2.3 needs the bridge and two APIs; the bridge provides one of them."""
    provider = InMemoryProvider()
    inbox = Metadata(
        (Dependency(BRIDGE, "^1.4"),),
        (Dependency(ECHO, "^0.1"), Dependency(MAIL, "^1")),
        bundle=cid("inbox bundle", RAW),
    )
    provider.add(INBOX, "1.2.3", inbox, record=cid("inbox"))
    bridge = Metadata(provides=((MAIL, Version(1, 0, 0)),), bundle=cid(bridge_bundle, RAW))
    provider.add(BRIDGE, "1.4.0", bridge, record=cid(bridge_record), yanked=yanked)
    return provider


def locked() -> Lockfile:
    solution = Resolver(registry_view()).resolve([Dependency(INBOX, "^1.2")], [(ECHO, Version(0, 1, 0))])
    return Lockfile.from_solution(solution)


TEXT = f"""\
# dmg.lock: the resolved module graph, written by `dmg lock`. Installing from it needs no resolution.
# Regenerate it rather than editing it; `dmg lock --check` compares it with the registry.
lock-version = 1
roots = [
    "{INBOX}@^1.2",
]
host-apis = [
    "{ECHO}@0.1.0",
]

[[module]]
dxn = "{INBOX}"
version = "1.2.3"
record = "{cid("inbox")}"
bundle = "{cid("inbox bundle", RAW)}"
dependencies = [
    "{BRIDGE}@^1.4",
]
requires = [
    "{MAIL}@^1",
    "{ECHO}@^0.1",
]

[[module]]
dxn = "{BRIDGE}"
version = "1.4.0"
record = "{cid("bridge")}"
bundle = "{cid("bridge bundle", RAW)}"

[[api]]
dxn = "{MAIL}"
version = "1.0.0"
provider = "{BRIDGE}"

[[api]]
dxn = "{ECHO}"
version = "0.1.0"
provider = "host"
"""


def test_the_text_is_sorted_one_value_a_line_and_round_trips() -> None:
    lock = locked()
    assert lock.to_text() == TEXT
    parsed = Lockfile.parse(TEXT)
    assert parsed == lock
    assert parsed.to_text() == TEXT


def test_the_locked_values() -> None:
    lock = locked()
    assert [str(module.dxn) for module in lock.modules] == [INBOX, BRIDGE]
    inbox = lock.by_name[INBOX]
    assert (inbox.version, inbox.record, inbox.bundle) == (Version(1, 2, 3), cid("inbox"), cid("inbox bundle", RAW))
    assert lock.apis == (
        LockedApi(DXN.parse(MAIL), Version(1, 0, 0), DXN.parse(BRIDGE)),
        LockedApi(DXN.parse(ECHO), Version(0, 1, 0), None),
    )
    assert lock.host_apis == ((DXN.parse(ECHO), Version(0, 1, 0)),)


def test_install_order_needs_no_resolution() -> None:
    lock = Lockfile.parse(TEXT)
    assert [[str(module.dxn) for module in step] for step in lock.install_order()] == [[BRIDGE], [INBOX]]
    assert lock.graph().edges[INBOX, BRIDGE] == {"range": "^1.4", "kind": "dependency"}


def test_a_yanked_pin_is_written_and_read_back() -> None:
    provider = registry_view(yanked=True)
    roots = [Dependency(INBOX, "1.2.3"), Dependency(BRIDGE, "1.4.0")]
    solution = Resolver(provider).resolve(roots, [(ECHO, Version(0, 1, 0))])
    lock = Lockfile.from_solution(solution)
    assert "yanked = true" in lock.to_text()
    assert Lockfile.parse(lock.to_text()).by_name[BRIDGE].yanked
    assert lock.check(provider).ok


def test_check_passes_while_the_registry_still_matches() -> None:
    assert locked().check(registry_view()) == LockCheck()


@pytest.mark.parametrize(
    ("view", "kind", "detail"),
    [
        (registry_view(yanked=True), "yanked", "this version has been yanked"),
        (registry_view(bridge_record="republished"), "record-changed", f"the record is now {cid('republished')}"),
        (registry_view(bridge_bundle="rebuilt"), "bundle-changed", f"the bundle is now {cid('rebuilt', RAW)}"),
    ],
)
def test_check_reports_what_changed(view: InMemoryProvider, kind: str, detail: str) -> None:
    (problem,) = locked().check(view).problems
    assert (str(problem.dxn), problem.version, problem.kind) == (BRIDGE, Version(1, 4, 0), kind)
    assert str(problem).startswith(f"{BRIDGE}@1.4.0: {detail}")


def test_check_reports_a_missing_version() -> None:
    provider = InMemoryProvider()
    provider.add(INBOX, "1.2.3", Metadata(bundle=cid("inbox bundle", RAW)), record=cid("inbox"))
    check = locked().check(provider)
    assert not check.ok
    assert check.problems == (
        LockProblem(DXN.parse(BRIDGE), Version(1, 4, 0), "missing", "this version is not released"),
    )


async def test_check_against_a_real_registry(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    app, lib = "com.example/function/app", "com.example/function/lib"
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, lib, "1.0.0", bundle)
    await publish(registry, key, app, "1.0.0", bundle, dependencies={lib: "^1"})
    provider = await prefetch(registry, [app])
    lock = Lockfile.from_solution(Resolver(provider).resolve([Dependency(app, "*")]))
    assert [str(module.dxn) for step in lock.install_order() for module in step] == [lib, app]
    assert (await lock.check_registry(registry)).ok
    entry = yank(DXN.parse(lib), Version(1, 0, 0), "leaks", key, await registry.log_head(lib), now_ms())
    await registry.submit_entry(entry.block()[1])
    (problem,) = (await lock.check_registry(registry)).problems
    assert (str(problem.dxn), problem.kind) == (lib, "yanked")


def test_a_solution_without_cids_cannot_be_locked() -> None:
    provider = InMemoryProvider()
    provider.add(INBOX, "1.0.0")
    with pytest.raises(LockfileError, match="has no record or bundle CID"):
        Lockfile.from_solution(Resolver(provider).resolve([Dependency(INBOX, "*")]))
    provider.add("plain", "1.0.0", Metadata(bundle=cid("b", RAW)), record=cid("r"))
    with pytest.raises(LockfileError, match="plain"):
        Lockfile.from_solution(Resolver(provider).resolve([Dependency("plain", "*")]))


def replace(old: str, new: str) -> str:
    assert old in TEXT
    return TEXT.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lock-version = 1\nroots = ]\n", "dmg.lock is not valid: .*line 2"),
        ("roots = []\n", "missing key 'lock-version'"),
        ("lock-version = 2\n", "lock-version 2 is not supported"),
        ("lock-version = true\n", "'lock-version' must be an integer"),
        ("lock-version = 1\nextra = 1\n", "unknown key 'extra'"),
        ("lock-version = 1\nroots = 'x'\n", "'roots' must be an array"),
        ("lock-version = 1\nmodule = 3\n", "'module' must be an array"),
        ("lock-version = 1\nmodule = [3]\n", r"module\[0\]: must be a table"),
        ("lock-version = 1\nhost-apis = ['org.dxos/api/echo']\n", "must be an API with its version"),
        (replace('version = "1.4.0"', 'version = "1.4"'), r"module\[1\]\.version: invalid version"),
        (replace(f'dxn = "{BRIDGE}"', 'dxn = "Not A DXN"'), r"module\[1\]\.dxn: invalid DXN"),
        (replace(f'dxn = "{BRIDGE}"', f'dxn = "{BRIDGE}@1.4.0"'), "must not carry an @version"),
        (replace(f'dxn = "{BRIDGE}"', "dxn = 7"), "must be a DXN string"),
        (replace(f'record = "{cid("bridge")}"', 'record = "bafynotacid"'), r"module\[1\]\.record"),
        (replace(f'record = "{cid("bridge")}"\n', ""), r"module\[1\]: missing key 'record'"),
        (replace(f'record = "{cid("bridge")}"', 'record = "x"\nsize = 3'), r"module\[1\]: unknown key 'size'"),
        (replace('version = "1.4.0"', 'version = "1.4.0"\nyanked = "no"'), "'yanked' must be true or false"),
        (replace(f'"{BRIDGE}@^1.4"', f'"{BRIDGE}"'), "must be a requirement like name@range"),
        (replace(f'"{BRIDGE}@^1.4"', f'"{BRIDGE}@latest"'), r"dependencies\[0\]"),
        (
            replace(f'"{BRIDGE}@^1.4"', f'"{BRIDGE}@^2"'),
            "needs com.example/function/mail-bridge@\\^2, but it is locked at 1.4.0",
        ),
        (replace(f'"{BRIDGE}@^1.4"', '"com.example/function/ghost@^1"'), "ghost@\\^1, which is not locked"),
        (replace(f'"{INBOX}@^1.2"', f'"{INBOX}@^2"'), "the roots need"),
        (replace(f'"{ECHO}@^0.1"', f'"{ECHO}@^0.2"'), "requires org.dxos/api/echo@\\^0.2 but it is bound at 0.1.0"),
        (replace(f'"{ECHO}@^0.1"', '"org.dxos/api/other@^0.1"'), "org.dxos/api/other@\\^0.1 but it is not bound"),
        (replace(f'provider = "{BRIDGE}"', 'provider = "com.example/function/ghost"'), "which is not locked"),
        (replace(f'"{ECHO}@0.1.0",', f'"{ECHO}@0.2.0",'), "bound to the host, which does not offer it"),
        (replace(f'dxn = "{BRIDGE}"', f'dxn = "{INBOX}"'), "is locked twice"),
        (replace(f'dxn = "{MAIL}"', f'dxn = "{ECHO}"'), "is bound twice"),
    ],
)
def test_bad_lockfiles_are_refused_with_where_and_why(text: str, message: str) -> None:
    with pytest.raises(LockfileError, match=message):
        Lockfile.parse(text)


def test_only_text_is_parsed() -> None:
    with pytest.raises(LockfileError, match="must be text, not bytes"):
        Lockfile.parse(TEXT.encode())  # type: ignore[arg-type]


def test_a_minimal_lockfile() -> None:
    lock = Lockfile.parse("lock-version = 1\n")
    assert lock == Lockfile((), ())
    assert lock.install_order() == []
    assert lock.to_text().endswith("lock-version = 1\nroots = []\nhost-apis = []\n")


def test_modules_are_sorted_whatever_the_order_given() -> None:
    first = LockedModule(DXN.parse("a.test/function/z"), Version(1, 0, 0), cid("z"), cid("zb", RAW))
    second = LockedModule(DXN.parse("a.test/function/a"), Version(1, 0, 0), cid("a"), cid("ab", RAW))
    assert Lockfile((), (first, second)) == Lockfile((), (second, first))
    assert Lockfile((), (first, second)).to_text().index("function/a") < Lockfile((), (first, second)).to_text().index(
        "function/z"
    )
