"""The context of one invocation: which function runs, for which agent, and under which invocation id.

It is handed to the function as ``context`` in the invocation JSON (``{"function", "module", "invocationId",
"agent", ...}``) and to a :data:`~orchestrator.runtimes.grants.CallHandler` as the caller of a nested call. ``depth``
counts nested calls (0 for an invocation from outside) so that a cycle of calls ends; it is not shown to functions.
The agent is an :class:`AgentContext`, shown as ``{"did", "name", "spaces"}``, or ``null`` when the invocation acts
for no agent; a nested call acts for its caller's agent. Neither type knows how a runtime delivers them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from orchestrator.errors import GrantError

RESERVED_KEYS: Final = frozenset({"function", "module", "invocationId", "agent"})


@dataclass(frozen=True)
class AgentContext:
    """The agent an invocation acts for: its DID, its name for people, and the spaces it acts in."""

    did: str
    name: str
    spaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.did, str) or not self.did.startswith("did:"):
            raise GrantError(f"agent.did: must be a DID such as 'did:key:z6Mk...', not {self.did!r}")
        if not isinstance(self.name, str):
            raise GrantError(f"agent.name: must be a string, not {self.name!r}")
        if isinstance(self.spaces, str) or not all(isinstance(space, str) for space in self.spaces):
            raise GrantError("agent.spaces: must be a sequence of space identifiers")
        object.__setattr__(self, "spaces", tuple(self.spaces))

    def to_dict(self) -> dict[str, Any]:
        return {"did": self.did, "name": self.name, "spaces": list(self.spaces)}


def new_invocation_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class InvocationContext:
    """Who is invoking what; ``extra`` adds fields to the context a function sees (e.g. the trigger)."""

    module: str
    function: str
    invocation_id: str = field(default_factory=new_invocation_id)
    agent: AgentContext | None = None
    depth: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.agent is not None and not isinstance(self.agent, AgentContext):
            raise GrantError(f"context.agent: must be an AgentContext or None, not {type(self.agent).__name__}")
        clash = sorted(RESERVED_KEYS & set(self.extra))
        if clash:
            raise GrantError(f"context: {clash[0]!r} is set by the runtime and cannot be given as an extra field")

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "module": self.module,
            "invocationId": self.invocation_id,
            "agent": None if self.agent is None else self.agent.to_dict(),
            **self.extra,
        }
