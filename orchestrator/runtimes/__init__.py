"""Runtimes that execute function modules: :mod:`~orchestrator.runtimes.wasi` runs WASI modules in wasmtime.

The public names of the WASI runtime are re-exported here.
"""

from orchestrator.runtimes.context import InvocationContext
from orchestrator.runtimes.grants import MAX_CALL_DEPTH, CallHandler, CallRequest, Grants
from orchestrator.runtimes.limits import LimitPolicy, Limits
from orchestrator.runtimes.network import AllowList
from orchestrator.runtimes.outcome import InvocationResult
from orchestrator.runtimes.storage import DataDirectory
from orchestrator.runtimes.wasi import InstalledModule, Mode, WasiRuntime

__all__ = [
    "MAX_CALL_DEPTH",
    "AllowList",
    "CallHandler",
    "CallRequest",
    "DataDirectory",
    "Grants",
    "InstalledModule",
    "InvocationContext",
    "InvocationResult",
    "LimitPolicy",
    "Limits",
    "Mode",
    "WasiRuntime",
]
