"""Runtimes that execute function modules, and the runtime-neutral types they share.

:mod:`~orchestrator.runtimes.base` is what the orchestrator asks of a runtime (the :class:`Runtime` protocol,
:class:`Mode`, :class:`InvocationResult`); the sibling modules define what it hands one: grants, limits, the
network allow-list, the storage directory, the invocation and agent contexts, the functions' schema contracts.
Each kind of runtime is a package of its own: :mod:`orchestrator.runtimes.wasi` runs WASI modules in wasmtime.
Importing this package loads no engine: the neutral names are re-exported here, a runtime's from its package.
"""

from orchestrator.runtimes.base import Binding, InvocationResult, Mode, Runtime, runtime_for
from orchestrator.runtimes.context import AgentContext, InvocationContext
from orchestrator.runtimes.grants import MAX_CALL_DEPTH, CallHandler, CallRequest, Grants
from orchestrator.runtimes.limits import LimitPolicy, Limits
from orchestrator.runtimes.network import AllowList
from orchestrator.runtimes.storage import DataDirectory

__all__ = [
    "MAX_CALL_DEPTH",
    "AgentContext",
    "AllowList",
    "Binding",
    "CallHandler",
    "CallRequest",
    "DataDirectory",
    "Grants",
    "InvocationContext",
    "InvocationResult",
    "LimitPolicy",
    "Limits",
    "Mode",
    "Runtime",
    "runtime_for",
]
