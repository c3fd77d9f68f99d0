"""The ``dmg.yml`` manifest a publisher writes, and the scaffold ``dmg init`` creates.

A manifest uses the top-level keys of a module record in the friendly forms people type: sizes like ``32MiB``,
durations like ``5s``, the bundle as a file path (relative to the manifest), dependencies as a DXN → range mapping.
``mode`` (``lambda`` or ``long-lived``), at the top level for the whole module or in a function's entry for that
function, goes into the record's ``mode`` (:class:`~dmg.core.records.Mode`; ``docs/abi.md``).
:meth:`Manifest.load` checks everything and names the key and the problem in every error
(``dmg.yml: resources.memory: '32 MB' is not a size``); :meth:`Manifest.to_record` produces the
:class:`~dmg.core.records.ModuleRecord` once the bundle's CID is known.

Reading the bundle file and chunking it is :mod:`dmg.core.bundle`'s job; signing is the publisher's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError, ManifestError, UnitError
from dmg.core.records import Mode, ModuleRecord
from dmg.core.units import parse_duration, parse_size

MANIFEST_NAME: Final = "dmg.yml"
TOP_LEVEL_KEYS: Final = (
    "name",
    "version",
    "description",
    "runtime",
    "mode",
    "bundle",
    "functions",
    "resources",
    "apis",
    "dependencies",
    "triggers",
)
MODES: Final = tuple(str(mode) for mode in Mode)
"""How the orchestrator runs a module's functions (see ``docs/abi.md``); without a ``mode``, each is a lambda."""
def parse_mode(value: Any, key: str) -> str:
    """``lambda`` or ``long-lived``, exactly."""
    if not isinstance(value, str) or value not in MODES:
        raise ManifestError(f"{key}: must be {' or '.join(map(repr, MODES))}, not {value!r}")
    return value


def _check_function_modes(functions: Any) -> None:
    """Check the ``mode`` of each entry of ``functions`` that has one (the record checks the rest of the entry)."""
    for index, function in enumerate(functions if isinstance(functions, list) else ()):
        if isinstance(function, dict) and "mode" in function:
            parse_mode(function["mode"], f"functions[{index}].mode")


def _unit(parse: Callable[[Any, str], int], value: Any, key: str) -> int:
    try:
        return parse(value, key)
    except UnitError as exc:
        raise ManifestError(str(exc)) from exc


def _resources(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ManifestError("resources: must be a mapping")
    out = dict(data)
    if "memory" in data:
        out["memory"] = _unit(parse_size, data["memory"], "resources.memory")
    if "storage" in data:
        out["storage"] = _unit(parse_size, data["storage"], "resources.storage")
    if "cpu" in data:
        cpu = data["cpu"]
        if not isinstance(cpu, dict):
            raise ManifestError("resources.cpu: must be a mapping such as {timeout: 5s}")
        out["cpu"] = dict(cpu)
        if "timeout" in cpu:
            out["cpu"]["timeout"] = _unit(parse_duration, cpu["timeout"], "resources.cpu.timeout")
    return out


@dataclass(frozen=True)
class Manifest:
    """A parsed ``dmg.yml``; ``fields`` holds the record fields except the bundle CID."""

    path: Path
    bundle_path: Path
    fields: dict[str, Any]

    @property
    def dxn(self) -> DXN:
        return DXN.parse(self.fields["dxn"])

    @property
    def version(self) -> str:
        return str(self.fields["version"])

    @property
    def runtime(self) -> str:
        return str(self.fields["runtime"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a manifest file (or ``dmg.yml`` inside a directory)."""
        file = Path(path)
        if file.is_dir():
            file = file / MANIFEST_NAME
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ManifestError(f"cannot read manifest {str(file)!r}: {exc.strerror}") from exc
        try:
            return cls.parse(text, file)
        except ManifestError as exc:
            raise ManifestError(f"{file.name}: {exc}") from exc

    @classmethod
    def parse(cls, text: str, path: Path) -> Manifest:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ManifestError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifestError("the manifest must be a mapping of keys such as name, version, runtime")
        unknown = sorted(set(map(str, data)) - set(TOP_LEVEL_KEYS))
        if unknown:
            raise ManifestError(f"{unknown[0]}: unknown key (known: {', '.join(TOP_LEVEL_KEYS)})")
        for key in ("name", "version", "runtime", "bundle"):
            if key not in data:
                raise ManifestError(f"{key}: missing")
            if not isinstance(data[key], str):
                raise ManifestError(f"{key}: must be a string (quote it), not {type(data[key]).__name__}")
        dependencies = data.get("dependencies") or {}
        if not isinstance(dependencies, dict):
            raise ManifestError("dependencies: must be a mapping of DXN to version range")
        _check_function_modes(data.get("functions"))
        fields: dict[str, Any] = {
            "type": ModuleRecord.TYPE,
            "dxn": data["name"],
            "version": data["version"],
            "description": data.get("description") or "",
            "runtime": data["runtime"],
            "functions": data.get("functions") or [],
            "resources": _resources(data.get("resources") or {}),
            "apis": data.get("apis") or {},
            "dependencies": {str(name): str(spec) for name, spec in dependencies.items()},
            "triggers": data.get("triggers") or [],
        }
        if "mode" in data:
            fields["mode"] = parse_mode(data["mode"], "mode")
        manifest = cls(path, (path.parent / data["bundle"]).resolve(), fields)
        manifest.to_record(CID.of(b"", RAW))
        return manifest

    def to_record(self, bundle: CID) -> ModuleRecord:
        """The module record for this manifest with ``bundle`` as its bundle CID."""
        try:
            return ModuleRecord.from_dict({**self.fields, "bundle": bundle})
        except DmgError as exc:
            raise ManifestError(_manifest_key(str(exc))) from exc


def _manifest_key(message: str) -> str:
    """Speak in manifest keys: the record calls the name ``dxn``, the manifest calls it ``name``."""
    return re.sub(r"^(module record: field 'dxn'|dxn)\b", "name", message)


def scaffold(name: DXN, version: str = "0.1.0") -> str:
    """The text of a new ``dmg.yml`` with every key, for a pure function (no storage, network or spaces)."""
    function = name.path[-1].replace("-", "_")
    return f"""\
# DMG module manifest. Publish with: dmg publish --key KEY --registry TARGET
name: {name.base}
version: {version}
description: A pure function that echoes its input
runtime: wasi                       # wasi | container
mode: lambda                        # lambda (a fresh instance per event) | long-lived (one kept across events)
bundle: build/{name.path[-1]}.wasm  # the WASI command to publish, chunked into blocks on publish
functions:
  - name: {function}
    description: Returns its input unchanged
    inputSchema: {{type: object}}
    outputSchema: {{type: object}}
resources:                          # what the orchestrator must grant; nothing more is available
  memory: 16MiB
  cpu: {{timeout: 1s}}
  storage: 0                        # bytes of /data; 0 = no storage
  network: {{allow: []}}              # host:port entries the function may reach
  spaces: none                      # none | read | read-write
apis:
  provides: []                      # e.g. com.example/api/thing@1.0.0
  requires: []                      # e.g. org.dxos/api/echo@^0.1
dependencies: {{}}                    # DXN: range, e.g. org.dxos/function/universal-indexer: ^1.2
triggers: []                        # e.g. - {{function: {function}, spec: {{kind: timer, cron: "*/5 * * * *"}}}}
"""
