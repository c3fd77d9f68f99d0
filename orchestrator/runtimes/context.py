"""The context of one invocation: which function runs, for which agent, and under which invocation id.

It is handed to the function as ``context`` in the invocation JSON (``{"function", "module", "invocationId",
"agent", ...}``) and to a :data:`~orchestrator.runtimes.grants.CallHandler` as the caller of a nested call. ``depth``
counts nested calls (0 for an invocation from outside) so that a cycle of calls ends; it is not shown to functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from orchestrator.errors import GrantError

RESERVED_KEYS: Final = frozenset({"function", "module", "invocationId", "agent"})


def new_invocation_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class InvocationContext:
    """Who is invoking what; ``extra`` adds fields to the context a function sees (e.g. the trigger)."""

    module: str
    function: str
    invocation_id: str = field(default_factory=new_invocation_id)
    agent: Any = None
    depth: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(RESERVED_KEYS & set(self.extra))
        if clash:
            raise GrantError(f"context: {clash[0]!r} is set by the runtime and cannot be given as an extra field")

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "module": self.module,
            "invocationId": self.invocation_id,
            "agent": self.agent,
            **self.extra,
        }
