"""The dmg command end to end on real data directories: several commands in one flow, so named after none of
them (against registry services: tests/cli/test_remote.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import dmg, dmg_json


@pytest.fixture
def project(tmp_path: Path, wasm: bytes) -> Path:
    dmg("init", str(tmp_path / "hello"), "--name", "com.example/function/hello")
    (tmp_path / "hello" / "build").mkdir()
    (tmp_path / "hello" / "build" / "hello.wasm").write_bytes(wasm)
    return tmp_path / "hello"


def test_keygen_init_claim_publish_resolve_yank_export_import_fsck(tmp_path: Path, project: Path) -> None:
    registry = str(tmp_path / "registry")
    key = str(tmp_path / "publisher.key")
    did = dmg_json("keygen", "--out", key)["did"]  # type: ignore[index]
    assert did.startswith("did:key:z6Mk")
    claimed = dmg_json("namespace", "claim", "com.example", "--key", key, "--registry", registry)
    assert claimed["keys"] == [did]  # type: ignore[index]

    dry = dmg_json("publish", str(project / "dmg.yml"), "--key", key, "--registry", registry, "--dry-run")
    assert dry["dryRun"] is True  # type: ignore[index]
    assert dmg("resolve", "com.example/function/hello", "--registry", registry, ok=False).exit_code == 1

    published = dmg_json("publish", str(project / "dmg.yml"), "--key", key, "--registry", registry)
    assert published["dxn"] == "com.example/function/hello" and published["version"] == "0.1.0"  # type: ignore[index]
    assert published["cid"] == dry["cid"]  # the dry run signed the very record that was published  # type: ignore[index]

    resolved = dmg_json("resolve", "com.example/function/hello@^0.1", "--registry", registry)
    assert resolved["cid"] == published["cid"] and resolved["yanked"] is False  # type: ignore[index]

    dmg("yank", "com.example/function/hello@0.1.0", "--reason", "testing", "--key", key, "--registry", registry)
    rows = dmg_json("versions", "com.example/function/hello", "--registry", registry)
    assert rows == [  # type: ignore[comparison-overlap]
        {
            "cid": published["cid"],
            "publishedAt": rows[0]["publishedAt"],
            "publisher": did,  # type: ignore[index]
            "version": "0.1.0",
            "yanked": True,
            "yankReason": "testing",
        }
    ]
    dmg("unyank", "com.example/function/hello@0.1.0", "--key", key, "--registry", registry)

    car = str(tmp_path / "hello.car")
    dmg("export", "com.example/function/hello", "--registry", registry, "--out", car)
    imported = dmg_json("import", car, "--registry", str(tmp_path / "mirror"))
    # the claim, the release, and its later yank and unyank: the mirror has the version's yank status
    assert imported["entriesAdded"] == 4  # type: ignore[index]
    mirrored = dmg_json("resolve", "com.example/function/hello", "--registry", str(tmp_path / "mirror"))
    assert mirrored["cid"] == published["cid"]  # type: ignore[index]
    assert dmg_json("fsck", "--registry", registry)["ok"] is True  # type: ignore[index]


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = dmg("resolve", "Org.dxos//x", "--registry", str(tmp_path / "r"), ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("dmg: error: invalid DXN 'Org.dxos//x'")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    key = str(tmp_path / "k")
    dmg("keygen", "--out", key)
    result = dmg("keygen", "--out", key, ok=False)
    assert result.exit_code == 1 and "refusing to overwrite" in result.stderr


def test_yank_needs_an_exact_version(tmp_path: Path) -> None:
    key = str(tmp_path / "k")
    dmg("keygen", "--out", key)
    result = dmg(
        "yank", "com.example/function/x@^1", "--reason", "r", "--key", key, "--registry", str(tmp_path), ok=False
    )
    assert "name an exact version" in result.stderr


def test_publish_with_a_bad_manifest_names_the_key(tmp_path: Path, project: Path) -> None:
    manifest = project / "dmg.yml"
    manifest.write_text(manifest.read_text().replace("memory: 16MiB", "memory: lots"))
    key = str(tmp_path / "k")
    dmg("keygen", "--out", key)
    result = dmg("publish", str(manifest), "--key", key, "--registry", str(tmp_path / "r"), ok=False)
    assert "resources.memory: 'lots' is not a size" in result.stderr


def test_status_seeds_samples_once(tmp_path: Path) -> None:
    registry = str(tmp_path / "r")
    first = dmg_json("status", "--registry", registry)
    assert len(first["seeded"]) == 3  # type: ignore[index]
    second = dmg_json("status", "--registry", registry)
    assert second["seeded"] == [] and second["versions"] == 3  # type: ignore[index]
    greeter = dmg_json("resolve", "org.example/function/greeter", "--registry", registry)
    assert greeter["version"] == "0.1.0"  # type: ignore[index]


def test_console_script_runs(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "dmg", "resolve", "bad", "--registry", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("dmg: error: invalid DXN 'bad'")
