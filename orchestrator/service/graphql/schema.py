"""The control API's GraphQL schema: installed functions, install plans and invocation records to read; install,
life-cycle actions and invocations to do.

Conventions are the registry's (:mod:`dmg.service.graphql`, :mod:`dmg.http.graphql`): the same operation limits
(depth, cost; ``first`` is a page size), the same parse and validation caches, and every error with
``extensions.code``: the orchestrator's codes (``FUNCTION_FAILED``, ``ILLEGAL_TRANSITION``, ``NOT_RUNNING``,
``POLICY_REFUSED``, ``INVALID_GRANT``, ``QUEUE_FULL``; :mod:`orchestrator.errors`) beside DMG's (``NOT_FOUND``,
``BAD_REQUEST``, ``CONFLICT``...). A failed invocation's error also carries ``extensions.kind`` (``TIMEOUT``,
``EXIT``...), ``detail``, ``exitCode`` (for ``EXIT``) and ``invocationId``, whose record holds the function's log;
a refused install carries ``extensions.refusals``.

``python -m orchestrator.service.graphql.schema`` prints the schema; ``--write`` updates
``schema/orchestrator.graphql``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from dmg.core.errors import DmgError
from dmg.core.lockfile import Lockfile
from dmg.http.graphql import TIMESTAMP_SCALAR, CodedSchema, Timestamp, coded, printed, schema_command, schema_extensions
from dmg.http.graphql_cost import CostRules, operation_limits
from orchestrator.core import Orchestrator
from orchestrator.errors import InvocationError, PolicyError
from orchestrator.lifecycle import FunctionState
from orchestrator.service.context import OrchestratorService
from orchestrator.service.graphql import types

SCHEMA_FILE: Final = Path(__file__).resolve().parents[3] / "schema" / "orchestrator.graphql"
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100

ServiceInfo = Info[Any, None]


def orchestrator(info: ServiceInfo) -> Orchestrator:
    service: OrchestratorService = info.context["service"]
    return service.orchestrator


def install_request(dxn: str | None, lockfile: str | None) -> str | Lockfile:
    """What to install: a DXN, or a lockfile's text (exactly one of them)."""
    if (dxn is None) == (lockfile is None):
        raise DmgError("give what to install: either dxn or lockfile, not both and not neither")
    return Lockfile.parse(lockfile) if lockfile is not None else str(dxn)


def _page(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise DmgError(f"first: ask for 1 to {MAX_PAGE_SIZE} records, not {first}")
    return first


@strawberry.type
class Query:
    @strawberry.field(description="Installed functions by name, all or those in one state.")
    def functions(self, info: ServiceInfo, state: FunctionState | None = None) -> list[types.Function]:
        return [
            types.Function.from_installed(function)
            for function in orchestrator(info).functions()
            if state is None or function.state is state
        ]

    @strawberry.field(description="One installed function (NOT_FOUND when it is not installed).")
    def function(self, info: ServiceInfo, dxn: str) -> types.Function:
        return types.Function.from_installed(orchestrator(info).function(dxn))

    @strawberry.field(description="Invocations of a function waiting for it to be resumed.")
    async def queued(self, info: ServiceInfo, dxn: str) -> int:
        return await orchestrator(info).queued(dxn)

    @strawberry.field(
        description="What installing dxn[@range] (or the lockfile given as text) would do: the modules in install "
        "order, the resources each asks for and whether the policy (with these grants, KEY=VALUE) allows them. "
        "Installs nothing."
    )
    async def install_plan(
        self, info: ServiceInfo, dxn: str | None = None, lockfile: str | None = None, grants: list[str] | None = None
    ) -> types.InstallPlanType:
        return types.InstallPlanType.from_plan(await orchestrator(info).plan(install_request(dxn, lockfile), grants))

    @strawberry.field(description="One invocation record, with its result or error and its log.")
    async def invocation(self, info: ServiceInfo, id: str) -> types.Invocation:
        return types.Invocation.from_row(await orchestrator(info).invocation(id))

    @strawberry.field(description="A function's invocation records after seq `after`, oldest first.")
    async def invocations(
        self, info: ServiceInfo, dxn: str, after: int = 0, first: int = DEFAULT_PAGE_SIZE
    ) -> list[types.Invocation]:
        rows = await orchestrator(info).invocations(dxn, after=after, limit=_page(first))
        return [types.Invocation.from_row(row) for row in rows]

    @strawberry.field(description="The operator's policy: defaults, what any module may get, what named ones may.")
    def policy(self, info: ServiceInfo) -> JSON:
        return orchestrator(info).policy.to_dict()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Install dxn[@range] and its dependencies (or exactly what the lockfile, given as text, locks), "
        "with extra grants (KEY=VALUE); all or nothing."
    )
    async def install(
        self, info: ServiceInfo, dxn: str | None = None, lockfile: str | None = None, grants: list[str] | None = None
    ) -> types.InstallPlanType:
        return types.InstallPlanType.from_plan(await orchestrator(info).install(install_request(dxn, lockfile), grants))

    @strawberry.mutation(description="installed or stopped → running (its dependencies first).")
    async def start(self, info: ServiceInfo, dxn: str) -> types.Function:
        return types.Function.from_installed(await orchestrator(info).start(dxn))

    @strawberry.mutation(description="running → paused: new invocations are queued.")
    async def pause(self, info: ServiceInfo, dxn: str) -> types.Function:
        return types.Function.from_installed(await orchestrator(info).pause(dxn))

    @strawberry.mutation(description="paused → running: the queued invocations are delivered.")
    async def resume(self, info: ServiceInfo, dxn: str) -> types.Function:
        return types.Function.from_installed(await orchestrator(info).resume(dxn))

    @strawberry.mutation(description="running or paused → stopped: the queue is cancelled, a live instance dropped.")
    async def stop(self, info: ServiceInfo, dxn: str) -> types.Function:
        return types.Function.from_installed(await orchestrator(info).stop(dxn))

    @strawberry.mutation(description="installed or stopped → gone, with its data and records; returns its name.")
    async def destroy(self, info: ServiceInfo, dxn: str) -> str:
        return await orchestrator(info).destroy(dxn)

    @strawberry.mutation(
        description="Invoke a function of an installed module. Running: the record of its success (a failure is "
        "an error with code FUNCTION_FAILED). Paused: the queued record, delivered on resume."
    )
    async def invoke(self, info: ServiceInfo, dxn: str, function: str, input: JSON | None = None) -> types.Invocation:
        return types.Invocation.from_row(await orchestrator(info).invoke(dxn, function, input))


class OrchestratorSchema(CodedSchema):
    """Errors are coded as everywhere (:func:`dmg.http.graphql.coded`), and say what a failed invocation or a refused
    install has to say."""

    def code(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        result = coded(error)
        extensions = dict(result.extensions or {})
        if isinstance(original, InvocationError):
            extensions.update(original.to_dict())
            extensions["invocationId"] = original.invocation_id
        elif isinstance(original, PolicyError):
            extensions["refusals"] = list(original.refusals)
        result.extensions = extensions
        return result


def build_schema(max_depth: int = 10, max_cost: int = 1000) -> OrchestratorSchema:
    """The schema with its operation limits and the standard extensions
    (:func:`dmg.http.graphql.schema_extensions`)."""
    return OrchestratorSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={Timestamp: TIMESTAMP_SCALAR, types.BigInt: types.BIGINT_SCALAR}),
        extensions=schema_extensions(
            [operation_limits(CostRules(max_depth, max_cost, max_page_size=MAX_PAGE_SIZE))]
        ),
    )


def printed_schema() -> str:
    """The schema in SDL, as checked in at ``schema/orchestrator.graphql``."""
    return printed(build_schema())


if __name__ == "__main__":
    schema_command(sys.argv[1:], printed_schema(), SCHEMA_FILE, "orchestrator.service.graphql.schema")
