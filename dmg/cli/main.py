"""The ``dmg`` command: the root group, how it finds its commands, and how errors reach the user.

Every user error (any :class:`~dmg.core.errors.DmgError`) is printed as one line on stderr with exit code 1;
tracebacks are for bugs only. Each command group lives in its own module beside this one.

Commands are imported only when asked for: the group knows each built-in command by the ``module:attribute`` that
defines it (:data:`BUILTIN_COMMANDS`), and other packages add theirs as entry points of the group
:data:`ENTRY_POINT_GROUP` (the orchestrator's ``fn`` and ``orchestrator``, from :mod:`orchestrator.cli`). Running a
command imports its module alone; ``dmg --help`` imports every command's module for its one-line help, so those
modules keep heavy imports (the web stack, wasmtime, the orchestrator) inside the commands that use them. This
module imports no package that registers commands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

import click

from dmg.core.errors import DmgError

ENTRY_POINT_GROUP: Final = "dmg.commands"
"""The entry-point group through which other packages add commands to ``dmg``."""


def _builtin(name: str, target: str) -> EntryPoint:
    return EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP)


BUILTIN_COMMANDS: Final[Mapping[str, EntryPoint]] = {
    entry.name: entry
    for entry in (
        _builtin("keygen", "dmg.cli.keys:keygen"),
        _builtin("init", "dmg.cli.init:init"),
        _builtin("namespace", "dmg.cli.namespace:namespace"),
        _builtin("publish", "dmg.cli.publish:publish"),
        _builtin("yank", "dmg.cli.publish:yank"),
        _builtin("unyank", "dmg.cli.publish:unyank"),
        _builtin("resolve", "dmg.cli.resolve:resolve"),
        _builtin("versions", "dmg.cli.resolve:versions"),
        _builtin("lock", "dmg.cli.lock:lock"),
        _builtin("graph", "dmg.cli.graph:graph"),
        _builtin("search", "dmg.cli.query:search"),
        _builtin("show", "dmg.cli.query:show"),
        _builtin("export", "dmg.cli.transfer:export"),
        _builtin("import", "dmg.cli.transfer:import_"),
        _builtin("fsck", "dmg.cli.transfer:fsck"),
        _builtin("status", "dmg.cli.status:status"),
        _builtin("serve", "dmg.cli.serve:serve"),
        _builtin("verify", "dmg.cli.verify:verify"),
    )
}
"""DMG's own commands, by name; the ones in the distribution's metadata are only those of other packages."""


def load_registered(entry_point: EntryPoint) -> click.Command:
    """The command another package registered, or one that says why it cannot be loaded when run: one package's
    broken or stale installation must not break ``dmg --help`` or the other commands."""
    try:
        command = entry_point.load()
    except (ImportError, AttributeError) as exc:
        problem = f"{entry_point.value} cannot be imported ({exc})"
    else:
        if isinstance(command, click.Command):
            return command
        problem = f"{entry_point.value} is not a click command"
    source = f" (registered by {entry_point.dist.name})" if entry_point.dist is not None else ""

    def refuse() -> None:
        raise DmgError(f"the command {entry_point.name!r}{source} is broken: {problem}; reinstall its package")

    # Whatever arguments it is given, the command only refuses, so it accepts them all.
    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.Command(entry_point.name, callback=refuse, help=f"Broken: {problem}.", context_settings=settings)


def registered_commands(found: Iterable[EntryPoint]) -> dict[str, EntryPoint]:
    """Every command by name: the built-in ones, then those ``found`` in :data:`ENTRY_POINT_GROUP`. The first entry
    point of a name wins (distributions are listed in ``sys.path`` order, the order imports follow), and a
    registered name never replaces a built-in one."""
    commands = dict(BUILTIN_COMMANDS)
    for entry_point in found:
        commands.setdefault(entry_point.name, entry_point)
    return commands


class DmgGroup(click.Group):
    """The root group: lists every command without importing any, imports one when it is asked for, and turns
    :class:`DmgError` into one line on stderr and exit code 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registered: dict[str, EntryPoint] | None = None

    @property
    def registered(self) -> dict[str, EntryPoint]:
        """The commands by name, read from the installed distributions' metadata on first use."""
        if self._registered is None:
            self._registered = registered_commands(entry_points(group=ENTRY_POINT_GROUP))
        return self._registered

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.registered})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry_point = self.registered.get(cmd_name)
        if entry_point is None:
            return None
        if cmd_name in BUILTIN_COMMANDS:
            return entry_point.load()  # a built-in that does not load is a bug in dmg: let it raise
        return load_registered(entry_point)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DmgError as exc:
            click.echo(f"dmg: error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=DmgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dmg")
def cli() -> None:
    """DMG: a registry of signed, content-addressed function modules."""


def main() -> None:
    cli()
