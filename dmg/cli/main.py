"""The ``dmg`` command: the root group and how errors reach the user.

Every user error (any :class:`~dmg.core.errors.DmgError`) is printed as one line on stderr with exit code 1;
tracebacks are for bugs only. Each command group lives in its own module beside this one.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from dmg.cli import (
    fn,
    graph,
    init,
    keys,
    lock,
    namespace,
    orchestrator,
    publish,
    query,
    resolve,
    serve,
    status,
    transfer,
    verify,
)
from dmg.core.errors import DmgError


class DmgGroup(click.Group):
    """A group that turns :class:`DmgError` into one line on stderr and exit code 1."""

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


for command in (
    keys.keygen,
    init.init,
    namespace.namespace,
    publish.publish,
    publish.yank,
    publish.unyank,
    resolve.resolve,
    resolve.versions,
    lock.lock,
    graph.graph,
    query.search,
    query.show,
    transfer.export,
    transfer.import_,
    transfer.fsck,
    status.status,
    serve.serve,
    verify.verify,
    fn.fn,
    orchestrator.orchestrator,
):
    cli.add_command(command)


def main() -> None:
    cli()
