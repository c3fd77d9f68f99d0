"""``dmg lock`` and ``dmg lock --check`` on a data directory and against a registry service: the written lockfile
(exact text, stable across runs), checks that pass, then fail naming a yanked or missing version, and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dmg.core.bundle import Bundle
from dmg.core.lockfile import Lockfile
from dmg.service.server import BackgroundServer
from tests.support.cli import dmg
from tests.support.graphs import BRIDGE, BROKEN, CYC_A, CYC_B, ECHO, HOST, INBOX, LIB, MAIL, PUBLISHER, populate
from tests.support.servers import server_settings


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    path = tmp_path / "publisher.key"
    PUBLISHER.save(path)
    return str(path)


@pytest.fixture
def published(tmp_path: Path, bundle: Bundle) -> tuple[Path, dict[str, str]]:
    data_dir = tmp_path / "registry"
    return data_dir, populate(data_dir, bundle)


@pytest.fixture
def registry_url(tmp_path: Path, bundle: Bundle) -> Iterator[str]:
    data_dir = tmp_path / "served"
    populate(data_dir, bundle)
    with BackgroundServer(server_settings(data_dir)) as url:
        yield url


def expected_lockfile(cids: dict[str, str], bundle: Bundle) -> str:
    def module(name: str, dependencies: list[str], requires: tuple[str, ...] = ()) -> str:
        lines = [
            "",
            "[[module]]",
            f'dxn = "{name}"',
            'version = "1.0.0"',
            f'record = "{cids[name + "@1.0.0"]}"',
            f'bundle = "{bundle.cid}"',
        ]
        for key, items in (("dependencies", tuple(dependencies)), ("requires", requires)):
            if items:
                lines += [f"{key} = [", *(f'    "{item}",' for item in items), "]"]
        return "\n".join(lines) + "\n"

    return (
        "# dmg.lock: the resolved module graph, written by `dmg lock`. Installing from it needs no resolution.\n"
        "# Regenerate it rather than editing it; `dmg lock --check` compares it with the registry.\n"
        "lock-version = 1\n"
        f'roots = [\n    "{INBOX}@^1",\n]\n'
        f'host-apis = [\n    "{ECHO}@0.1.0",\n]\n'
        + module(INBOX, [f"{CYC_A}@^1", f"{LIB}@^1"], (f"{MAIL}@^1", f"{ECHO}@^0.1"))
        + module(BRIDGE, [f"{LIB}@^1.0"])
        + module(CYC_A, [f"{CYC_B}@^1"])
        + module(CYC_B, [f"{BRIDGE}@^1", f"{CYC_A}@^1"])
        + module(LIB, [])
        + f'\n[[api]]\ndxn = "{MAIL}"\nversion = "1.0.0"\nprovider = "{BRIDGE}"\n'
        + f'\n[[api]]\ndxn = "{ECHO}"\nversion = "0.1.0"\nprovider = "host"\n'
    )


def test_lock_check_then_yank_a_locked_version(
    tmp_path: Path, published: tuple[Path, dict[str, str]], bundle: Bundle, key_file: str
) -> None:
    data_dir, cids = published
    registry = str(data_dir)
    path = tmp_path / "dmg.lock"
    written = dmg("lock", f"{INBOX}@^1", "--host-api", HOST[0], "--out", str(path), "--registry", registry)
    assert written.stdout.splitlines() == [
        f"locked 5 modules in {path}",
        *(f"  {name}@1.0.0" for name in (INBOX, BRIDGE, CYC_A, CYC_B, LIB)),
    ]
    text = path.read_text()
    assert text == expected_lockfile(cids, bundle)
    assert not (tmp_path / "dmg.lock.partial").exists()
    again = dmg("lock", f"{INBOX}@^1", "--host-api", HOST[0], "--out", str(path), "--registry", registry, "--json")
    assert path.read_text() == text
    assert json.loads(again.stdout)["installOrder"] == [[LIB], [BRIDGE], [CYC_A, CYC_B], [INBOX]]

    checked = dmg("lock", "--check", "--out", str(path), "--registry", registry)
    assert checked.stdout == f"{path} matches the registry (5 modules)\n"

    dmg("yank", f"{LIB}@1.0.0", "--reason", "leaks memory", "--key", key_file, "--registry", registry)
    failed = dmg("lock", "--check", "--out", str(path), "--registry", registry, ok=False)
    assert failed.exit_code == 1 and failed.stdout == ""
    assert failed.stderr == (
        f"dmg: error: {path} no longer matches the registry:\n  {LIB}@1.0.0: this version has been yanked\n"
    )
    as_json = dmg("lock", "--check", "--out", str(path), "--registry", registry, "--json", ok=False)
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "path": str(path),
        "ok": False,
        "modules": 5,
        "problems": [
            {"dxn": LIB, "version": "1.0.0", "kind": "yanked", "detail": "this version has been yanked"},
        ],
    }

    relock = dmg("lock", f"{INBOX}@^1", "--host-api", HOST[0], "--out", str(path), "--registry", registry, ok=False)
    assert relock.exit_code == 1 and "which matches only yanked versions" in relock.stderr
    assert path.read_text() == text


def test_a_registry_without_the_locked_versions_fails_the_check(
    tmp_path: Path, published: tuple[Path, dict[str, str]]
) -> None:
    data_dir, _ = published
    path = tmp_path / "dmg.lock"
    dmg("lock", LIB, "--out", str(path), "--registry", str(data_dir))
    empty = tmp_path / "empty"
    failed = dmg("lock", "--check", "--out", str(path), "--registry", str(empty), ok=False)
    assert failed.stderr == (
        f"dmg: error: {path} no longer matches the registry:\n  {LIB}@1.0.0: this version is not released\n"
    )


def test_lock_and_check_against_a_registry_service(
    tmp_path: Path, registry_url: str, bundle: Bundle, key_file: str
) -> None:
    path = tmp_path / "dmg.lock"
    dmg("lock", f"{INBOX}@^1", "--host-api", HOST[0], "-o", str(path), "--registry", registry_url)
    locked = Lockfile.parse(path.read_text())
    assert [(str(module.dxn), str(module.version)) for module in locked.modules] == [
        (name, "1.0.0") for name in (INBOX, BRIDGE, CYC_A, CYC_B, LIB)
    ]
    assert {str(module.bundle) for module in locked.modules} == {str(bundle.cid)}
    dmg("lock", "--check", "-o", str(path), "--registry", registry_url)
    dmg("yank", f"{CYC_B}@1.0.0", "--reason", "cycle trouble", "--key", key_file, "--registry", registry_url)
    failed = dmg("lock", "--check", "-o", str(path), "--registry", registry_url, ok=False)
    assert failed.exit_code == 1
    assert f"  {CYC_B}@1.0.0: this version has been yanked" in failed.stderr.splitlines()


def test_a_root_pinning_a_yanked_version_is_locked_as_yanked_and_checks(
    tmp_path: Path, published: tuple[Path, dict[str, str]]
) -> None:
    data_dir, cids = published
    path = tmp_path / "dmg.lock"
    dmg("lock", f"{LIB}@1.1.0", "--out", str(path), "--registry", str(data_dir))
    (module,) = Lockfile.parse(path.read_text()).modules
    assert module.yanked and str(module.record) == cids[f"{LIB}@1.1.0"]
    assert "yanked = true\n" in path.read_text()
    dmg("lock", "--check", "--out", str(path), "--registry", str(data_dir))


def test_unsatisfiable_roots_explain_and_write_nothing(tmp_path: Path, published: tuple[Path, dict[str, str]]) -> None:
    data_dir, _ = published
    path = tmp_path / "dmg.lock"
    failed = dmg("lock", BROKEN, "--out", str(path), "--registry", str(data_dir), ok=False)
    assert failed.exit_code == 1
    assert failed.stderr == (
        f"dmg: error: Because {BROKEN} 1.0.0 depends on {LIB} ^1.1 which matches only yanked versions, "
        f"{BROKEN} 1.0.0 is forbidden.\nSo, because the request depends on {BROKEN}, version solving failed.\n"
    )
    assert not path.exists()


def test_bad_invocations_and_lockfiles_are_refused(tmp_path: Path, published: tuple[Path, dict[str, str]]) -> None:
    registry = str(published[0])
    path = tmp_path / "dmg.lock"

    def refused(*args: str) -> str:
        result = dmg("lock", *args, "--registry", registry, ok=False)
        assert result.exit_code == 1 and result.stdout == ""
        return result.stderr

    assert (
        refused("--out", str(path))
        == "dmg: error: name the modules to lock, e.g. dmg lock com.example/app/inbox@^1.2\n"
    )
    assert refused("--check", INBOX, "--out", str(path)).startswith("dmg: error: --check reads the roots")
    assert refused("--check", "--host-api", HOST[0], "--out", str(path)).startswith("dmg: error: --check reads")
    assert refused("--check", "--out", str(path)) == (
        f"dmg: error: {path} does not exist: write it first with dmg lock DXN[@RANGE]...\n"
    )
    path.write_text("lock-version = 2\n")
    assert refused("--check", "--out", str(path)) == (
        "dmg: error: dmg.lock: lock-version 2 is not supported (this dmg reads 1)\n"
    )
    path.write_bytes(b"\xff\xfe")
    assert refused("--check", "--out", str(path)).startswith(f"dmg: error: {path} cannot be read: ")
    assert refused(INBOX, "--host-api", ECHO, "--out", str(path)) == (
        f"dmg: error: host API '{ECHO}' must name the exact version the host offers, like {ECHO}@1.0.0\n"
    )
    assert path.read_bytes() == b"\xff\xfe"
