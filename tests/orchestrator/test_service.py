"""The orchestrator end to end, on real servers on loopback: a registry service with the C fixture functions
published to it (compiled by clang from ``fixtures/functions``), an orchestrator service installing from it under a
policy file, and a local HTTP server for the network grant (one host allowed, one refused).

Publish → install (plan, policy, verification, compile once) → start → invoke → result; every hostile function is
contained with its typed error while a well-behaved one keeps answering; pausing queues, resuming delivers,
stopping cancels; long-lived memory survives a pause and not a stop; destroy removes data; a restarted orchestrator
has every function back in its state; ``/metrics`` reports per-function figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dmg.core.checkpoint import NoteSigner
from dmg.core.errors import ConflictError, DmgError, NotFoundError, SignatureError
from orchestrator.client import OrchestratorClient
from orchestrator.errors import (
    FailureKind,
    GrantError,
    IllegalTransitionError,
    InvocationError,
    NotRunningError,
    PolicyError,
)
from orchestrator.service.graphql.schema import SCHEMA_FILE, printed_schema
from orchestrator.service.server import BackgroundServer
from orchestrator.service.settings import OrchestratorSettings
from tests.support.orchestrators import (
    CALLER,
    COUNTER,
    ECHO,
    FETCH,
    GREEDY,
    HOSTILE,
    LIBRARY,
    STORAGE,
    TRANSFORM,
    Orchestrator,
)
from tests.support.paths import ROOT


@pytest.fixture
def client(orchestrator: Orchestrator) -> OrchestratorClient:
    return orchestrator.client


def failure(call: Callable[..., Any], *args: Any) -> InvocationError:
    with pytest.raises(InvocationError) as caught:
        call(*args)
    return caught.value


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- install, invoke ------------------------------------------------------------------------------------------


def test_publish_install_start_invoke(client: OrchestratorClient) -> None:
    plan = client.plan(TRANSFORM)
    assert plan["allowed"] and [module["dxn"] for module in plan["modules"]] == [TRANSFORM]
    assert TRANSFORM not in {item["dxn"] for item in client.functions()}
    installed = client.install(TRANSFORM)
    assert [(module["dxn"], module["alreadyInstalled"]) for module in installed["modules"]] == [(TRANSFORM, False)]
    function = client.function(TRANSFORM)
    assert function["state"] == "INSTALLED" and function["root"] and function["version"] == "1.0.0"
    assert [entry["mode"] for entry in function["entryPoints"]] == ["lambda"] * 3
    with pytest.raises(NotRunningError, match="is installed; start it"):
        client.invoke(TRANSFORM, "shout", {"text": "x"})
    assert client.act("start", TRANSFORM)["state"] == "RUNNING"
    record = client.invoke(TRANSFORM, "shout", {"text": "hello function world"})
    assert record["status"] == "SUCCEEDED" and record["output"] == {
        "text": "HELLO FUNCTION WORLD",
        "words": 3,
        "length": 20,
    }
    assert record["fuelUsed"] > 0 and record["peakMemory"] >= 65536 and record["durationMs"] > 0
    assert client.install(TRANSFORM)["modules"][0]["alreadyInstalled"]


def test_invocation_failures_are_typed_and_recorded_with_their_logs(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    orchestrator.ready(TRANSFORM)
    exited = failure(client.invoke, ECHO, "fail", {})
    assert (exited.kind, exited.exit_code, exited.code) == (FailureKind.EXIT, 3, "FUNCTION_FAILED")
    record = client.invocation(exited.invocation_id or "")
    assert record["status"] == "FAILED" and "echo: failing on purpose" in record["logs"]
    assert record["error"] == {
        "code": "FUNCTION_FAILED", "message": "EXIT(3): exited with code 3", "kind": "EXIT",
        "detail": "exited with code 3", "exitCode": 3,
    }  # fmt: skip
    assert failure(client.invoke, TRANSFORM, "shout", {"words": 1}).kind is FailureKind.INVALID_INPUT
    assert failure(client.invoke, TRANSFORM, "bad-output", None).kind is FailureKind.INVALID_OUTPUT
    assert failure(client.invoke, TRANSFORM, "not-json", None).kind is FailureKind.INVALID_OUTPUT
    unknown = failure(client.invoke, TRANSFORM, "missing", None)
    assert unknown.kind is FailureKind.INVALID_INPUT and "has no function 'missing'" in unknown.detail


def test_hostile_functions_are_contained_while_a_good_one_keeps_answering(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    orchestrator.ready(HOSTILE)
    expected = {
        "loop": {FailureKind.OUT_OF_FUEL, FailureKind.TIMEOUT},
        "sleep": {FailureKind.TIMEOUT},
        "bomb": {FailureKind.OUT_OF_MEMORY},
        "flood": {FailureKind.OUTPUT_TOO_LARGE},
        "trap": {FailureKind.TRAP},
        "recurse": {FailureKind.TRAP},
        "exit": {FailureKind.EXIT},
    }

    def attack(function: str) -> InvocationError:
        with OrchestratorClient(client.url) as own:
            return failure(own.invoke, HOSTILE, function, {})

    with ThreadPoolExecutor(len(expected)) as pool:
        attacks = {function: pool.submit(attack, function) for function in expected}
        answers = 0
        while not all(future.done() for future in attacks.values()):
            assert client.invoke(ECHO, "event", {"n": answers})["output"] == {"n": answers}
            answers += 1
    for function, future in attacks.items():
        error = future.result()
        assert error.kind in expected[function], (function, error)
        assert client.invocation(error.invocation_id or "")["error"]["kind"] == error.kind.value
    assert answers > 0 and client.function(HOSTILE)["state"] == "RUNNING"
    assert client.invoke(ECHO, "event", "still here")["output"] == "still here"


# --- grants ---------------------------------------------------------------------------------------------------


def test_the_network_grant_reaches_the_granted_host_only(orchestrator: Orchestrator, http_port: int) -> None:
    client = orchestrator.client
    plan = client.plan(FETCH)
    assert plan["modules"][0]["checks"] == [
        {"resource": "network", "asked": f"127.0.0.1:{http_port}", "allowed": f"127.0.0.1:{http_port}", "granted": True}
    ]
    orchestrator.ready(FETCH)
    allowed = client.invoke(FETCH, "fetch", {"url": f"http://127.0.0.1:{http_port}/hello"})["output"]
    assert allowed["status"] == 0 and allowed["result"]["status"] == 200 and allowed["result"]["body"] == "pong /hello"
    refused = client.invoke(FETCH, "fetch", {"url": f"http://localhost:{http_port}/hello"})["output"]
    assert refused["status"] == -2 and refused["result"]["error"]["kind"] == "DENIED"


def test_the_policy_refuses_what_it_does_not_allow_and_grants_open_it(
    orchestrator: Orchestrator, http_port: int
) -> None:
    client = orchestrator.client
    plan = client.plan(GREEDY)
    assert not plan["allowed"]
    assert [(check["resource"], check["asked"], check["granted"]) for check in plan["modules"][0]["checks"]] == [
        ("memory", "512 MiB", False), ("network", "evil.example.net", False),
    ]  # fmt: skip
    with pytest.raises(PolicyError) as caught:
        client.install(GREEDY)
    assert caught.value.refusals == (
        f"{GREEDY} asks for memory 512 MiB; the policy allows 64 MiB",
        f"{GREEDY} asks for network evil.example.net; the policy allows 127.0.0.1:{http_port}",
    )
    assert GREEDY not in {item["dxn"] for item in client.functions()}
    with pytest.raises(GrantError, match=r"grant\.memory: 2 GiB is above the runtime's maximum"):
        client.install(GREEDY, ["memory=2GiB"])
    client.install(GREEDY, ["memory=512MiB", "network=evil.example.net"])
    granted = client.function(GREEDY)["granted"]
    assert granted["limits"]["memory"] == 512 << 20 and granted["network"] == ["evil.example.net"]
    assert client.destroy(GREEDY) == GREEDY


def test_storage_is_kept_between_invocations_and_destroy_removes_it(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(STORAGE)
    assert client.invoke(STORAGE, "append", {"line": "one"})["output"] == {"lines": 1, "bytes": 4}
    last = client.invoke(STORAGE, "append", {"line": "two"})
    assert last["output"] == {"lines": 2, "bytes": 8}
    data = orchestrator.data_dir / "functions" / STORAGE.replace("/", "+") / "data"
    assert (data / "lines.txt").read_text() == "one\ntwo\n"
    with pytest.raises(IllegalTransitionError, match=f"cannot destroy {STORAGE}: it is running"):
        client.destroy(STORAGE)
    client.act("stop", STORAGE)
    client.destroy(STORAGE)
    assert not data.parent.exists()
    with pytest.raises(NotFoundError, match="is not installed"):
        client.function(STORAGE)
    with pytest.raises(NotFoundError, match="no invocation"):
        client.invocation(last["id"])
    orchestrator.ready(STORAGE)
    assert client.invoke(STORAGE, "count", None)["output"] == {"lines": 0, "bytes": 0}


def test_installs_are_checked_against_the_registry_log_with_its_own_trust_store(
    orchestrator: Orchestrator, registry_url: str, tmp_path: Path
) -> None:
    orchestrator.ready(ECHO)
    pinned = json.loads((orchestrator.data_dir / "trust" / "pins.json").read_text())[registry_url]
    other = NoteSigner(pinned.split("+")[0], Ed25519PrivateKey.generate()).verifier().to_vkey()
    settings = OrchestratorSettings(registry=registry_url, registry_key=other, data_dir=tmp_path, port=0)
    with BackgroundServer(settings) as url, OrchestratorClient(url) as wary:
        with pytest.raises(SignatureError, match=r"signs its log with the key .*, not the pinned"):
            wary.install(ECHO)
        assert wary.functions() == []


# --- dependencies ---------------------------------------------------------------------------------------------


def test_dependencies_install_first_start_first_and_answer_calls(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    plan = client.install(CALLER)
    assert [module["dxn"] for module in plan["modules"]] == [LIBRARY, CALLER]
    assert not client.function(LIBRARY)["root"] and client.function(CALLER)["root"]
    client.act("start", CALLER)
    assert client.function(LIBRARY)["state"] == "RUNNING"
    answer = client.invoke(CALLER, "call", {"module": LIBRARY, "function": "event", "event": {"x": 1}})["output"]
    assert answer == {"status": 0, "result": {"x": 1}}
    assert client.invocations(LIBRARY)[-1]["input"] == {"x": 1}
    denied = client.invoke(CALLER, "call", {"module": ECHO, "function": "event", "event": 1})["output"]
    assert denied["status"] == -2 and "not a declared dependency" in denied["result"]["error"]["detail"]
    client.act("pause", LIBRARY)
    paused = client.invoke(CALLER, "call", {"module": LIBRARY, "function": "event", "event": 2})["output"]
    assert paused["status"] == -4 and paused["result"]["error"]["kind"] == "NOT_RUNNING"
    client.act("resume", LIBRARY)
    client.act("stop", LIBRARY)
    with pytest.raises(ConflictError, match=f"cannot destroy {LIBRARY}: {CALLER} depends on it"):
        client.destroy(LIBRARY)
    client.act("start", LIBRARY)


def test_a_bundle_is_stored_and_compiled_once_for_every_function(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    client.install(CALLER)
    bundles = {client.function(name)["bundle"] for name in (ECHO, LIBRARY)}
    assert len(bundles) == 1
    compiled = list((orchestrator.data_dir / "compiled").glob("wasmtime-*/*.cwasm"))
    installed = {item["bundle"] for item in client.functions()}
    assert sorted(path.stem for path in compiled) == sorted(installed)


# --- life cycle -----------------------------------------------------------------------------------------------


def test_pause_queues_resume_delivers_stop_cancels(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    client.act("pause", ECHO)
    queued = [client.invoke(ECHO, "event", {"n": n}) for n in range(3)]
    assert [record["status"] for record in queued] == ["QUEUED"] * 3 and client.queued(ECHO) == 3
    with pytest.raises(IllegalTransitionError, match="it is paused"):
        client.act("start", ECHO)
    client.act("resume", ECHO)
    wait_for(lambda: all(client.invocation(record["id"])["status"] == "SUCCEEDED" for record in queued))
    assert [client.invocation(record["id"])["output"] for record in queued] == [{"n": 0}, {"n": 1}, {"n": 2}]
    client.act("pause", ECHO)
    held = client.invoke(ECHO, "event", "held")
    client.act("stop", ECHO)
    cancelled = client.invocation(held["id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["error"]["code"] == "NOT_RUNNING"
    for action in ("pause", "resume", "stop"):
        with pytest.raises(IllegalTransitionError) as caught:
            client.act(action, ECHO)
        assert caught.value.code == "ILLEGAL_TRANSITION" and "it is stopped" in str(caught.value)
    with pytest.raises(NotRunningError, match="is stopped"):
        client.invoke(ECHO, "event", 1)
    client.act("start", ECHO)


def test_long_lived_memory_survives_pause_and_not_stop(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    client.install(COUNTER) if COUNTER not in {item["dxn"] for item in client.functions()} else None
    assert client.function(COUNTER)["entryPoints"][0]["mode"] == "long-lived"
    started = client.act("start", COUNTER)
    assert started["live"]

    def count() -> int:
        return int(client.invoke(COUNTER, "count", None)["output"]["count"])

    assert [count(), count()] == [1, 2]
    client.act("pause", COUNTER)
    assert client.function(COUNTER)["live"]
    client.act("resume", COUNTER)
    assert count() == 3
    client.act("stop", COUNTER)
    assert not client.function(COUNTER)["live"]
    client.act("start", COUNTER)
    assert count() == 1
    assert failure(client.invoke, COUNTER, "trap", None).kind is FailureKind.TRAP
    assert count() == 1


def test_a_restarted_orchestrator_has_every_function_back_in_its_state(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    for name in (ECHO, TRANSFORM, COUNTER):
        orchestrator.ready(name)
    client.act("pause", TRANSFORM)
    held = client.invoke(TRANSFORM, "shout", {"text": "after restart"})
    client.act("pause", COUNTER)
    before = {item["dxn"]: (item["state"], item["version"], item["granted"]) for item in client.functions()}
    records = len(client.invocations(ECHO, first=50))
    orchestrator.restart()
    client = orchestrator.client
    assert {item["dxn"]: (item["state"], item["version"], item["granted"]) for item in client.functions()} == before
    assert client.queued(TRANSFORM) == 1 and len(client.invocations(ECHO, first=50)) == records
    assert client.invoke(ECHO, "event", "back")["output"] == "back"
    client.act("resume", TRANSFORM)
    wait_for(lambda: client.invocation(held["id"])["status"] == "SUCCEEDED")
    assert client.invocation(held["id"])["output"]["text"] == "AFTER RESTART"
    client.act("resume", COUNTER)
    assert client.function(COUNTER)["live"]


# --- observability and errors ---------------------------------------------------------------------------------


def test_metrics_report_invocations_errors_durations_fuel_and_memory(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    orchestrator.ready(HOSTILE)
    client.invoke(ECHO, "event", 1)
    failure(client.invoke, HOSTILE, "trap", None)
    text = httpx.get(f"{client.url}/metrics").text
    echo = f'function="event",module="{ECHO}"'
    assert f'dmg_orchestrator_invocations_total{{{echo},status="succeeded"}}' in text
    assert f'dmg_orchestrator_invocation_errors_total{{function="trap",kind="TRAP",module="{HOSTILE}"}}' in text
    assert f'dmg_orchestrator_invocation_duration_seconds_bucket{{function="event",le="+Inf",module="{ECHO}"}}' in text
    assert f"dmg_orchestrator_fuel_used_total{{{echo}}}" in text
    assert f"dmg_orchestrator_peak_memory_bytes{{{echo}}}" in text
    assert 'dmg_orchestrator_functions{state="running"}' in text and "dmg_orchestrator_queued_invocations" in text
    assert 'dmg_orchestrator_http_requests_total{method="POST",route="/graphql",status="200"}' in text


def graphql_error(client: OrchestratorClient, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(f"{client.url}/graphql", json={"query": query, "variables": variables}).json()
    assert answer.get("errors"), answer
    error: dict[str, Any] = answer["errors"][0]
    return error


def test_control_api_errors_carry_their_codes(orchestrator: Orchestrator) -> None:
    client = orchestrator.client
    orchestrator.ready(ECHO)
    failed = graphql_error(client, f'mutation {{ invoke(dxn: "{ECHO}", function: "fail") {{ id }} }}')
    assert failed["extensions"]["code"] == "FUNCTION_FAILED" and failed["extensions"]["kind"] == "EXIT"
    assert failed["extensions"]["exitCode"] == 3 and failed["extensions"]["invocationId"]
    codes = {
        '{ function(dxn: "com.example/function/none") { dxn } }': "NOT_FOUND",
        '{ function(dxn: "Not A DXN") { dxn } }': "BAD_REQUEST",
        f'{{ invocations(dxn: "{ECHO}", first: 500) {{ id }} }}': "BAD_REQUEST",
        f'mutation {{ install(dxn: "{ECHO}", grants: ["cpu=1"]) {{ request }} }}': "INVALID_GRANT",
        f'mutation {{ install(dxn: "{GREEDY}") {{ request }} }}': "POLICY_REFUSED",
        f'mutation {{ resume(dxn: "{ECHO}") {{ state }} }}': "ILLEGAL_TRANSITION",
        "{ nothing }": "BAD_REQUEST",
    }
    for query, code in codes.items():
        assert graphql_error(client, query)["extensions"]["code"] == code, query
    unknown = graphql_error(client, 'mutation { install(dxn: "com.example/function/never-published") { request } }')
    assert unknown["extensions"]["code"] == "BAD_REQUEST" and "never-published" in unknown["message"], unknown
    refused = graphql_error(client, f'mutation {{ install(dxn: "{GREEDY}") {{ request }} }}')
    assert len(refused["extensions"]["refusals"]) == 2
    not_json = httpx.post(f"{client.url}/graphql", content=b"{", headers={"content-type": "application/json"})
    assert not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert httpx.get(f"{client.url}/healthz").json() == {"status": "ok"}


def test_a_client_of_no_orchestrator_fails_clearly() -> None:
    with OrchestratorClient("http://127.0.0.1:9") as nobody, pytest.raises(DmgError, match="cannot be reached"):
        nobody.functions()
    with pytest.raises(DmgError, match="is not an http"):
        OrchestratorClient("ftp://example.com")


def test_the_checked_in_schema_matches_the_code() -> None:
    assert ROOT / "schema" / "orchestrator.graphql" == SCHEMA_FILE
    assert SCHEMA_FILE.read_text() == printed_schema(), "run: python -m orchestrator.service.graphql.schema --write"
