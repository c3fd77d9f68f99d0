"""Running the ``dmg`` command in process (click's runner) and reading what it prints."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from dmg.cli.main import cli


def dmg(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> Result:
    """Run ``dmg args``; assert that it succeeded (or, with ``ok=False``, that it failed) and return the result."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    assert (result.exit_code == 0) == ok, result.output + result.stderr
    return result


def dmg_json(*args: str, env: dict[str, str] | None = None) -> object:
    """Run ``dmg args --json``, which must succeed, and return what it printed, parsed."""
    return json.loads(dmg(*args, "--json", env=env).stdout)
