"""A client of the orchestrator's control API (GraphQL over HTTP), for ``dmg fn`` and anything scripting it.

Each method sends one operation and returns the answer's data as plain JSON values (dicts and lists, named as in
``schema/orchestrator.graphql``). An error answer is raised as the typed error its ``extensions.code`` names
(:data:`orchestrator.errors.ERROR_CLASSES`); a failed invocation comes back as the
:class:`~orchestrator.errors.InvocationError` it was, with its kind, exit code and ``invocation_id``. A server that
cannot be reached is an :class:`OrchestratorUnavailableError`.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from dmg.core.errors import DmgError
from orchestrator.endpoint import DEFAULT_URL
from orchestrator.errors import ERROR_CLASSES, FailureKind, InvocationError, PolicyError

_FUNCTION: Final = """
fragment F on Function {
  dxn version record bundle description state root requested granted dependencies live installedAt updatedAt
  entryPoints { name description mode inputSchema outputSchema }
}"""
_INVOCATION: Final = """
fragment I on Invocation {
  id seq dxn function status input output logs fuelUsed peakMemory durationMs createdAt finishedAt
  error { code message kind detail exitCode }
}"""
_PLAN: Final = """
fragment P on InstallPlan {
  request allowed
  modules { dxn version record bundle alreadyInstalled allowed refusals checks { resource asked allowed granted } }
}"""


class OrchestratorUnavailableError(DmgError):
    """The orchestrator cannot be reached, or answered with something that is not the control API."""


def _error(error: Any) -> DmgError:
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return OrchestratorUnavailableError("the orchestrator reported an error without a message")
    extensions = error.get("extensions") if isinstance(error.get("extensions"), dict) else {}
    code = extensions.get("code")
    if code == InvocationError.code and extensions.get("kind") in set(FailureKind):
        kind = FailureKind(extensions["kind"])
        return InvocationError(
            kind,
            str(extensions.get("detail", "")),
            exit_code=extensions.get("exitCode") if kind is FailureKind.EXIT else None,
            invocation_id=extensions.get("invocationId"),
        )
    if code == PolicyError.code:
        return PolicyError(error["message"], tuple(extensions.get("refusals") or ()))
    return ERROR_CLASSES.get(code, DmgError)(error["message"]) if isinstance(code, str) else DmgError(error["message"])


class OrchestratorClient:
    """Talks to the orchestrator at ``url``; use as a context manager, or call :meth:`close`."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 330.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise DmgError(f"{url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OrchestratorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """Send ``query``; the ``data`` of a successful answer, else its first error raised as a typed error."""
        try:
            answer = self._http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError as exc:
            raise OrchestratorUnavailableError(f"the orchestrator at {self.url} cannot be reached: {exc}") from exc
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise OrchestratorUnavailableError(f"{self.url}/graphql answered HTTP {answer.status_code}, not GraphQL")
        errors = payload.get("errors")
        if errors:
            raise _error(errors[0])
        data = payload.get("data")
        if not isinstance(data, dict):
            raise OrchestratorUnavailableError(f"{self.url}/graphql answered without data")
        return data

    # --- functions ------------------------------------------------------------------------------------------

    def functions(self, state: str | None = None) -> list[dict[str, Any]]:
        query = "query($state: FunctionState) { functions(state: $state) { ...F } }" + _FUNCTION
        return list(self.graphql(query, state=state)["functions"])

    def function(self, dxn: str) -> dict[str, Any]:
        query = "query($dxn: String!) { function(dxn: $dxn) { ...F } }" + _FUNCTION
        return dict(self.graphql(query, dxn=dxn)["function"])

    def queued(self, dxn: str) -> int:
        return int(self.graphql("query($dxn: String!) { queued(dxn: $dxn) }", dxn=dxn)["queued"])

    def plan(
        self, dxn: str | None = None, grants: list[str] | None = None, *, lockfile: str | None = None
    ) -> dict[str, Any]:
        """What installing ``dxn[@range]`` (or the ``lockfile`` text) would do; installs nothing."""
        query = "query($dxn: String, $lockfile: String, $grants: [String!]) {"
        query += " installPlan(dxn: $dxn, lockfile: $lockfile, grants: $grants) { ...P } }"
        return dict(self.graphql(query + _PLAN, dxn=dxn, lockfile=lockfile, grants=grants or [])["installPlan"])

    def install(
        self, dxn: str | None = None, grants: list[str] | None = None, *, lockfile: str | None = None
    ) -> dict[str, Any]:
        """Install ``dxn[@range]`` (or what the ``lockfile`` text locks) with ``grants``; the plan carried out."""
        query = "mutation($dxn: String, $lockfile: String, $grants: [String!]) {"
        query += " install(dxn: $dxn, lockfile: $lockfile, grants: $grants) { ...P } }"
        return dict(self.graphql(query + _PLAN, dxn=dxn, lockfile=lockfile, grants=grants or [])["install"])

    def act(self, action: str, dxn: str) -> dict[str, Any]:
        """``start``, ``pause``, ``resume`` or ``stop`` ``dxn``; its state afterwards."""
        if action not in ("start", "pause", "resume", "stop"):
            raise DmgError(f"unknown action {action!r}: start, pause, resume or stop")
        query = f"mutation($dxn: String!) {{ {action}(dxn: $dxn) {{ ...F }} }}" + _FUNCTION
        return dict(self.graphql(query, dxn=dxn)[action])

    def destroy(self, dxn: str) -> str:
        return str(self.graphql("mutation($dxn: String!) { destroy(dxn: $dxn) }", dxn=dxn)["destroy"])

    # --- invocations ----------------------------------------------------------------------------------------

    def invoke(self, dxn: str, function: str, event: Any = None) -> dict[str, Any]:
        """The record of a successful (or, for a paused function, queued) invocation; a failure is raised."""
        query = "mutation($dxn: String!, $function: String!, $input: JSON) {"
        query += " invoke(dxn: $dxn, function: $function, input: $input) { ...I } }"
        return dict(self.graphql(query + _INVOCATION, dxn=dxn, function=function, input=event)["invoke"])

    def invocation(self, invocation_id: str) -> dict[str, Any]:
        query = "query($id: String!) { invocation(id: $id) { ...I } }" + _INVOCATION
        return dict(self.graphql(query, id=invocation_id)["invocation"])

    def invocations(self, dxn: str, *, after: int = 0, first: int = 20) -> list[dict[str, Any]]:
        query = "query($dxn: String!, $after: Int!) { invocations(dxn: $dxn, after: $after, first: %d) { ...I } }"
        return list(self.graphql(query % first + _INVOCATION, dxn=dxn, after=after)["invocations"])

    def policy(self) -> dict[str, Any]:
        return dict(self.graphql("{ policy }")["policy"])
