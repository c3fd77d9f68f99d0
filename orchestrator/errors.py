"""The errors the orchestrator raises, and its error codes.

:class:`InvocationError` is how one invocation fails: its :class:`FailureKind` says why (a limit hit, a trap, a
non-zero exit, input or output that breaks the function's schemas) and ``detail`` says it for a person. A failed
invocation never affects other invocations or the orchestrator. :class:`GrantError` is a configuration mistake on
the operator's side (a limit that is not a positive integer, a default above its maximum, a malformed allow-list).
:class:`PolicyError` refuses an install that asks for more than the operator allows; :class:`IllegalTransitionError`
and :class:`NotRunningError` refuse what a function's life-cycle state does not permit.
:class:`UnsupportedModuleError` refuses a module no runtime of the orchestrator can run.

Every error carries a ``code`` (a member of the one :class:`~dmg.core.errors.ErrorCode`), which the control API
sends as GraphQL ``extensions.code``: the orchestrator's own codes are :data:`ORCHESTRATOR_CODES`; errors from the
rest of DMG keep theirs (``NOT_FOUND``, ``BAD_REQUEST``, ``INVALID_SIGNATURE``...). :data:`ERROR_CLASSES` maps
every code back to its class, for clients.

Invalid WebAssembly is a :class:`dmg.core.errors.BundleError`, as everywhere else in DMG. This module defines types
only and raises nothing itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from dmg.core import errors as dmg_errors
from dmg.core.errors import BundleError, DmgError, ErrorCode, NotFoundError


class OrchestratorError(DmgError):
    """Base class of the errors the orchestrator raises on purpose."""


class GrantError(OrchestratorError):
    """A limit, quota or grant the operator configured is invalid; the message names the field."""

    code = ErrorCode.INVALID_GRANT


class PolicyError(OrchestratorError):
    """A module asks for resources the operator's policy does not allow; ``refusals`` names each one."""

    code = ErrorCode.POLICY_REFUSED

    def __init__(self, message: str, refusals: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.refusals = refusals


class IllegalTransitionError(OrchestratorError):
    """A life-cycle action its function's current state does not allow (pausing a stopped function...)."""

    code = ErrorCode.ILLEGAL_TRANSITION


class NotRunningError(OrchestratorError):
    """An invocation of a function that is not running (installed or stopped); start it first."""

    code = ErrorCode.NOT_RUNNING


class QueueFullError(OrchestratorError):
    """A paused function already holds as many queued invocations as the operator allows."""

    code = ErrorCode.QUEUE_FULL


class NotInstalledError(OrchestratorError, NotFoundError):
    """No function of that name is installed."""

    code = ErrorCode.NOT_FOUND


class UnsupportedModuleError(OrchestratorError, BundleError):
    """No registered runtime runs a module's kind (its record's ``runtime``), or that runtime cannot run it.

    It is a :class:`~dmg.core.errors.BundleError` (code ``BAD_REQUEST``): the bundle is of a kind not served here.
    """


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
    """One invocation failed; ``kind`` says why, ``logs`` holds what the function logged before it failed, and
    ``invocation_id`` names its record once the orchestrator has recorded it."""

    code = ErrorCode.FUNCTION_FAILED

    def __init__(
        self,
        kind: FailureKind,
        detail: str,
        *,
        exit_code: int | None = None,
        logs: str = "",
        invocation_id: str | None = None,
    ) -> None:
        if (kind is FailureKind.EXIT) != (exit_code is not None):
            raise ValueError("exit_code is given exactly when kind is EXIT")
        self.kind = kind
        self.detail = detail
        self.exit_code = exit_code
        self.logs = logs
        self.invocation_id = invocation_id
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


ORCHESTRATOR_CODES: Final = {
    error.code: error
    for error in (
        GrantError,
        PolicyError,
        IllegalTransitionError,
        NotRunningError,
        QueueFullError,
        InvocationError,
    )
}
"""The codes the orchestrator adds to DMG's, each with its class."""

ERROR_CLASSES: Final[dict[str, type[DmgError]]] = {**dmg_errors.ERROR_CLASSES, **ORCHESTRATOR_CODES}
"""Every code the control API can answer, mapped to the class a client raises for it."""
