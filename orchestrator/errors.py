"""The errors the orchestrator raises.

:class:`InvocationError` is how one invocation fails: its :class:`FailureKind` says why (a limit hit, a trap, a
non-zero exit, input or output that breaks the function's schemas) and ``detail`` says it for a person. A failed
invocation never affects other invocations or the orchestrator. :class:`GrantError` is a configuration mistake on
the operator's side (a limit that is not a positive integer, a default above its maximum, a malformed allow-list).

Invalid WebAssembly is a :class:`dmg.core.errors.BundleError`, as everywhere else in DMG. This module defines types
only and raises nothing itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dmg.core.errors import DmgError


class OrchestratorError(DmgError):
    """Base class of the errors the orchestrator raises on purpose."""


class GrantError(OrchestratorError):
    """A limit, quota or grant the operator configured is invalid; the message names the field."""


class FailureKind(StrEnum):
    """Why an invocation failed."""

    TIMEOUT = "TIMEOUT"
    """The wall-clock deadline passed."""
    OUT_OF_FUEL = "OUT_OF_FUEL"
    """The CPU budget (fuel) ran out."""
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    """The function needed more linear memory than its limit and failed for it."""
    TRAP = "TRAP"
    """The module trapped (unreachable, division by zero, out-of-bounds access, stack overflow...)."""
    EXIT = "EXIT"
    """The module exited with a non-zero code (``exit_code``)."""
    INVALID_INPUT = "INVALID_INPUT"
    """The event breaks the function's input schema, or the module has no such function."""
    INVALID_OUTPUT = "INVALID_OUTPUT"
    """The result is not JSON, or breaks the function's output schema."""
    OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE"
    """The result is larger than the output limit."""
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    """The invocation left the function's storage directory above its quota."""


class InvocationError(OrchestratorError):
    """One invocation failed; ``kind`` says why, ``logs`` holds what the function logged before it failed."""

    code = "FUNCTION_FAILED"

    def __init__(self, kind: FailureKind, detail: str, *, exit_code: int | None = None, logs: str = "") -> None:
        if (kind is FailureKind.EXIT) != (exit_code is not None):
            raise ValueError("exit_code is given exactly when kind is EXIT")
        self.kind = kind
        self.detail = detail
        self.exit_code = exit_code
        self.logs = logs
        super().__init__(f"{self.label}: {detail}")

    @property
    def label(self) -> str:
        """The kind as printed: ``TIMEOUT``, ``EXIT(3)``..."""
        return f"EXIT({self.exit_code})" if self.kind is FailureKind.EXIT else self.kind.value

    def to_dict(self) -> dict[str, Any]:
        """The error as a function sees a failed call: ``{"kind", "detail"}`` plus ``exitCode`` for exits."""
        out: dict[str, Any] = {"kind": self.kind.value, "detail": self.detail}
        if self.exit_code is not None:
            out["exitCode"] = self.exit_code
        return out
