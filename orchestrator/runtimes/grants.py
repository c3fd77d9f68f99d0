"""What the operator granted one installed function: its limits, storage, network and callable dependencies.

Capabilities are granted, never ambient: a function with default :class:`Grants` is pure (no files, no network, no
other functions, the operator's default limits). ``call`` is the orchestrator's callback that invokes a dependency
on the function's behalf; the runtime only lets a function reach the modules in ``dependencies`` through it, and
refuses a call from an invocation already :data:`MAX_CALL_DEPTH` calls deep, so a cycle of calls ends. The callback
receives a :class:`CallRequest` and returns the callee's output, or raises
:class:`~orchestrator.errors.InvocationError` when the callee fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from orchestrator.errors import GrantError
from orchestrator.runtimes.context import InvocationContext
from orchestrator.runtimes.limits import Limits
from orchestrator.runtimes.network import AllowList
from orchestrator.runtimes.storage import DataDirectory

MAX_CALL_DEPTH: Final = 8


@dataclass(frozen=True)
class CallRequest:
    """A function's request to call ``function`` of the dependency ``module`` with ``event``."""

    module: str
    function: str
    event: Any
    caller: InvocationContext


CallHandler = Callable[[CallRequest], Any]


@dataclass(frozen=True)
class Grants:
    """The capabilities and limits of one installed function."""

    limits: Limits = field(default_factory=Limits)
    storage: DataDirectory | None = None
    network: AllowList = field(default_factory=AllowList)
    dependencies: frozenset[str] = frozenset()
    call: CallHandler | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.limits, Limits):
            raise GrantError(f"grants.limits: must be Limits, not {type(self.limits).__name__}")
        if self.storage is not None and not isinstance(self.storage, DataDirectory):
            raise GrantError(f"grants.storage: must be a DataDirectory, not {type(self.storage).__name__}")
        if not isinstance(self.network, AllowList):
            raise GrantError("grants.network: must be an AllowList (use AllowList.parse([...]))")
        if isinstance(self.dependencies, str) or not all(isinstance(name, str) for name in self.dependencies):
            raise GrantError("grants.dependencies: must be a set of module names")
        object.__setattr__(self, "dependencies", frozenset(self.dependencies))
        if self.dependencies and self.call is None:
            raise GrantError("grants.call: dependencies are granted but no call handler reaches them")
