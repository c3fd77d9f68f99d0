"""The life cycle of an installed function: its states, the actions that move it between them, and which are legal.

=============  ===========================  =====================================
state          actions                      invocations
=============  ===========================  =====================================
``installed``  start → running, destroy     refused (``NOT_RUNNING``)
``running``    pause → paused, stop         run
``paused``     resume → running, stop       queued; ``resume`` delivers them
``stopped``    start → running, destroy     refused (``NOT_RUNNING``)
``destroyed``  none                         the function is gone
=============  ===========================  =====================================

- ``installed``: verified, compiled and persisted; not invocable yet.
- ``running``: invocations run. A long-lived function has its instance (created by ``start``).
- ``paused``: new invocations are queued (persisted, not lost) and ``resume`` delivers them in order; a long-lived
  instance keeps its memory.
- ``stopped``: invocations are refused; a long-lived instance is dropped; invocations still queued are cancelled.
- ``destroyed``: the function, its data directory and its invocation records are gone; its name can be installed
  again. Only an installed or stopped function can be destroyed.

:func:`transition` is the table; anything else is an :class:`~orchestrator.errors.IllegalTransitionError` naming the
state and the actions it allows. Carrying out an action (the runtime, the state database) is the orchestrator's job.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from orchestrator.errors import IllegalTransitionError


class FunctionState(StrEnum):
    INSTALLED = "installed"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    DESTROYED = "destroyed"


class Action(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    DESTROY = "destroy"


TRANSITIONS: Final[dict[FunctionState, dict[Action, FunctionState]]] = {
    FunctionState.INSTALLED: {Action.START: FunctionState.RUNNING, Action.DESTROY: FunctionState.DESTROYED},
    FunctionState.RUNNING: {Action.PAUSE: FunctionState.PAUSED, Action.STOP: FunctionState.STOPPED},
    FunctionState.PAUSED: {Action.RESUME: FunctionState.RUNNING, Action.STOP: FunctionState.STOPPED},
    FunctionState.STOPPED: {Action.START: FunctionState.RUNNING, Action.DESTROY: FunctionState.DESTROYED},
    FunctionState.DESTROYED: {},
}


def allowed_actions(state: FunctionState) -> tuple[Action, ...]:
    return tuple(TRANSITIONS[state])


def transition(function: str, state: FunctionState, action: Action) -> FunctionState:
    """The state ``action`` takes ``function`` to from ``state``; :class:`IllegalTransitionError` if it may not."""
    target = TRANSITIONS[state].get(action)
    if target is None:
        allowed = ", ".join(allowed_actions(state)) or "nothing"
        raise IllegalTransitionError(f"cannot {action} {function}: it is {state} (a {state} function allows {allowed})")
    return target
