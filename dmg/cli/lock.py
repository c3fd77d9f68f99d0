"""``dmg lock``: write a lockfile for some modules, or check one against the registry.

``dmg lock DXN[@RANGE]...`` resolves on the client (as ``dmg graph`` does) and writes ``dmg.lock``
(:mod:`dmg.core.lockfile`: exact versions, record and bundle CIDs, sorted and one value per line). ``dmg lock --check``
reads the lockfile and fails, naming each one, when a locked version is yanked or missing in the registry or its
record or bundle changed. Installing from a lockfile is the orchestrator's business; it needs no resolution.
:mod:`dmg.core.lockfile` (which loads networkx) is imported by the functions that use it, since ``dmg --help`` imports
this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dmg.cli.common import UserError, emit, json_option, registry_option, run_with_client
from dmg.cli.graph import host_api_option, parse_host_apis, parse_roots, resolve_roots
from dmg.client.base import RegistryClient
from dmg.core.errors import LockfileError

if TYPE_CHECKING:
    from dmg.core.lockfile import LockCheck, Lockfile

DEFAULT_LOCKFILE = "dmg.lock"


def _write(path: Path, text: str) -> None:
    """Replace ``path`` whole, so an interrupted write never leaves half a lockfile."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _read(path: Path) -> Lockfile:
    from dmg.core.lockfile import Lockfile

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockfileError(f"{path} does not exist: write it first with dmg lock DXN[@RANGE]...") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockfileError(f"{path} cannot be read: {exc}") from exc
    return Lockfile.parse(text)


def _locked(path: Path, lockfile: Lockfile) -> dict[str, Any]:
    return {
        "path": str(path),
        "modules": [
            {
                "dxn": str(module.dxn),
                "version": str(module.version),
                "record": str(module.record),
                "bundle": str(module.bundle),
                "yanked": module.yanked,
            }
            for module in lockfile.modules
        ],
        "installOrder": [[str(module.dxn) for module in step] for step in lockfile.install_order()],
    }


def _checked(path: Path, lockfile: Lockfile, result: LockCheck) -> dict[str, Any]:
    return {
        "path": str(path),
        "ok": result.ok,
        "modules": len(lockfile.modules),
        "problems": [
            {"dxn": str(problem.dxn), "version": str(problem.version), "kind": problem.kind, "detail": problem.detail}
            for problem in result.problems
        ],
    }


@click.command()
@click.argument("targets", nargs=-1, metavar="DXN[@RANGE]...")
@click.option(
    "--out",
    "-o",
    "path",
    default=DEFAULT_LOCKFILE,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The lockfile to write (or, with --check, to read).",
)
@click.option("--check", is_flag=True, help="Check the lockfile against the registry instead of writing one.")
@host_api_option
@registry_option
@json_option
def lock(
    targets: tuple[str, ...],
    path: Path,
    check: bool,
    host_apis: tuple[str, ...],
    registry: str | None,
    as_json: bool,
) -> None:
    """Lock DXN[@RANGE]... and everything they need at exact versions, or --check an existing lockfile."""
    if check:
        if targets or host_apis:
            raise UserError("--check reads the roots and host APIs from the lockfile: give no DXNs or --host-api")
        _check(path, registry, as_json)
        return
    if not targets:
        raise UserError("name the modules to lock, e.g. dmg lock com.example/app/inbox@^1.2")
    roots = parse_roots(targets)
    host = parse_host_apis(host_apis)

    from dmg.core.lockfile import Lockfile

    async def work(client: RegistryClient) -> Lockfile:
        return Lockfile.from_solution(await resolve_roots(client, roots, host))

    lockfile = run_with_client(registry, work)
    _write(path, lockfile.to_text())
    document = _locked(path, lockfile)

    def human() -> str:
        lines = [f"locked {len(lockfile.modules)} modules in {path}"]
        lines += [f"  {module['dxn']}@{module['version']}" for module in document["modules"]]
        return "\n".join(lines)

    emit(as_json, document, human)


def _check(path: Path, registry: str | None, as_json: bool) -> None:
    lockfile = _read(path)

    async def work(client: RegistryClient) -> LockCheck:
        return await lockfile.check_registry(client)

    result = run_with_client(registry, work)
    if as_json:
        emit(True, _checked(path, lockfile, result), "")
        if not result.ok:
            raise SystemExit(1)
        return
    if not result.ok:
        problems = "\n".join(f"  {problem}" for problem in result.problems)
        raise LockfileError(f"{path} no longer matches the registry:\n{problems}")
    click.echo(f"{path} matches the registry ({len(lockfile.modules)} modules)")
