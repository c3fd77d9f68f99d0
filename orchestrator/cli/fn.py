"""``dmg fn``: install, run and watch functions on an orchestrator, through its control API.

Every command takes ``--orchestrator URL`` (default ``$DMG_ORCHESTRATOR``, else ``http://127.0.0.1:7421``).
``install`` shows what each module of the graph asks for and what the operator's policy allows before installing;
a refusal names both. ``invoke`` prints the result (JSON); a failed invocation prints its log on stderr and fails
with its kind (``TIMEOUT``, ``EXIT(3)``...). ``logs`` prints invocation records with their logs; ``--follow`` keeps
polling for new ones (a page at a time) until interrupted or ``--for`` seconds have passed.

The group is registered with ``dmg`` as the entry point ``fn`` of ``dmg.commands`` (``pyproject.toml``).
``dmg --help`` and ``dmg fn --help`` import this module, so it imports only click and light modules; the HTTP client
is imported when a command runs (:func:`connect`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from dmg.cli.common import UserError, emit, json_option
from orchestrator.endpoint import DEFAULT_URL
from orchestrator.errors import InvocationError

if TYPE_CHECKING:
    from orchestrator.client import OrchestratorClient

FOLLOW_PAGE: Final = 20
UNFINISHED: Final = frozenset({"QUEUED", "RUNNING"})

orchestrator_option = click.option(
    "--orchestrator",
    "url",
    envvar="DMG_ORCHESTRATOR",
    default=DEFAULT_URL,
    show_default=True,
    metavar="URL",
    help="The orchestrator's URL [env DMG_ORCHESTRATOR].",
)


def connect(url: str) -> OrchestratorClient:
    """A client of the orchestrator at ``url``."""
    from orchestrator.client import OrchestratorClient  # httpx loads only for a command that talks to one

    return OrchestratorClient(url)


def _plan_text(plan: dict[str, Any]) -> str:
    lines = []
    for module in plan["modules"]:
        status = "installed already" if module["alreadyInstalled"] else "to install"
        lines.append(f"{module['dxn']} {module['version']}  ({status})")
        if not module["alreadyInstalled"]:
            if not module["checks"]:
                lines.append("  asks for nothing beyond the defaults")
            width = max((len(check["asked"]) for check in module["checks"]), default=0)
            for check in module["checks"]:
                verdict = "granted" if check["granted"] else "REFUSED"
                resource, asked, allowed = check["resource"], check["asked"], check["allowed"]
                lines.append(f"  {resource:<12} {asked:<{width}}  allowed: {allowed}  {verdict}")
    return "\n".join(lines)


def _invocation_text(record: dict[str, Any]) -> str:
    duration = "" if record["durationMs"] is None else f" {record['durationMs']:.1f} ms"
    head = f"#{record['seq']} {record['id']} {record['function']} {record['status'].lower()}{duration}"
    error = record["error"]
    if error is not None:
        head += f": {error['message']}"
    logs = record["logs"].rstrip("\n")
    return head + ("\n" + "\n".join(f"  | {line}" for line in logs.splitlines()) if logs else "")


def _event(text: str | None) -> Any:
    if text is None:
        return None
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise UserError(f"--input {text}: cannot read the file: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UserError(f"--input: not JSON ({exc}); give JSON text or @file") from exc


@click.group()
def fn() -> None:
    """Install, run and watch functions on an orchestrator."""


@fn.command()
@click.argument("dxn", required=False)
@click.option("--lockfile", type=click.Path(dir_okay=False, exists=True), help="Install exactly what a dmg.lock locks.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="KEY=VALUE",
    help="Allow more for this install: memory=, timeout=, fuel=, storage=, network=HOST[:PORT], spaces=.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan and the policy's decision; install nothing.")
@orchestrator_option
@json_option
def install(
    dxn: str | None, lockfile: str | None, grants: tuple[str, ...], dry_run: bool, url: str, as_json: bool
) -> None:
    """Install DXN[@RANGE] and its dependencies (or a lockfile's graph), after showing what each module asks for
    and what the policy allows."""
    if (dxn is None) == (lockfile is None):
        raise UserError("give what to install: a DXN[@RANGE] or --lockfile FILE")
    locked = Path(lockfile).read_text() if lockfile is not None else None
    with connect(url) as client:
        plan = client.plan(dxn, list(grants), lockfile=locked)
        if not as_json:
            click.echo(_plan_text(plan))
        if dry_run:
            if as_json:
                emit(True, plan, "")
            return
        done = client.install(dxn, list(grants), lockfile=locked)
    added = [module for module in done["modules"] if not module["alreadyInstalled"]]
    if added:
        summary = f"installed {len(added)} module(s); start with: dmg fn start {dxn or added[-1]['dxn']}"
    else:
        summary = "nothing to install: everything is installed already"
    emit(as_json, done, summary)


@fn.command(name="ls")
@click.option("--state", type=click.Choice(["installed", "running", "paused", "stopped"]), help="Only this state.")
@orchestrator_option
@json_option
def ls(state: str | None, url: str, as_json: bool) -> None:
    """List the installed functions."""
    with connect(url) as client:
        functions = client.functions(None if state is None else state.upper())

    def human() -> str:
        if not functions:
            return "no functions installed"
        width = max(len(f"{item['dxn']}@{item['version']}") for item in functions)
        lines = []
        for item in functions:
            modes = sorted({entry["mode"] for entry in item["entryPoints"]}) or ["lambda"]
            extra = ("  live" if item["live"] else "") + ("" if item["root"] else "  (dependency)")
            name = f"{item['dxn']}@{item['version']}"
            lines.append(f"{name:<{width}}  {item['state'].lower():<9}  {','.join(modes)}{extra}")
        return "\n".join(lines)

    emit(as_json, functions, human)


def _action(action: str, summary: str) -> click.Command:
    @click.command(name=action, help=summary)
    @click.argument("dxn")
    @orchestrator_option
    @json_option
    def command(dxn: str, url: str, as_json: bool) -> None:
        with connect(url) as client:
            function = client.act(action, dxn)
        emit(as_json, function, f"{function['dxn']}: {function['state'].lower()}")

    return command


for _name, _summary in (
    ("start", "Start DXN: installed or stopped → running (its dependencies first)."),
    ("pause", "Pause DXN: running → paused; new invocations wait in a queue."),
    ("resume", "Resume DXN: paused → running; the queued invocations are delivered."),
    ("stop", "Stop DXN: → stopped; queued invocations are cancelled, a live instance dropped."),
):
    fn.add_command(_action(_name, _summary))


@fn.command()
@click.argument("dxn")
@orchestrator_option
@json_option
def destroy(dxn: str, url: str, as_json: bool) -> None:
    """Destroy DXN (installed or stopped): remove it, its data and its invocation records."""
    with connect(url) as client:
        name = client.destroy(dxn)
    emit(as_json, {"destroyed": name}, f"{name}: destroyed")


@fn.command()
@click.argument("dxn")
@click.argument("function")
@click.option("--input", "input_", metavar="JSON|@FILE", help="The event, as JSON text or @file [default: null].")
@click.option("--logs", "show_logs", is_flag=True, help="Also print the function's log on stderr.")
@orchestrator_option
@json_option
def invoke(dxn: str, function: str, input_: str | None, show_logs: bool, url: str, as_json: bool) -> None:
    """Invoke FUNCTION of DXN and print its result."""
    event = _event(input_)
    with connect(url) as client:
        try:
            record = client.invoke(dxn, function, event)
        except InvocationError as exc:
            if exc.invocation_id is not None:
                logs = client.invocation(exc.invocation_id)["logs"]
                if logs:
                    click.echo(logs.rstrip("\n"), err=True)
                click.echo(f"invocation {exc.invocation_id} failed", err=True)
            raise
    if record["status"] == "QUEUED":
        message = f"queued as {record['id']}: {dxn} is paused; dmg fn resume {dxn} delivers it"
        emit(as_json, record, message)
        return
    if show_logs and record["logs"]:
        click.echo(record["logs"].rstrip("\n"), err=True)
    emit(as_json, record, json.dumps(record["output"], indent=2, sort_keys=True))


@fn.command()
@click.argument("dxn")
@click.option("--last", default=10, show_default=True, type=click.IntRange(1, 100), help="How many records to show.")
@click.option("--follow", is_flag=True, help="Keep printing new invocations as they end.")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(0.05), help="Seconds between polls.")
@click.option("--for", "duration", type=click.FloatRange(0), help="With --follow: stop after this many seconds.")
@orchestrator_option
@json_option
def logs(dxn: str, last: int, follow: bool, interval: float, duration: float | None, url: str, as_json: bool) -> None:
    """Print the last invocations of DXN, with their results' status and logs."""

    def show(records: list[dict[str, Any]]) -> None:
        for record in records:
            click.echo(json.dumps(record, sort_keys=True) if as_json else _invocation_text(record))

    with connect(url) as client:
        records = _latest(client, dxn, last)
        show([record for record in records if record["status"] not in UNFINISHED])
        if not follow:
            return
        deadline = None if duration is None else time.monotonic() + duration
        follower = _Follower(client, dxn, records)
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))
                show(follower.poll())
        except KeyboardInterrupt:
            return


class _Follower:
    """Finds invocation records that ended since the last poll, each once. Records are ordered by ``seq``, which a
    queued invocation gets when it is queued, so reading resumes at the oldest one not finished yet."""

    def __init__(self, client: OrchestratorClient, dxn: str, seen: list[dict[str, Any]]) -> None:
        self.client = client
        self.dxn = dxn
        self.cursor = max((record["seq"] for record in seen), default=0)
        self.pending = {record["seq"] for record in seen if record["status"] in UNFINISHED}

    def poll(self) -> list[dict[str, Any]]:
        start = min(self.pending) - 1 if self.pending else self.cursor
        ended = []
        while True:
            page = self.client.invocations(self.dxn, after=start, first=FOLLOW_PAGE)
            for record in page:
                seq = record["seq"]
                if record["status"] in UNFINISHED:
                    self.pending.add(seq)
                elif seq in self.pending or seq > self.cursor:
                    self.pending.discard(seq)
                    ended.append(record)
                self.cursor = max(self.cursor, seq)
            if len(page) < FOLLOW_PAGE:
                return ended
            start = page[-1]["seq"]


def _latest(client: OrchestratorClient, dxn: str, last: int) -> list[dict[str, Any]]:
    """The newest ``last`` records, oldest first (the API pages forward, so read on to the end)."""
    records: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.invocations(dxn, after=after, first=FOLLOW_PAGE)
        records = (records + page)[-last:]
        if len(page) < FOLLOW_PAGE:
            return records
        after = page[-1]["seq"]
