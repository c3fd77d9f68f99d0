"""The life-cycle table: every state and action, legal or refused with a typed error; and the error codes."""

from __future__ import annotations

import pytest

from dmg.core.errors import NotFoundError
from orchestrator.errors import (
    ERROR_CLASSES,
    ORCHESTRATOR_CODES,
    IllegalTransitionError,
    InvocationError,
    NotInstalledError,
)
from orchestrator.lifecycle import TRANSITIONS, Action, FunctionState, allowed_actions, transition

NAME = "com.example/function/x"
LEGAL = {
    (FunctionState.INSTALLED, Action.START): FunctionState.RUNNING,
    (FunctionState.INSTALLED, Action.DESTROY): FunctionState.DESTROYED,
    (FunctionState.RUNNING, Action.PAUSE): FunctionState.PAUSED,
    (FunctionState.RUNNING, Action.STOP): FunctionState.STOPPED,
    (FunctionState.PAUSED, Action.RESUME): FunctionState.RUNNING,
    (FunctionState.PAUSED, Action.STOP): FunctionState.STOPPED,
    (FunctionState.STOPPED, Action.START): FunctionState.RUNNING,
    (FunctionState.STOPPED, Action.DESTROY): FunctionState.DESTROYED,
}


@pytest.mark.parametrize("state", list(FunctionState))
@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action(state: FunctionState, action: Action) -> None:
    if (state, action) in LEGAL:
        assert transition(NAME, state, action) is LEGAL[(state, action)]
        return
    with pytest.raises(IllegalTransitionError) as caught:
        transition(NAME, state, action)
    assert caught.value.code == "ILLEGAL_TRANSITION"
    allowed = ", ".join(allowed_actions(state)) or "nothing"
    assert str(caught.value) == f"cannot {action} {NAME}: it is {state} (a {state} function allows {allowed})"


def test_the_documented_path_is_legal() -> None:
    state = FunctionState.INSTALLED
    for action in (Action.START, Action.PAUSE, Action.RESUME, Action.STOP, Action.DESTROY):
        state = transition(NAME, state, action)
    assert state is FunctionState.DESTROYED and allowed_actions(state) == ()
    assert len([pair for actions in TRANSITIONS.values() for pair in actions]) == len(LEGAL)


def test_error_codes_map_back_to_their_classes() -> None:
    assert set(ORCHESTRATOR_CODES) == {
        "INVALID_GRANT", "POLICY_REFUSED", "ILLEGAL_TRANSITION", "NOT_RUNNING", "QUEUE_FULL", "FUNCTION_FAILED",
    }  # fmt: skip
    for code, kind in ERROR_CLASSES.items():
        assert kind.code == code
    assert ERROR_CLASSES["FUNCTION_FAILED"] is InvocationError
    assert issubclass(NotInstalledError, NotFoundError) and NotInstalledError.code == "NOT_FOUND"
