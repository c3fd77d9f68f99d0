"""A function's contract: its input and output JSON Schemas, compiled on first use and checked on every call.

The event is checked before the module runs (``INVALID_INPUT``), the result after it returns (``INVALID_OUTPUT``).
Validators are compiled lazily so an installed function that is never invoked costs no compiled schema. The schemas
themselves were checked against the JSON Schema meta-schema when the module record was accepted.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from dmg.core.records import FunctionSpec
from orchestrator.errors import FailureKind, InvocationError


def _explain(error: jsonschema_rs.ValidationError) -> str:
    at = "/".join(map(str, error.instance_path))
    return error.message + (f" at /{at}" if at else "")


class FunctionContract:
    """Checks one function's events and results against its schemas."""

    __slots__ = ("_input", "_output", "spec")

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._input: Any = None
        self._output: Any = None

    def check_input(self, event: Any) -> None:
        if self._input is None:
            self._input = jsonschema_rs.validator_for(self.spec.input_schema)
        try:
            self._input.validate(event)
        except jsonschema_rs.ValidationError as exc:
            detail = f"the event does not match the input schema of {self.spec.name!r}: {_explain(exc)}"
            raise InvocationError(FailureKind.INVALID_INPUT, detail) from exc
        except ValueError as exc:
            raise InvocationError(FailureKind.INVALID_INPUT, f"the event is not JSON data: {exc}") from exc

    def check_output(self, output: Any, logs: str) -> None:
        if self._output is None:
            self._output = jsonschema_rs.validator_for(self.spec.output_schema)
        try:
            self._output.validate(output)
        except jsonschema_rs.ValidationError as exc:
            detail = f"the result does not match the output schema of {self.spec.name!r}: {_explain(exc)}"
            raise InvocationError(FailureKind.INVALID_OUTPUT, detail, logs=logs) from exc
