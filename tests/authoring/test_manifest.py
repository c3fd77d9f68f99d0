from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dmg.authoring.manifest import MODES, TOP_LEVEL_KEYS, Manifest, parse_mode, scaffold
from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.errors import ManifestError
from dmg.core.records import TimerTrigger
from orchestrator.install import entry_modes
from orchestrator.runtimes.base import Mode

DESIGN_EXAMPLE = """
name: com.example/function/mail-bridge
version: 1.4.0
description: Mirrors an IMAP mailbox into a space
runtime: wasi
bundle: build/mail_bridge.wasm
functions:
  - name: sync
    description: Fetch new mail and write it to the space
    inputSchema: {type: object, properties: {mailbox: {type: string}}}
    outputSchema: {type: object}
resources:
  memory: 32MiB
  cpu: {timeout: 5s}
  storage: 10MiB
  network: {allow: ["imap.example.com:993"]}
  spaces: read-write
apis:
  provides: [com.example/api/mail@1.0.0]
  requires: [org.dxos/api/echo@^0.1]
dependencies:
  org.dxos/function/universal-indexer: ^1.2
triggers:
  - function: sync
    spec: {kind: timer, cron: "*/5 * * * *"}
    input: {mailbox: INBOX}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dmg.yml"
    path.write_text(text)
    return path


def test_design_example_parses(tmp_path: Path) -> None:
    manifest = Manifest.load(write(tmp_path, DESIGN_EXAMPLE))
    assert manifest.bundle_path == (tmp_path / "build" / "mail_bridge.wasm").resolve()
    record = manifest.to_record(CID.of(b"wasm", RAW))
    assert record.resources.memory == 32 * 1024 * 1024
    assert record.resources.cpu_timeout_ms == 5000
    assert record.resources.storage == 10 * 1024 * 1024
    assert record.resources.network == ("imap.example.com:993",)
    assert record.triggers[0].spec == TimerTrigger(cron="*/5 * * * *")
    assert str(record.dependencies[0].dxn) == "org.dxos/function/universal-indexer"


def test_directory_argument_finds_dmg_yml(tmp_path: Path) -> None:
    write(tmp_path, DESIGN_EXAMPLE)
    assert Manifest.load(tmp_path).version == "1.4.0"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("name"), "name: missing"),
        (lambda d: d.update(version=1.4), "version: must be a string"),
        (lambda d: d.update(colour="blue"), "colour: unknown key"),
        (lambda d: d["resources"].update(memory="32 megs"), "resources.memory: '32 megs' is not a size"),
        (lambda d: d["resources"].update(cpu={"timeout": "soon"}), "resources.cpu.timeout: 'soon' is not a duration"),
        (lambda d: d["resources"].update(cpu=5), "resources.cpu: must be a mapping"),
        (lambda d: d.update(runtime="jvm"), "runtime: must be one of"),
        (lambda d: d.update(name="Com.Example//x"), "name"),
        (lambda d: d.update(dependencies=["a"]), "dependencies: must be a mapping"),
        (lambda d: d["functions"][0].update(name="Bad Name"), "function name"),
        (lambda d: d.update(mode="batch"), "mode: must be 'lambda' or 'long-lived', not 'batch'"),
        (lambda d: d.update(mode=None), "mode: must be 'lambda' or 'long-lived', not None"),
        (lambda d: d.update(mode="Long-Lived"), "mode: must be 'lambda' or 'long-lived', not 'Long-Lived'"),
        (lambda d: d.update(mode=["lambda"]), r"mode: must be 'lambda' or 'long-lived', not \['lambda'\]"),
        (
            lambda d: d["functions"][0].update(mode="forever"),
            r"functions\[0\]\.mode: must be 'lambda' or 'long-lived', not 'forever'",
        ),
        (
            lambda d: d["functions"][0].update(mode=True),
            r"functions\[0\]\.mode: must be 'lambda' or 'long-lived', not True",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, edit: object, message: str) -> None:
    data = yaml.safe_load(DESIGN_EXAMPLE)
    edit(data)  # type: ignore[operator]
    with pytest.raises(ManifestError, match=message.replace("(", r"\(")) as caught:
        Manifest.load(write(tmp_path, yaml.safe_dump(data)))
    assert str(caught.value).startswith("dmg.yml: ")


def test_without_a_mode_the_record_has_none_and_every_function_is_a_lambda(tmp_path: Path) -> None:
    record = Manifest.load(write(tmp_path, DESIGN_EXAMPLE)).to_record(CID.of(b"wasm", RAW))
    assert "mode" not in record.to_dict()
    assert record.mode is None and record.functions[0].mode is None
    assert entry_modes(record) == {"sync": Mode.LAMBDA}


@pytest.mark.parametrize("mode", ["lambda", "long-lived"])
def test_a_top_level_mode_goes_into_the_record_for_every_function(tmp_path: Path, mode: str) -> None:
    data = yaml.safe_load(DESIGN_EXAMPLE)
    data["mode"] = mode
    data["functions"].append({"name": "flush", "description": "Write what is pending"})
    record = Manifest.load(write(tmp_path, yaml.safe_dump(data))).to_record(CID.of(b"wasm", RAW))
    assert record.mode is Mode(mode) and record.unrecognized_fields == {}
    assert record.to_dict()["mode"] == mode
    assert entry_modes(record) == {"sync": Mode(mode), "flush": Mode(mode)}


def test_a_function_mode_overrides_the_module_mode_for_that_function(tmp_path: Path) -> None:
    data = yaml.safe_load(DESIGN_EXAMPLE)
    data["mode"] = "long-lived"
    data["functions"].append({"name": "once", "mode": "lambda"})
    record = Manifest.load(write(tmp_path, yaml.safe_dump(data))).to_record(CID.of(b"wasm", RAW))
    assert record.functions[1].mode is Mode.LAMBDA
    assert record.functions[0].mode is None
    assert entry_modes(record) == {"sync": Mode.LONG_LIVED, "once": Mode.LAMBDA}


def test_the_mode_error_names_the_function_by_its_position(tmp_path: Path) -> None:
    data = yaml.safe_load(DESIGN_EXAMPLE)
    data["functions"].append({"name": "later", "mode": "sometimes"})
    with pytest.raises(ManifestError, match=r"^dmg.yml: functions\[1\]\.mode: must be 'lambda' or 'long-lived'"):
        Manifest.load(write(tmp_path, yaml.safe_dump(data)))


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not valid YAML"):
        Manifest.load(write(tmp_path, "name: [unclosed"))
    with pytest.raises(ManifestError, match="must be a mapping"):
        Manifest.load(write(tmp_path, "- a list"))
    with pytest.raises(ManifestError, match="cannot read manifest"):
        Manifest.load(tmp_path / "missing.yml")


def test_a_bad_size_names_its_key_as_a_manifest_error(tmp_path: Path) -> None:
    text = scaffold(DXN.parse("com.example/function/hello-world")).replace("memory: 16MiB", "memory: 1.5MiB")
    with pytest.raises(ManifestError, match=r"resources.memory: '1.5MiB' is not a size"):
        Manifest.load(write(tmp_path, text))


def test_scaffold_has_every_key_and_is_pure(tmp_path: Path) -> None:
    text = scaffold(DXN.parse("com.example/function/hello-world"))
    assert set(yaml.safe_load(text)) == set(TOP_LEVEL_KEYS)
    record = Manifest.load(write(tmp_path, text)).to_record(CID.of(b"x", RAW))
    assert record.resources.network == ()
    assert record.resources.spaces == "none"
    assert not record.resources.storage
    assert record.functions[0].name == "hello_world"
    assert record.mode is Mode.LAMBDA


def test_the_manifest_modes_are_the_orchestrators() -> None:
    assert tuple(str(mode) for mode in Mode) == MODES
    assert [parse_mode(mode, "k") for mode in MODES] == list(MODES)
