"""GraphQL output types of the control API, each built from the orchestrator's own values by a ``from_...``
constructor.

DXNs, versions and CIDs are strings in their canonical forms. Times are the registry's ``Timestamp``
(:data:`dmg.http.graphql.Timestamp`, milliseconds since the Unix epoch); fuel and memory sizes are :data:`BigInt`
(they outgrow GraphQL's 32-bit ``Int``). Events, results, schemas and resources are ``JSON``.
"""

from __future__ import annotations

from typing import Any, Final, NewType

import strawberry
from strawberry.scalars import JSON

from dmg.http.graphql import Timestamp
from orchestrator.core import InstalledFunction
from orchestrator.install import InstallPlan, PlannedModule
from orchestrator.lifecycle import FunctionState
from orchestrator.policy import ResourceCheck
from orchestrator.state import InvocationRow, InvocationStatus

BigInt = NewType("BigInt", int)

BIGINT_SCALAR: Final = strawberry.scalar(
    name="BigInt",
    description="An integer beyond the 32 bits of GraphQL's Int (fuel units, bytes).",
    serialize=int,
    parse_value=int,
)

# The orchestrator's own enums serve as the GraphQL enums (strawberry marks the classes; values go by name).
strawberry.enum(FunctionState, name="FunctionState", description="Where a function is in its life cycle.")
strawberry.enum(InvocationStatus, name="InvocationStatus", description="Where an invocation is.")


def _big(value: int | None) -> BigInt | None:
    return None if value is None else BigInt(value)


@strawberry.type(description="A function of an installed module, with its mode and JSON Schemas.")
class EntryPoint:
    name: str
    description: str
    mode: str = strawberry.field(description="lambda or long-lived.")
    input_schema: JSON
    output_schema: JSON


@strawberry.type(description="An installed module: what it is, what it was granted, and its life-cycle state.")
class Function:
    dxn: str
    version: str
    record: str = strawberry.field(description="The module record's envelope CID.")
    bundle: str = strawberry.field(description="The bundle index CID.")
    description: str
    state: FunctionState
    root: bool = strawberry.field(description="Installed by name (false: installed as a dependency).")
    entry_points: list[EntryPoint]
    requested: JSON = strawberry.field(description="The resources the module's record asks for.")
    granted: JSON = strawberry.field(description="What it was granted: limits, storage, network, spaces.")
    dependencies: list[str]
    live: bool = strawberry.field(description="Whether a long-lived instance of it is in memory.")
    installed_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_installed(cls, function: InstalledFunction) -> Function:
        record = function.record
        return cls(
            dxn=function.dxn,
            version=str(record.version),
            record=str(function.row.record),
            bundle=str(record.bundle),
            description=record.description,
            state=function.state,
            root=function.row.root,
            entry_points=[
                EntryPoint(
                    name=spec.name,
                    description=spec.description,
                    mode=str(function.modes[spec.name]),
                    input_schema=spec.input_schema,
                    output_schema=spec.output_schema,
                )
                for spec in record.functions
            ],
            requested=record.resources.to_dict(),
            granted=function.granted.to_dict(),
            dependencies=list(function.dependencies),
            live=function.live,
            installed_at=Timestamp(function.row.installed_at),
            updated_at=Timestamp(function.row.updated_at),
        )


@strawberry.type(description="Why an invocation did not succeed.")
class InvocationFailure:
    code: str = strawberry.field(description="FUNCTION_FAILED, NOT_RUNNING (cancelled by stop) or INTERRUPTED.")
    message: str
    kind: str | None = strawberry.field(description="FUNCTION_FAILED: TIMEOUT, OUT_OF_FUEL, TRAP, EXIT...")
    detail: str | None
    exit_code: int | None

    @classmethod
    def from_dict(cls, error: dict[str, Any]) -> InvocationFailure:
        return cls(
            code=str(error.get("code", "")),
            message=str(error.get("message", "")),
            kind=error.get("kind"),
            detail=error.get("detail"),
            exit_code=error.get("exitCode"),
        )


@strawberry.type(description="One invocation: its input, its result or failure, its log and what it used.")
class Invocation:
    id: str
    seq: int = strawberry.field(description="Orders a function's invocations; pass it as `after` to read on.")
    dxn: str
    function: str
    status: InvocationStatus
    input: JSON | None
    output: JSON | None
    error: InvocationFailure | None
    logs: str = strawberry.field(description="What the function wrote to stderr (truncated at its log limit).")
    fuel_used: BigInt | None
    peak_memory: BigInt | None = strawberry.field(description="Bytes of linear memory at the end.")
    duration_ms: float | None
    created_at: Timestamp
    finished_at: Timestamp | None

    @classmethod
    def from_row(cls, row: InvocationRow) -> Invocation:
        return cls(
            id=row.id,
            seq=row.seq,
            dxn=row.dxn,
            function=row.function,
            status=row.status,
            input=row.input,
            output=row.output,
            error=None if row.error is None else InvocationFailure.from_dict(row.error),
            logs=row.logs,
            fuel_used=_big(row.fuel_used),
            peak_memory=_big(row.peak_memory),
            duration_ms=row.duration_ms,
            created_at=Timestamp(row.created_at),
            finished_at=None if row.finished_at is None else Timestamp(row.finished_at),
        )


@strawberry.type(name="ResourceCheck", description="One resource a module asks for, against what the policy allows.")
class ResourceCheckType:
    resource: str = strawberry.field(description="memory, cpu.timeout, cpu.fuel, storage, network or spaces.")
    asked: str
    allowed: str
    granted: bool

    @classmethod
    def from_check(cls, check: ResourceCheck) -> ResourceCheckType:
        return cls(resource=check.resource, asked=check.asked, allowed=check.allowed, granted=check.granted)


@strawberry.type(name="PlannedModule", description="One module of an install, in install order.")
class PlannedModuleType:
    dxn: str
    version: str
    record: str
    bundle: str
    already_installed: bool
    allowed: bool
    checks: list[ResourceCheckType]
    refusals: list[str]

    @classmethod
    def from_planned(cls, module: PlannedModule) -> PlannedModuleType:
        return cls(
            dxn=module.dxn,
            version=str(module.record.version),
            record=str(module.record_cid),
            bundle=str(module.record.bundle),
            already_installed=module.installed,
            allowed=module.decision.allowed,
            checks=[ResourceCheckType.from_check(check) for check in module.decision.checks],
            refusals=list(module.decision.refusals),
        )


@strawberry.type(name="InstallPlan", description="What installing a DXN does: its modules, dependencies first.")
class InstallPlanType:
    request: str
    allowed: bool = strawberry.field(description="Whether the policy grants every module not installed yet.")
    modules: list[PlannedModuleType]

    @classmethod
    def from_plan(cls, plan: InstallPlan) -> InstallPlanType:
        return cls(
            request=str(plan.request),
            allowed=plan.allowed,
            modules=[PlannedModuleType.from_planned(module) for module in plan.modules],
        )
