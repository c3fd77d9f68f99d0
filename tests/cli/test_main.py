"""The root ``dmg`` group (``dmg/cli/main.py``): its commands are found by name and imported only when asked for,
other packages add theirs through ``dmg.commands`` entry points, and neither ``dmg.cli`` nor ``dmg --help`` loads
the orchestrator or the heavy libraries under it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import click
import pytest

from dmg.cli.main import BUILTIN_COMMANDS, ENTRY_POINT_GROUP, cli, registered_commands
from tests.support.distributions import write_distribution

HEAVY = ("wasmtime", "uvicorn", "strawberry", "httpx", "orchestrator.core")
NOT_THE_CLIS = ("orchestrator", "federation", "spaces")
REPORT_MODULES = "import sys\nprint('\\n'.join(sorted(sys.modules)), file=sys.stderr)"


def run_dmg(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """Run ``dmg args`` in a fresh interpreter; its output and the modules it had loaded when it finished."""
    script = (
        "import sys\nfrom dmg.cli.main import cli\n"
        f"try:\n    cli({list(args)!r}, prog_name='dmg')\nexcept SystemExit:\n    pass\n{REPORT_MODULES}"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return done.stdout, set(done.stderr.split())


@click.command()
def hello() -> None:
    """Say hello from a package of its own."""
    click.echo("hello from a plugin")


def test_no_module_of_dmg_cli_imports_a_package_that_registers_commands() -> None:
    import_every_module = (
        "import importlib, pkgutil, dmg.cli\n"
        "for found in pkgutil.iter_modules(dmg.cli.__path__, 'dmg.cli.'):\n"
        "    importlib.import_module(found.name)\n"
    )
    script = import_every_module + REPORT_MODULES
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stderr.split()}
    assert not loaded & {*NOT_THE_CLIS, "wasmtime", "uvicorn", "strawberry", "httpx"}


@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (("--help",), ("fn            Install, run and watch", "orchestrator  Run the orchestrator", "serve")),
        (("fn", "--help"), ("install", "invoke", "logs", "start")),
        (("orchestrator", "--help"), ("serve  Serve the orchestrator",)),
    ],
)
def test_help_lists_commands_without_loading_heavy_modules(args: tuple[str, ...], listed: tuple[str, ...]) -> None:
    output, loaded = run_dmg(*args)
    for line in listed:
        assert f"  {line}" in output
    assert not loaded & set(HEAVY)


def test_every_builtin_command_is_found_under_its_name() -> None:
    with click.Context(cli) as context:
        assert set(BUILTIN_COMMANDS) <= set(cli.list_commands(context))
        for name in BUILTIN_COMMANDS:
            command = cli.get_command(context, name)
            assert command is not None and command.name == name
        assert cli.get_command(context, "nonsense") is None


def test_the_first_entry_point_of_a_name_wins_and_none_replaces_a_builtin() -> None:
    found = [
        EntryPoint("hello", "tests.cli.test_main:hello", ENTRY_POINT_GROUP),
        EntryPoint("hello", "elsewhere:hello", ENTRY_POINT_GROUP),
        EntryPoint("publish", "tests.cli.test_main:hello", ENTRY_POINT_GROUP),
    ]
    commands = registered_commands(found)
    assert commands["hello"].value == "tests.cli.test_main:hello"
    assert commands["publish"] is BUILTIN_COMMANDS["publish"]
    assert commands.keys() == {*BUILTIN_COMMANDS, "hello"}


def test_another_package_adds_a_command_through_its_metadata(tmp_path: Path) -> None:
    targets = {"hello": "tests.cli.test_main:hello", "wrong": "os:sep", "gone": "no.such.module:command"}
    site = write_distribution(tmp_path, "dmg_hello_plugin", {ENTRY_POINT_GROUP: targets})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ["PYTHONPATH"]])}
    output, _ = run_dmg("--help", env=env)
    assert "  hello         Say hello from a package of its own." in output
    assert "  wrong         Broken: os:sep is not a click command." in output
    assert run_dmg("hello", env=env)[0] == "hello from a plugin\n"
    for name, problem in (
        ("wrong", "os:sep is not a click command"),
        ("gone", "no.such.module:command cannot be imported (No module named 'no')"),
    ):
        ran = subprocess.run(
            [sys.executable, "-m", "dmg", name, "--any", "arg"], capture_output=True, text=True, env=env, check=False
        )
        refusal = f"dmg: error: the command {name!r} (registered by dmg_hello_plugin) is broken: {problem}"
        assert ran.returncode == 1 and ran.stderr == refusal + "; reinstall its package\n"

