"""Export and import of every version of a module with several versions and a yank in between, from a data
directory and over HTTP (real services on 127.0.0.1): each export imports into an empty registry, which then
resolves the exported version with the yank status it has at home; both paths hand out the same CAR, and the
verifying HTTP client accepts it (docs/data-model.md, "Export")."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Final

from click.testing import CliRunner

from dmg.authoring.publisher import yank
from dmg.cli.main import cli
from dmg.client.http import HttpClient
from dmg.client.local import LocalClient
from dmg.client.verify import verified_export
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.car import read_car
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from dmg.service.settings import Settings
from tests.support.registries import claim_namespace, publish

X: Final = "com.example/function/x"
HISTORY: Final = (("release", "1.0.0"), ("release", "1.1.0"), ("yank", "1.1.0"), ("release", "1.2.0"))
"""The DXN log of X, after the namespace claim: 1.1.0 is yanked before 1.2.0 is released."""
CARRIED: Final = {"1.0.0": ["1.0.0"], "1.1.0": ["1.0.0", "1.1.0"], "1.2.0": ["1.0.0", "1.1.0", "1.2.0"]}
"""The versions an export of each version brings along: the log up to it, and the yank of 1.1.0 with 1.1.0."""
ENTRIES: Final = {"1.0.0": 2, "1.1.0": 4, "1.2.0": 5}
"""The claim and the DXN log prefix each export carries."""
LATEST: Final = {"1.0.0": "1.0.0", "1.1.0": "1.0.0", "1.2.0": "1.2.0"}
"""What the mirror then resolves X to: 1.1.0 is yanked there too."""


def bundle_of(wasm: bytes, version: str) -> Bundle:
    """A bundle of its own per version: the module with a custom section naming the version."""
    section = b"\x01v" + version.encode()  # the name "v", then the version as the section's payload
    return build_bundle(wasm + bytes([0, len(section)]) + section, "wasi")


async def write_history(data_dir: Path, key: SigningKey, wasm: bytes) -> dict[str, CID]:
    """The registry at ``data_dir`` with :data:`HISTORY`; the record CID of each version."""
    records: dict[str, CID] = {}
    async with await Registry.open(data_dir) as registry:
        await claim_namespace(registry, "com.example", key)
        for kind, version in HISTORY:
            if kind == "release":
                prepared = await publish(registry, key, X, version, bundle_of(wasm, version))
                records[version] = prepared.record_envelope.cid
            else:
                head = await registry.log_head(X)
                entry = yank(DXN.parse(X), Version.parse(version), "broken", key, head, now_ms())
                await registry.submit_entry(entry.block()[1])
    return records


def check_car(car: bytes, version: str, records: dict[str, CID]) -> None:
    """What the CAR of an export of ``version`` holds, as the verifying client reads it."""
    exported = verified_export(read_car(car), [DXN.parse(f"{X}@{version}")])
    assert [str(release.entry.version) for release in exported] == CARRIED[version]
    assert {str(release.entry.version): release.yanked for release in exported} == {
        carried: carried == "1.1.0" for carried in CARRIED[version]
    }
    assert {str(release.entry.version): release.entry.record for release in exported} == {
        carried: records[carried] for carried in CARRIED[version]
    }
    assert len(read_car(car).roots) == ENTRIES[version]


async def test_every_version_exported_from_a_data_directory_imports_into_an_empty_one(
    tmp_path: Path, key: SigningKey, wasm: bytes
) -> None:
    records = await write_history(tmp_path / "home", key, wasm)
    async with await Registry.open(tmp_path / "home") as registry:
        home = LocalClient(registry)
        for version in CARRIED:
            car = await home.export([DXN.parse(f"{X}@{version}")])
            check_car(car, version, records)
            async with await Registry.open(tmp_path / f"mirror-{version}") as mirror:
                result = await mirror.import_car(car)
                assert (result.entries_added, result.entries_known) == (ENTRIES[version], 0)
                resolved = await mirror.resolve(DXN.parse(f"{X}@{version}"))
                assert resolved.record == records[version] and resolved.yanked == (version == "1.1.0")
                assert [info.version for info in await mirror.versions(DXN.parse(X))] == CARRIED[version]
                assert str((await mirror.resolve(DXN.parse(X))).version) == LATEST[version]
                assert (await mirror.import_car(car)).entries_known == ENTRIES[version]
                assert (await mirror.fsck()).ok


async def test_every_version_exported_over_http_is_verified_and_imports_into_an_empty_service(
    tmp_path: Path, key: SigningKey, wasm: bytes
) -> None:
    records = await write_history(tmp_path / "home", key, wasm)
    settings = Settings(data_dir=tmp_path / "home", port=0, seed_samples=False)
    with BackgroundServer(settings) as url:
        async with HttpClient(url, timeout=10) as home, await Registry.open(tmp_path / "home") as registry:
            local = LocalClient(registry)
            for version in CARRIED:
                selected = [DXN.parse(f"{X}@{version}")]
                car = await home.export(selected)  # verified against the home registry's transparency log
                assert car == await local.export(selected)
                check_car(car, version, records)
                mirror_settings = Settings(data_dir=tmp_path / f"mirror-{version}", port=0, seed_samples=False)
                with BackgroundServer(mirror_settings) as mirror_url:
                    async with HttpClient(mirror_url, timeout=10) as mirror:
                        result = await mirror.import_car(car)
                        assert (result.entries_added, result.entries_known) == (ENTRIES[version], 0)
                        verified = await mirror.verify(DXN.parse(X), Version.parse(version))
                        assert verified.record == records[version] and verified.yanked == (version == "1.1.0")
                        assert str((await mirror.resolve(DXN.parse(X))).version) == LATEST[version]
                        assert [info.version for info in await mirror.versions(DXN.parse(X))] == CARRIED[version]


def test_dmg_export_of_a_later_version_over_http_then_import(tmp_path: Path, key: SigningKey, wasm: bytes) -> None:
    """The report of issue 18: ``dmg export X@1.1.0 --registry http://...`` refused the server's CAR."""
    records = asyncio.run(write_history(tmp_path / "home", key, wasm))
    car = tmp_path / "x.car"
    with BackgroundServer(Settings(data_dir=tmp_path / "home", port=0, seed_samples=False)) as url:
        exported = CliRunner().invoke(cli, ["export", f"{X}@1.1.0", "--registry", url, "--out", str(car)])
    assert exported.exit_code == 0, exported.output + exported.stderr
    mirror = str(tmp_path / "mirror")
    imported = CliRunner().invoke(cli, ["import", str(car), "--registry", mirror, "--json"])
    assert json.loads(imported.stdout)["entriesAdded"] == ENTRIES["1.1.0"]
    resolved = CliRunner().invoke(cli, ["resolve", f"{X}@1.1.0", "--registry", mirror, "--json"])
    answer = json.loads(resolved.stdout)
    assert answer["cid"] == str(records["1.1.0"]) and answer["yanked"] is True
