"""The WASI runtime: function modules of ``runtime: wasi``, run in wasmtime, in process.

:class:`~orchestrator.runtimes.wasi.runtime.WasiRuntime` is the
:class:`~orchestrator.runtimes.base.Runtime`; the other modules are its parts: the compiled-module cache
(``cache``), the sandbox each guest runs in (``sandbox``, ``stdio``, ``epoch``, ``poll``), the two modes
(``lambda_mode``, ``long_lived``), the ``dmg`` host imports (``abi``, ``hostcalls``, ``http``) and the mapping from
wasmtime's traps to failures (``outcome``). Everything that imports wasmtime lives here; the runtime-neutral types
it uses (grants, limits, storage, contexts, schemas) are in :mod:`orchestrator.runtimes`.
"""

from orchestrator.runtimes.wasi.runtime import InstalledModule, WasiRuntime

__all__ = ["InstalledModule", "WasiRuntime"]
