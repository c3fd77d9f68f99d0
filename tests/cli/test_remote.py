"""The dmg command against real registry services (uvicorn on 127.0.0.1), and ``search``/``show`` everywhere."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from dmg.cli.transfer import PROGRESS_THRESHOLD, TransferBar
from dmg.core.cid import write_varint
from dmg.service.server import BackgroundServer
from dmg.service.settings import Settings
from tests.support.cli import dmg, dmg_json

NAME = "com.example/function/hello"


def large_wasm(size: int) -> bytes:
    """A valid WebAssembly module of about ``size`` bytes: one memory and one active data segment filling it."""
    data = os.urandom(size)
    pages = size // 65536 + 1
    memory = b"\x01\x00" + write_varint(pages)
    segment = b"\x01\x00\x41\x00\x0b" + write_varint(size) + data  # one segment, memory 0, at i32.const 0

    def section(number: int, payload: bytes) -> bytes:
        return bytes([number]) + write_varint(len(payload)) + payload

    return b"\0asm\x01\x00\x00\x00" + section(5, memory) + section(11, segment)


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    with BackgroundServer(Settings(data_dir=tmp_path / "served", port=0, seed_samples=False)) as url:
        yield url


@pytest.fixture
def mirror_url(tmp_path: Path) -> Iterator[str]:
    with BackgroundServer(Settings(data_dir=tmp_path / "mirror", port=0, seed_samples=False)) as url:
        yield url


@pytest.fixture
def project(tmp_path: Path, wasm: bytes) -> Path:
    """A module at 0.1.0 (a tiny bundle) whose 0.2.0 manifest has a bundle of several chunks, a trigger and a
    dependency."""
    directory = tmp_path / "hello"
    dmg("init", str(directory), "--name", NAME)
    (directory / "build").mkdir()
    (directory / "build" / "hello.wasm").write_bytes(wasm)
    (directory / "build" / "large.wasm").write_bytes(large_wasm(PROGRESS_THRESHOLD + 500_000))
    manifest = (directory / "dmg.yml").read_text()
    (directory / "v2.yml").write_text(
        manifest.replace("version: 0.1.0", "version: 0.2.0")
        .replace("build/hello.wasm", "build/large.wasm")
        .replace("dependencies: {}", "dependencies: {com.example/function/base: ^1.2}")
        .replace("triggers: []", 'triggers: [{function: hello, spec: {kind: timer, cron: "*/5 * * * *"}}]')
    )
    return directory


def test_the_whole_flow_against_registry_services(
    tmp_path: Path, project: Path, registry_url: str, mirror_url: str
) -> None:
    key = str(tmp_path / "publisher.key")
    did = dmg_json("keygen", "--out", key)["did"]  # type: ignore[index]
    remote = {"DMG_REGISTRY": registry_url}
    claimed = dmg_json("namespace", "claim", "com.example", "--key", key, env=remote)
    assert claimed["keys"] == [did]  # type: ignore[index]

    first = dmg_json("publish", str(project / "dmg.yml"), "--key", key, "--registry", registry_url)
    second = dmg_json("publish", str(project / "v2.yml"), "--key", key, "--registry", registry_url)
    assert first["version"] == "0.1.0" and second["version"] == "0.2.0"  # type: ignore[index]
    assert second["bundleSize"] > PROGRESS_THRESHOLD  # type: ignore[index,operator]

    found = dmg_json("search", "echoes", "--registry", registry_url)
    assert found["total"] == 1 and found["hasNextPage"] is False  # type: ignore[index]
    assert found["hits"][0]["dxn"] == NAME and found["hits"][0]["version"] == "0.2.0"  # type: ignore[index]
    assert found["hits"][0]["cid"] == second["cid"]  # type: ignore[index]
    assert dmg_json("search", "nothing-like-this", "--registry", registry_url)["hits"] == []  # type: ignore[index]
    text = dmg("search", "hello", "--kind", "function", "--registry", registry_url).stdout
    assert text.startswith(f"{NAME}@0.2.0  A pure function that echoes its input\n1 of 1 modules")

    shown = dmg_json("show", f"{NAME}@^0.1", "--registry", registry_url)
    assert shown["version"] == "0.1.0" and shown["cid"] == first["cid"]  # type: ignore[index]
    assert shown["publisher"] == did and shown["yanked"] is False  # type: ignore[index]
    assert shown["functions"][0]["name"] == "hello"  # type: ignore[index]
    page = dmg("show", NAME, "--registry", registry_url).stdout
    assert page.startswith(f"{NAME}@0.2.0\n  A pure function that echoes its input\n  record     {second['cid']}")  # type: ignore[index]
    assert "dependencies\n  com.example/function/base ^1.2\n" in page
    assert 'triggers\n  hello on {"cron": "*/5 * * * *", "kind": "timer"}' in page
    assert "resources\n  memory   16 MiB\n  cpu      1000 ms per invocation\n  storage  0 B\n  spaces   none\n" in page

    resolved = dmg_json("resolve", NAME, "--registry", registry_url)
    assert resolved["cid"] == second["cid"]  # type: ignore[index]
    dmg("yank", f"{NAME}@0.2.0", "--reason", "too large", "--key", key, env=remote)
    assert dmg_json("resolve", NAME, env=remote)["version"] == "0.1.0"  # type: ignore[index]
    rows = dmg_json("versions", NAME, "--registry", registry_url)
    assert [(row["version"], row["yanked"], row["yankReason"]) for row in rows] == [  # type: ignore[attr-defined,index]
        ("0.1.0", False, ""),
        ("0.2.0", True, "too large"),
    ]
    assert "(yanked)" in dmg("show", f"{NAME}@0.2.0", "--registry", registry_url).stdout

    car = tmp_path / "hello.car"
    exported = dmg_json("export", f"{NAME}@0.2.0", NAME, "--registry", registry_url, "--out", str(car))
    assert exported["bytes"] == car.stat().st_size > PROGRESS_THRESHOLD  # type: ignore[index,operator]
    imported = dmg_json("import", str(car), "--registry", mirror_url)
    # the claim, both releases and the later yank of 0.2.0: the mirror knows 0.2.0 is yanked
    assert imported["entriesAdded"] == 4  # type: ignore[index]
    assert dmg_json("import", str(car), "--registry", mirror_url)["entriesKnown"] == 4  # type: ignore[index]
    mirrored = dmg_json("resolve", f"{NAME}@0.2.0", "--registry", mirror_url)
    assert mirrored["cid"] == second["cid"] and mirrored["yanked"] is True  # type: ignore[index]
    assert dmg_json("resolve", NAME, "--registry", mirror_url)["version"] == "0.1.0"  # type: ignore[index]
    assert dmg_json("show", f"{NAME}@0.1.0", "--registry", mirror_url)["cid"] == first["cid"]  # type: ignore[index]


def test_publish_errors_from_the_service_are_one_line(tmp_path: Path, project: Path, registry_url: str) -> None:
    key = str(tmp_path / "k")
    dmg("keygen", "--out", key)
    result = dmg("publish", str(project / "dmg.yml"), "--key", key, "--registry", registry_url, ok=False)
    assert result.exit_code == 1
    assert result.stderr == "dmg: error: namespace 'com.example' is not claimed; claim it before a release of " + (
        f"{NAME}@0.1.0\n"
    )
    dmg("namespace", "claim", "com.example", "--key", key, "--registry", registry_url)
    again = dmg("namespace", "claim", "com.example", "--key", key, "--registry", registry_url, ok=False)
    assert again.stderr.startswith("dmg: error: ") and "already claimed" in again.stderr


def test_show_and_search_name_what_is_missing(registry_url: str) -> None:
    result = dmg("show", f"{NAME}@1.0.0", "--registry", registry_url, ok=False)
    assert result.stderr == f"dmg: error: {NAME}@1.0.0 is not released in this registry\n"
    assert dmg("show", NAME, "--registry", registry_url, ok=False).stderr.startswith("dmg: error: ")
    assert dmg("search", "--registry", registry_url).stdout == "no modules found\n"
    bad = dmg("search", "--after", "not-a-cursor", "--registry", registry_url, ok=False)
    assert "is not one this registry gave out" in bad.stderr


def test_fsck_and_unreachable_registries_are_clear_errors(tmp_path: Path, registry_url: str) -> None:
    fsck = dmg("fsck", "--registry", registry_url, ok=False)
    assert (
        fsck.stderr == f"dmg: error: fsck runs on a local data directory, not on a registry service ({registry_url})\n"
    )
    gone = "http://127.0.0.1:9"
    result = dmg("resolve", NAME, "--registry", gone, ok=False)
    assert result.stderr.startswith(f"dmg: error: POST {gone}/graphql failed: ")


def test_search_and_show_on_a_local_data_directory(tmp_path: Path, project: Path) -> None:
    registry = str(tmp_path / "local")
    key = str(tmp_path / "k")
    dmg("keygen", "--out", key)
    dmg("namespace", "claim", "com.example", "--key", key, "--registry", registry)
    dmg("publish", str(project / "dmg.yml"), "--key", key, "--registry", registry)
    status = dmg_json("status", "--registry", registry)  # seeds three sample versions of two modules
    assert len(status["seeded"]) == 3  # type: ignore[index]

    everything = dmg_json("search", "--registry", registry, "--first", "2")
    assert everything["total"] == 3 and everything["hasNextPage"] is True  # type: ignore[index]
    rest = dmg_json("search", "--registry", registry, "--after", everything["endCursor"])  # type: ignore[index]
    names = [hit["dxn"] for hit in everything["hits"] + rest["hits"]]  # type: ignore[index,operator]
    assert sorted(names) == names and len(set(names)) == 3 and NAME in names
    assert [hit["dxn"] for hit in dmg_json("search", "echoes", "--registry", registry)["hits"]] == [NAME]  # type: ignore[index]
    only = dmg_json("search", "--namespace", "org.example", "--kind", "function", "--registry", registry)
    assert all(hit["dxn"].startswith("org.example/function/") for hit in only["hits"])  # type: ignore[index]

    shown = dmg_json("show", NAME, "--registry", registry)
    assert shown["version"] == "0.1.0" and shown["runtime"] == "wasi" and shown["yanked"] is False  # type: ignore[index]
    missing = dmg("show", f"{NAME}@2.0.0", "--registry", registry, ok=False)
    assert missing.stderr == f"dmg: error: {NAME}@2.0.0 was never released\n"
    assert "is not one this registry gave out" in dmg("search", "--after", "x", "--registry", registry, ok=False).stderr


def test_search_and_show_agree_between_local_and_remote(tmp_path: Path) -> None:
    data_dir = tmp_path / "samples"
    dmg("status", "--registry", str(data_dir))
    local_search = dmg_json("search", "greets", "--registry", str(data_dir))
    local_show = dmg_json("show", "org.example/function/greeter", "--registry", str(data_dir))
    with BackgroundServer(Settings(data_dir=data_dir, port=0, seed_samples=False)) as url:
        remote_search = dmg_json("search", "greets", "--registry", url)
        remote_show = dmg_json("show", "org.example/function/greeter", "--registry", url)
    assert local_search["hits"] == remote_search["hits"] and local_search["total"] == remote_search["total"]  # type: ignore[index]
    assert local_show == remote_show


def test_the_transfer_bar_appears_only_for_large_transfers() -> None:
    small_output = io.StringIO()
    small = TransferBar("uploading", Console(file=small_output, force_terminal=True, width=80))
    small.update(1000, 2000)
    small.close()
    assert small_output.getvalue() == ""

    large_output = io.StringIO()
    large = TransferBar("uploading", Console(file=large_output, force_terminal=True, width=80))
    large.update(1000, 3 * PROGRESS_THRESHOLD)
    large.update(3 * PROGRESS_THRESHOLD, 3 * PROGRESS_THRESHOLD)
    large.close()
    assert "uploading" in large_output.getvalue() and "3.0/3.0 MiB" in large_output.getvalue()
