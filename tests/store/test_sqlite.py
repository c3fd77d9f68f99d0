"""The SQLite store's log states and block counting: states committed are the states loaded back, one at a time
or many at once (across the per-statement chunks), and a commit reports only the blocks it added."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType

import pytest

from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState
from dmg.core.semver import Version
from dmg.store.base import Commit, ReleaseRow, SearchDocument
from dmg.store.sqlite import SQLiteStore

OWNER = SigningKey.from_seed(b"o" * 32).public_key
TEAM = SigningKey.from_seed(b"t" * 32).public_key
GONE = SigningKey.from_seed(b"g" * 32).public_key


def cid(text: str) -> CID:
    return CID.of(text.encode(), RAW)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = await SQLiteStore.open(tmp_path)
    yield opened
    await opened.close()


def namespace_state(name: str) -> NamespaceState:
    return NamespaceState(
        name,
        LogHead(cid(f"{name} head"), 2, 1_000),
        MappingProxyType({OWNER: frozenset({"grant", "release", "yank"}), TEAM: frozenset({"release"})}),
        frozenset({GONE}),
        threshold=1,
    )


def dxn_commit(names: list[str], versions: list[str], yanked: str | None = None) -> Commit:
    """A commit of DXN logs, each with ``versions`` released and ``yanked`` (if given) yanked."""
    commit = Commit()
    for name in names:
        dxn = DXN.parse(name)
        released = {Version.parse(version): cid(f"{name}@{version}") for version in versions}
        reasons = {} if yanked is None else {Version.parse(yanked): "broken"}
        head = LogHead(cid(f"{name} head"), len(versions) - 1, 2_000)
        commit.dxn_logs[name] = DXNLogState(dxn, head, MappingProxyType(released), MappingProxyType(reasons))
        document = SearchDocument(name, "", "", ())
        commit.releases += [
            ReleaseRow(name, version, cid(f"{name}@{version}"), cid(f"{name}@{version} entry"), 2_000, "p", document)
            for version in versions
        ]
    return commit


async def test_namespace_states_load_back_alone_and_together(store: SQLiteStore) -> None:
    commit = Commit(namespaces={name: namespace_state(name) for name in ("com.a", "com.b")})
    await store.commit(commit)
    loaded = await store.load_namespaces(["com.a", "com.b", "com.unclaimed", "com.a"])
    assert loaded == {**commit.namespaces, "com.unclaimed": NamespaceState("com.unclaimed")}
    assert await store.load_namespace("com.b") == commit.namespaces["com.b"]
    assert not (await store.load_namespace("com.unclaimed")).claimed
    assert await store.load_namespaces([]) == {}


async def test_dxn_log_states_load_back_alone_and_together(store: SQLiteStore) -> None:
    commit = dxn_commit(["com.a/function/x", "com.a/function/y"], ["1.0.0", "1.1.0"], yanked="1.0.0")
    await store.commit(commit)
    never = DXN.parse("com.a/function/never")
    wanted = [DXN.parse("com.a/function/x"), DXN.parse("com.a/function/y"), never]
    assert await store.load_dxn_logs(wanted) == {**commit.dxn_logs, str(never): DXNLogState(never)}
    x = await store.load_dxn_log(DXN.parse("com.a/function/x"))
    assert x == commit.dxn_logs["com.a/function/x"] and x.yanked == {Version.parse("1.0.0"): "broken"}
    assert await store.load_dxn_logs([]) == {}


async def test_a_later_commit_of_a_log_clears_a_yank_it_no_longer_has(store: SQLiteStore) -> None:
    name = "com.a/function/x"
    await store.commit(dxn_commit([name], ["1.0.0", "1.1.0"], yanked="1.1.0"))
    unyanked = dxn_commit([name], ["1.0.0", "1.1.0"])
    unyanked.releases = []
    await store.commit(unyanked)
    assert [(info.version, info.yanked, info.yank_reason) for info in await store.versions(DXN.parse(name))] == [
        ("1.0.0", False, ""),
        ("1.1.0", False, ""),
    ]
    assert (await store.load_dxn_log(DXN.parse(name))).yanked == {}


async def test_many_logs_load_across_statement_chunks(store: SQLiteStore) -> None:
    names = [f"com.a/function/m{n}" for n in range(600)]
    commit = dxn_commit(names, ["0.1.0"])
    commit.namespaces = {f"com.n{n}": namespace_state(f"com.n{n}") for n in range(600)}
    await store.commit(commit)
    assert await store.load_dxn_logs(DXN.parse(name) for name in names) == commit.dxn_logs
    assert await store.load_namespaces(commit.namespaces) == commit.namespaces


async def test_commit_counts_only_new_blocks(store: SQLiteStore) -> None:
    first = [(cid("one"), b"one"), (cid("two"), b"two")]
    assert await store.commit(Commit(blocks=first)) == 2
    assert await store.commit(Commit(blocks=[*first, (cid("three"), b"three")])) == 1
    assert await store.commit(Commit(blocks=first)) == 0
    assert (await store.stats()).blocks == 3
