"""Compiled modules, keyed by bundle CID: compiled once, kept on disk, loaded into memory only while in use.

Compiling a module costs tens of milliseconds; deserializing its compiled artefact costs about a tenth of one. So
:meth:`ModuleCache.add` compiles a module once and writes the artefact to ``<directory>/wasmtime-<version>/<key>.cwasm``
(written whole, then renamed into place); :meth:`ModuleCache.get` maps it back (``Module.deserialize_file``) on
first use and keeps the most recently used :data:`DEFAULT_MAX_LOADED` in memory, each with its ``InstancePre`` on the
shared linker. An idle installed function therefore costs no compiled code in memory. Without a directory every
compiled module stays in memory.

A compiled artefact is trusted machine code: the directory must be the operator's own (it is created ``0700``).
Loaded artefacts are memory-mapped, so a file is only ever replaced (by rename), never rewritten in place.
The key is trusted too: the installer passes the CID of the bundle it verified. Artefacts from another wasmtime
version live in another subdirectory and are never loaded.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from importlib.metadata import version
from pathlib import Path
from typing import Final

import wasmtime

from dmg.core.errors import BundleError, NotFoundError

DEFAULT_MAX_LOADED: Final = 256
_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\Z")


class CompiledModule:
    """A module ready to instantiate: the wasmtime module, its pre-linked instance template, its export names and
    the bytes of linear memory it starts with."""

    __slots__ = ("exports", "initial_memory", "instance_pre", "key", "module")

    def __init__(self, key: str, module: wasmtime.Module, linker: wasmtime.Linker) -> None:
        self.key = key
        self.module = module
        self.exports = frozenset(export.name for export in module.exports)
        self.initial_memory = sum(
            export.type.limits.min * export.type.page_size
            for export in module.exports
            if isinstance(export.type, wasmtime.MemoryType)
        )
        try:
            self.instance_pre = linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as exc:
            wanted = ", ".join(f"{item.module}.{item.name}" for item in module.imports)
            raise BundleError(
                f"bundle {key} imports something the WASI runtime does not provide (it imports {wanted}): {exc}"
            ) from exc


class ModuleCache:
    """Compiles modules once and hands out :class:`CompiledModule` objects; safe to use from many threads."""

    def __init__(
        self,
        engine: wasmtime.Engine,
        linker: wasmtime.Linker,
        directory: str | os.PathLike[str] | None = None,
        *,
        max_loaded: int = DEFAULT_MAX_LOADED,
    ) -> None:
        self._engine = engine
        self._linker = linker
        self._directory = Path(directory) / f"wasmtime-{version('wasmtime')}" if directory is not None else None
        if self._directory is not None:
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._max_loaded = max_loaded
        self._loaded: OrderedDict[str, CompiledModule] = OrderedDict()
        self._lock = threading.Lock()

    def _artefact(self, key: str) -> Path | None:
        return self._directory / f"{key}.cwasm" if self._directory is not None else None

    def __contains__(self, key: str) -> bool:
        with self._lock:
            if key in self._loaded:
                return True
        artefact = self._artefact(key)
        return artefact is not None and artefact.exists()

    def add(self, key: str, wasm: bytes) -> None:
        """Compile ``wasm`` under ``key`` unless it is compiled already; :class:`BundleError` if it is not valid."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise BundleError(f"module key {key!r} must be a bundle CID (letters, digits, '.', '_', '-')")
        with self._lock:
            if key in self._loaded:
                return
        artefact = self._artefact(key)
        if artefact is not None and artefact.exists():
            try:
                self.get(key)
                return
            except BundleError:
                pass  # a stale or damaged artefact: compile afresh and replace it
        try:
            module = wasmtime.Module(self._engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise BundleError(f"bundle {key} is not a valid WebAssembly module: {exc}") from exc
        compiled = CompiledModule(key, module, self._linker)
        if artefact is not None:
            partial = artefact.with_suffix(f".{threading.get_ident()}.partial")
            partial.write_bytes(module.serialize())
            partial.replace(artefact)
        self._remember(compiled)

    def get(self, key: str) -> CompiledModule:
        """The compiled module under ``key``, loading its artefact if it is not in memory."""
        with self._lock:
            compiled = self._loaded.get(key)
            if compiled is not None:
                self._loaded.move_to_end(key)
                return compiled
        artefact = self._artefact(key)
        if artefact is None or not artefact.exists():
            raise NotFoundError(f"no compiled module {key!r}; add its bundle first")
        try:
            module = wasmtime.Module.deserialize_file(self._engine, str(artefact))
        except wasmtime.WasmtimeError as exc:
            detail = f"the compiled artefact {artefact} cannot be loaded ({exc}); add the bundle again"
            raise BundleError(detail) from exc
        compiled = CompiledModule(key, module, self._linker)
        self._remember(compiled)
        return compiled

    def _remember(self, compiled: CompiledModule) -> None:
        with self._lock:
            self._loaded[compiled.key] = compiled
            self._loaded.move_to_end(compiled.key)
            while self._directory is not None and len(self._loaded) > self._max_loaded:
                self._loaded.popitem(last=False)
