"""``dmg fn`` and ``dmg orchestrator`` against real registry and orchestrator servers (the fixtures
``orchestrator`` and ``registry_url`` of tests/orchestrator/conftest.py): what the operator sees when installing,
running and watching functions."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dmg.cli.main import cli
from dmg.client.http import HttpClient
from dmg.client.trust import TrustPolicy, TrustStore
from dmg.core.dxn import DXN
from dmg.core.lockfile import Lockfile
from dmg.core.resolver import Dependency, Resolver, prefetch
from orchestrator.client import OrchestratorClient
from tests.support.orchestrators import CALLER, ECHO, GREEDY, LIBRARY, Orchestrator

Runner = Callable[..., Result]


@pytest.fixture(scope="module")
def dmg(orchestrator: Orchestrator) -> Runner:
    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--orchestrator", orchestrator.client.url], catch_exceptions=False)

    return run


def test_install_shows_the_plan_then_installs(dmg: Runner) -> None:
    installed = dmg("fn", "install", ECHO)
    assert installed.exit_code == 0, installed.output
    assert installed.output.splitlines() == [
        f"{ECHO} 1.0.0  (to install)",
        "  asks for nothing beyond the defaults",
        f"installed 1 module(s); start with: dmg fn start {ECHO}",
    ]
    again = dmg("fn", "install", f"{ECHO}@^1")
    assert again.output.splitlines() == [
        f"{ECHO} 1.0.0  (installed already)",
        "nothing to install: everything is installed already",
    ]


def test_a_refused_install_names_what_was_asked_and_what_is_allowed(dmg: Runner, http_port: int) -> None:
    refused = dmg("fn", "install", GREEDY)
    assert refused.exit_code == 1
    assert "  memory       512 MiB           allowed: 64 MiB  REFUSED" in refused.stdout
    assert f"  network      evil.example.net  allowed: 127.0.0.1:{http_port}  REFUSED" in refused.stdout
    assert refused.stderr.startswith(f"dmg: error: not installed: {GREEDY} asks for memory 512 MiB; the policy allows")
    dry = dmg("fn", "install", GREEDY, "--dry-run", "--grant", "memory=512MiB", "--grant", "network=evil.example.net")
    assert dry.exit_code == 0 and "REFUSED" not in dry.output and dry.output.count("granted") == 2
    listed = dmg("fn", "ls", "--json")
    assert GREEDY not in {item["dxn"] for item in json.loads(listed.output)}
    bad = dmg("fn", "install", ECHO, "--grant", "memory")
    assert bad.exit_code == 1 and "write KEY=VALUE" in bad.stderr


def test_run_invoke_and_read_logs(dmg: Runner, orchestrator: Orchestrator, tmp_path: Path) -> None:
    orchestrator.ready(ECHO)
    assert dmg("fn", "start", LIBRARY).exit_code == 1
    listed = dmg("fn", "ls")
    assert f"{ECHO}@1.0.0  running    lambda" in listed.output
    answer = dmg("fn", "invoke", ECHO, "event", "--input", '{"a": [1, 2]}')
    assert answer.exit_code == 0 and json.loads(answer.stdout) == {"a": [1, 2]}
    event = tmp_path / "event.json"
    event.write_text('"from a file"')
    with_logs = dmg("fn", "invoke", ECHO, "event", "--input", f"@{event}", "--logs")
    assert json.loads(with_logs.stdout) == "from a file" and "echo: event got" in with_logs.stderr
    failed = dmg("fn", "invoke", ECHO, "fail")
    assert failed.exit_code == 1
    assert "echo: failing on purpose" in failed.stderr and "dmg: error: EXIT(3): exited with code 3" in failed.stderr
    not_json = dmg("fn", "invoke", ECHO, "event", "--input", "{nope")
    assert not_json.exit_code == 1 and "--input: not JSON" in not_json.stderr
    missing = dmg("fn", "invoke", ECHO, "event", "--input", f"@{tmp_path / 'none.json'}")
    assert missing.exit_code == 1 and "cannot read the file" in missing.stderr
    logs = dmg("fn", "logs", ECHO, "--last", "2")
    heads = [line for line in logs.output.splitlines() if line.startswith("#")]
    assert len(heads) == 2 and " event succeeded " in heads[0]
    assert " fail failed " in heads[1] and heads[1].endswith(" ms: EXIT(3): exited with code 3")
    assert "  | echo: failing on purpose" in logs.output


def test_pause_queues_and_logs_follow_what_ends(dmg: Runner, orchestrator: Orchestrator) -> None:
    orchestrator.ready(ECHO)
    assert dmg("fn", "pause", ECHO).output == f"{ECHO}: paused\n"
    queued = dmg("fn", "invoke", ECHO, "event", "--input", '"waited"')
    assert queued.output.startswith("queued as ") and f"dmg fn resume {ECHO} delivers it" in queued.output
    illegal = dmg("fn", "pause", ECHO)
    assert illegal.exit_code == 1 and "cannot pause" in illegal.stderr and "it is paused" in illegal.stderr

    def later() -> None:
        time.sleep(0.3)
        with OrchestratorClient(orchestrator.client.url) as own:
            own.act("resume", ECHO)
            own.invoke(ECHO, "event", "fresh")

    worker = threading.Thread(target=later)
    worker.start()
    followed = dmg("fn", "logs", ECHO, "--last", "1", "--follow", "--for", "1.5", "--interval", "0.1", "--json")
    worker.join()
    outputs = [json.loads(line)["output"] for line in followed.output.splitlines()]
    assert sorted(outputs[-2:]) == ["fresh", "waited"], followed.output  # each printed once, as it ends


def test_stop_and_destroy(dmg: Runner, orchestrator: Orchestrator) -> None:
    orchestrator.ready(ECHO)
    assert dmg("fn", "stop", ECHO).output == f"{ECHO}: stopped\n"
    assert dmg("fn", "destroy", ECHO, "--json").output.strip() == json.dumps({"destroyed": ECHO}, indent=2)
    gone = dmg("fn", "invoke", ECHO, "event")
    assert gone.exit_code == 1 and f"{ECHO} is not installed" in gone.stderr


def test_no_orchestrator_is_one_clear_line() -> None:
    result = CliRunner().invoke(cli, ["fn", "ls", "--orchestrator", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and result.stderr.startswith(
        "dmg: error: the orchestrator at http://127.0.0.1:9 cannot"
    )


def test_serve_refuses_bad_settings_before_listening(tmp_path: Path) -> None:
    bad_port = CliRunner().invoke(cli, ["orchestrator", "serve", "--port", "99999", "--data", str(tmp_path)])
    assert bad_port.exit_code == 1 and "port: 99999 is not a TCP port" in bad_port.stderr
    policy = tmp_path / "policy.toml"
    policy.write_text("[allow]\nmemory = 'lots'\n")
    bad_policy = CliRunner().invoke(cli, ["orchestrator", "serve", "--policy", str(policy), "--data", str(tmp_path)])
    assert bad_policy.exit_code == 1 and "allow.memory: 'lots' is not a size" in bad_policy.stderr


async def caller_lockfile(registry: str, trust: Path) -> str:
    async with HttpClient(registry, trust=TrustPolicy(TrustStore(trust))) as client:
        request = DXN.parse(f"{CALLER}@^1")
        solution = Resolver(await prefetch(client, [request])).resolve([Dependency.from_dxn(request)])
    return Lockfile.from_solution(solution).to_text()


def test_install_from_a_lockfile(dmg: Runner, registry_url: str, tmp_path: Path) -> None:
    lockfile = tmp_path / "dmg.lock"
    lockfile.write_text(asyncio.run(caller_lockfile(registry_url, tmp_path / "trust")))
    installed = dmg("fn", "install", "--lockfile", str(lockfile))
    assert installed.exit_code == 0, installed.output
    assert installed.output.splitlines()[0] == f"{LIBRARY} 1.0.0  (to install)"
    assert installed.output.splitlines()[-1] == f"installed 2 module(s); start with: dmg fn start {CALLER}"
    listed = {item["dxn"]: item["root"] for item in json.loads(dmg("fn", "ls", "--json").output)}
    assert listed[CALLER] and not listed[LIBRARY]
    both = dmg("fn", "install", CALLER, "--lockfile", str(lockfile))
    assert both.exit_code == 1 and "a DXN[@RANGE] or --lockfile FILE" in both.stderr
    lockfile.write_text("lock-version = 7\n")
    damaged = dmg("fn", "install", "--lockfile", str(lockfile))
    assert damaged.exit_code == 1 and "lock-version 7 is not supported" in damaged.stderr
