"""The WASI runtime on real modules compiled from ``fixtures/functions/*.c``, with a real HTTP server on 127.0.0.1.

Every hostile fixture runs in the same runtime as the well-behaved ones and must end with its typed error while
the others keep answering. Also covered: the limit policy, allow-lists, storage quotas, calls between functions,
long-lived instances and the compiled-module cache.
"""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from dmg.core.errors import BundleError, NotFoundError
from dmg.core.records import FunctionSpec, Resources
from dmg.core.units import GiB, KiB, MiB
from orchestrator.errors import FailureKind, GrantError, InvocationError, OrchestratorError
from orchestrator.runtimes import (
    MAX_CALL_DEPTH,
    AgentContext,
    AllowList,
    CallRequest,
    DataDirectory,
    Grants,
    LimitPolicy,
    Limits,
)
from orchestrator.runtimes.storage import ENTRY_COST, directory_usage
from orchestrator.runtimes.wasi import InstalledModule, WasiRuntime
from orchestrator.runtimes.wasi.poll import poll_oneoff
from tests.support.wasm import function_wasm

ECHO = ("echo", "event", "fail")
TRANSFORM = ("shout", "bad-output", "not-json")
STORAGE = ("append", "count", "fill", "clear")
FETCH = ("fetch", "small-buffer", "no-result", "bad-pointers")
HOSTILE = ("loop", "sleep", "bomb", "flood", "chatty", "trap", "convert", "recurse", "exit", "escape")
COUNTER = ("count", "echo", "grow", "big", "trap", "fail", "loop")
DENIED, INVALID, FAILED, TOO_SMALL, NO_RESULT = -2, -3, -4, -1, -5
QUICK = Limits(fuel=500_000_000, timeout_ms=2_000, memory=16 * MiB)
"""Limits small enough that a hostile fixture is stopped in well under a second."""


def specs(*names: str, **schemas: dict[str, Any]) -> list[FunctionSpec]:
    return [FunctionSpec(name=name, input_schema=schemas.get(name.replace("-", "_"), {})) for name in names]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WasiRuntime]:
    with WasiRuntime(str(tmp_path_factory.mktemp("compiled")), http_timeout=2.0, http_max_response=64 * KiB) as rt:
        for name in ("echo", "transform", "storage", "fetch", "caller", "hostile", "counter"):
            rt.add_bundle(name, function_wasm(name))
        yield rt


def install(rt: WasiRuntime, key: str, functions: tuple[str, ...], **options: Any) -> InstalledModule:
    return rt.install(key, module=f"org.example/function/{key}", functions=specs(*functions), **options)


@pytest.fixture(scope="module")
def echo(runtime: WasiRuntime) -> InstalledModule:
    return install(runtime, "echo", ECHO)


@pytest.fixture(scope="module")
def hostile(runtime: WasiRuntime) -> InstalledModule:
    return install(runtime, "hostile", HOSTILE, grants=Grants(limits=QUICK))


def failure(call: Any, *args: Any, **kwargs: Any) -> InvocationError:
    with pytest.raises(InvocationError) as caught:
        call(*args, **kwargs)
    return caught.value


def still_answering(rt: WasiRuntime, echo: InstalledModule) -> None:
    assert rt.invoke(echo, "event", {"alive": True}).output == {"alive": True}


# --- limits and grants, without running anything ---------------------------------------------------------------


def test_policy_uses_the_request_then_the_defaults_and_caps_at_the_maximums() -> None:
    policy = LimitPolicy(defaults=Limits(memory=32 * MiB), maximums=Limits(memory=128 * MiB, timeout_ms=60_000))
    asked = Resources(memory=4 * GiB, cpu_timeout_ms=600_000, cpu_fuel=1000)
    limits = policy.limits_for(asked)
    assert (limits.memory, limits.timeout_ms, limits.fuel) == (128 * MiB, 60_000, 1000)
    assert policy.limits_for(Resources()).memory == 32 * MiB
    assert LimitPolicy(max_storage=MiB).storage_quota_for(Resources(storage=GiB)) == MiB
    assert LimitPolicy().storage_quota_for(Resources()) is None


def test_limits_read_operator_units_and_reject_bad_values() -> None:
    limits = Limits.from_dict({"memory": "32MiB", "timeout": "5s", "fuel": 1000, "output": 4096})
    assert (limits.memory, limits.timeout_ms, limits.fuel, limits.output) == (32 * MiB, 5000, 1000, 4096)
    assert Limits.from_dict(limits.to_dict()) == limits
    with pytest.raises(GrantError, match=r"limits\.cpu: unknown limit"):
        Limits.from_dict({"cpu": 1})
    with pytest.raises(GrantError, match=r"limits\.memory: '32 potatoes' is not a size"):
        Limits.from_dict({"memory": "32 potatoes"})
    with pytest.raises(GrantError, match=r"limits\.fuel: must be a non-negative integer, not -1"):
        Limits(fuel=-1)
    with pytest.raises(GrantError, match=r"limits\.memory: the default 2147483648 is above the maximum"):
        LimitPolicy(defaults=Limits(memory=2 * GiB))


def test_allow_list_matches_host_port_default_ports_and_subdomains() -> None:
    allow = AllowList.parse(["api.example.com:8443", "plain.example.com", "*.cdn.example.com", "127.0.0.1:9000"])
    assert allow.permits("https", "API.example.com", 8443)
    assert not allow.permits("https", "api.example.com", 443)
    assert allow.permits("http", "plain.example.com", 80) and allow.permits("https", "plain.example.com", 443)
    assert not allow.permits("http", "plain.example.com", 8080)
    assert allow.permits("https", "img.cdn.example.com", 443) and not allow.permits("https", "cdn.example.com", 443)
    assert allow.permits("http", "127.0.0.1", 9000) and not allow.permits("http", "127.0.0.1", 9001)
    assert not allow.permits("ftp", "plain.example.com", 80)
    assert not AllowList() and str(AllowList()) == "(none)"
    for bad in ("http://x.com", "x.com:99999", "*", "a b", ""):
        with pytest.raises(GrantError, match="is not host, host:port"):
            AllowList.parse([bad])
    with pytest.raises(GrantError, match="a list of hosts"):
        AllowList.parse("example.com")


def test_grants_need_a_call_handler_for_dependencies_and_typed_parts() -> None:
    with pytest.raises(GrantError, match="no call handler"):
        Grants(dependencies=frozenset({"org.example/function/echo"}))
    with pytest.raises(GrantError, match="AllowList"):
        Grants(network=["example.com"])  # type: ignore[arg-type]
    with pytest.raises(GrantError, match="set of module names"):
        Grants(dependencies="org.example/function/echo", call=print)  # type: ignore[arg-type]


def test_data_directory_charges_sizes_and_entries(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a").write_bytes(b"x" * 100)
    (tmp_path / "b").write_bytes(b"")
    assert directory_usage(tmp_path) == 100 + 3 * ENTRY_COST
    data = DataDirectory(tmp_path / "new" / "dir", quota=10)
    assert data.path.is_dir() and data.usage == 0 and data.writable
    with pytest.raises(GrantError, match="non-negative integer of bytes"):
        DataDirectory(tmp_path, quota=-1)


def test_invocation_error_label_and_shape() -> None:
    error = InvocationError(FailureKind.EXIT, "exited with code 3", exit_code=3)
    assert str(error) == "EXIT(3): exited with code 3"
    assert error.to_dict() == {"kind": "EXIT", "detail": "exited with code 3", "exitCode": 3}
    assert InvocationError(FailureKind.TIMEOUT, "late").label == "TIMEOUT"
    with pytest.raises(ValueError, match="exit_code"):
        InvocationError(FailureKind.TRAP, "x", exit_code=1)


# --- lambda invocations of well-behaved functions --------------------------------------------------------------


def test_echo_sees_the_invocation_json_with_its_context(runtime: WasiRuntime, echo: InstalledModule) -> None:
    agent = AgentContext("did:key:z6Mk", "alice", ("space-1",))
    result = runtime.invoke(echo, "echo", {"n": 1, "text": "héllo"}, agent=agent, extra={"trigger": "t"})
    assert result.output == {
        "event": {"n": 1, "text": "héllo"},
        "context": {
            "function": "echo",
            "module": "org.example/function/echo",
            "invocationId": result.invocation_id,
            "agent": {"did": "did:key:z6Mk", "name": "alice", "spaces": ["space-1"]},
            "trigger": "t",
        },
    }
    assert result.logs.startswith("echo: echo got ")
    assert result.fuel_used > 0 and result.peak_memory >= 64 * KiB and result.duration > 0
    assert runtime.invoke(echo, "event", [1, 2], invocation_id="inv-1").invocation_id == "inv-1"
    assert runtime.invoke(echo, "echo", None).output["context"]["agent"] is None


def test_argv_names_the_function_and_a_non_zero_exit_fails(runtime: WasiRuntime, echo: InstalledModule) -> None:
    assert runtime.invoke(echo, "event", "just this").output == "just this"
    error = failure(runtime.invoke, echo, "fail", {})
    assert (error.kind, error.exit_code, error.label) == (FailureKind.EXIT, 3, "EXIT(3)")
    assert "failing on purpose" in error.logs


def test_transform_and_schema_checks(runtime: WasiRuntime) -> None:
    text_schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    functions = [
        FunctionSpec(name="shout", input_schema=text_schema, output_schema={"type": "object", "required": ["words"]}),
        FunctionSpec(name="bad-output", output_schema={"properties": {"text": {"type": "string"}}}),
        FunctionSpec(name="not-json"),
    ]
    transform = runtime.install("transform", module="org.example/function/transform", functions=functions)
    shouted = runtime.invoke(transform, "shout", {"text": 'say "hi" twice'}).output
    assert shouted == {"text": 'SAY "HI" TWICE', "words": 3, "length": 14}

    error = failure(runtime.invoke, transform, "shout", {"text": 5})
    assert error.kind is FailureKind.INVALID_INPUT and "at /text" in error.detail
    error = failure(runtime.invoke, transform, "missing", {})
    assert error.kind is FailureKind.INVALID_INPUT and "has no function 'missing'" in error.detail
    error = failure(runtime.invoke, transform, "not-json", {1, 2})
    assert error.kind is FailureKind.INVALID_INPUT and "not JSON" in error.detail
    error = failure(runtime.invoke, transform, "bad-output", {})
    assert error.kind is FailureKind.INVALID_OUTPUT and "at /text" in error.detail
    error = failure(runtime.invoke, transform, "not-json", {})
    assert error.kind is FailureKind.INVALID_OUTPUT and "this is not JSON" in error.detail


# --- hostile functions: each contained, the others unaffected -----------------------------------------------


@pytest.mark.parametrize(
    ("function", "kind", "limits"),
    [
        ("loop", FailureKind.OUT_OF_FUEL, QUICK),
        ("loop", FailureKind.TIMEOUT, Limits(fuel=10**12, timeout_ms=200)),
        ("sleep", FailureKind.TIMEOUT, Limits(timeout_ms=200)),
        ("bomb", FailureKind.OUT_OF_MEMORY, QUICK),
        ("flood", FailureKind.OUTPUT_TOO_LARGE, QUICK),
        ("trap", FailureKind.TRAP, QUICK),
        ("convert", FailureKind.TRAP, QUICK),
        ("recurse", FailureKind.TRAP, QUICK),
        ("exit", FailureKind.EXIT, QUICK),
    ],
)
def test_hostile_function_fails_with_its_typed_error(
    runtime: WasiRuntime, echo: InstalledModule, function: str, kind: FailureKind, limits: Limits
) -> None:
    module = install(runtime, "hostile", HOSTILE, grants=Grants(limits=limits))
    started = time.monotonic()
    error = failure(runtime.invoke, module, function, {})
    assert error.kind is kind, error
    assert time.monotonic() - started < 2.0
    still_answering(runtime, echo)


def test_failure_details_say_what_happened(runtime: WasiRuntime, hostile: InstalledModule) -> None:
    assert failure(runtime.invoke, hostile, "trap", {}).detail == "wasm trap: wasm `unreachable` instruction executed"
    assert "invalid conversion to integer" in failure(runtime.invoke, hostile, "convert", {}).detail
    bomb = failure(runtime.invoke, hostile, "bomb", {})
    assert "of 16777216 bytes" in bomb.detail and "malloc failed after" in bomb.logs
    assert failure(runtime.invoke, hostile, "exit", {}).exit_code == 42
    assert "the limit is 1048576" in failure(runtime.invoke, hostile, "flood", {}).detail


def test_log_flood_is_truncated_not_fatal(runtime: WasiRuntime) -> None:
    module = install(runtime, "hostile", HOSTILE, grants=Grants(limits=Limits(logs=1000)))
    result = runtime.invoke(module, "chatty", {"bytes": 100_000})
    assert result.output == {"ok": True}
    assert result.logs.startswith("y" * 1000) and "more bytes dropped" in result.logs


def test_a_stuck_function_does_not_hold_up_others(runtime: WasiRuntime, echo: InstalledModule) -> None:
    stuck = install(runtime, "hostile", HOSTILE, grants=Grants(limits=Limits(fuel=10**12, timeout_ms=1000)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        looping = pool.submit(failure, runtime.invoke, stuck, "loop", {})
        time.sleep(0.05)
        started = time.monotonic()
        for _ in range(20):
            still_answering(runtime, echo)
        assert time.monotonic() - started < 0.9
        assert not looping.done()
        assert looping.result().kind is FailureKind.TIMEOUT


def test_no_grants_means_no_files_no_environment_no_network(runtime: WasiRuntime, hostile: InstalledModule) -> None:
    report = runtime.invoke(hostile, "escape", {"url": "http://127.0.0.1:9/"}).output
    assert report["http"] == DENIED
    assert report["environment"] == 0
    for attempt in ("passwd", "relative", "data", "tmp", "root"):
        assert report[attempt] != "OPENED", attempt


def test_granted_storage_is_reachable_and_nothing_else(runtime: WasiRuntime, tmp_path: Path) -> None:
    grants = Grants(storage=DataDirectory(tmp_path, quota=MiB))
    report = runtime.invoke(install(runtime, "hostile", HOSTILE, grants=grants), "escape", {}).output
    assert report["data"] == "OPENED" and (tmp_path / "planted").exists()
    assert report["passwd"] != "OPENED" and report["relative"] != "OPENED" and report["tmp"] != "OPENED"


def test_memory_the_module_starts_with_must_fit(runtime: WasiRuntime) -> None:
    tiny = install(runtime, "echo", ECHO, grants=Grants(limits=Limits(memory=64 * KiB)))
    error = failure(runtime.invoke, tiny, "echo", {})
    assert error.kind is FailureKind.OUT_OF_MEMORY and "starts with 131072 bytes" in error.detail


def test_grants_are_capped_by_the_operators_maximums(tmp_path: Path) -> None:
    policy = LimitPolicy(defaults=Limits(memory=8 * MiB), maximums=Limits(memory=16 * MiB), max_storage=KiB)
    with WasiRuntime(policy=policy) as rt:
        rt.add_bundle("hostile", function_wasm("hostile"))
        greedy = Grants(limits=Limits(memory=GiB), storage=DataDirectory(tmp_path, quota=GiB))
        module = install(rt, "hostile", HOSTILE, grants=greedy)
        assert module.grants.limits == policy.maximums and module.grants.storage.quota == KiB
        error = failure(rt.invoke, module, "bomb", {})
        assert error.kind is FailureKind.OUT_OF_MEMORY and "of 16777216 bytes" in error.detail


# --- storage -------------------------------------------------------------------------------------------------


def test_storage_persists_across_fresh_instances(runtime: WasiRuntime, tmp_path: Path) -> None:
    module = install(runtime, "storage", STORAGE, grants=Grants(storage=DataDirectory(tmp_path, quota=MiB)))
    assert runtime.invoke(module, "count", {}).output == {"lines": 0, "bytes": 0}
    runtime.invoke(module, "append", {"line": "one"})
    assert runtime.invoke(module, "append", {"line": "two"}).output == {"lines": 2, "bytes": 8}
    assert (tmp_path / "lines.txt").read_text() == "one\ntwo\n"


def test_storage_quota_fails_the_invocation_and_stops_growth(runtime: WasiRuntime, tmp_path: Path) -> None:
    data = DataDirectory(tmp_path, quota=64 * KiB)
    module = install(runtime, "storage", STORAGE, grants=Grants(storage=data))
    assert runtime.invoke(module, "fill", {"bytes": 16 * KiB}).output == {"written": 16 * KiB}
    error = failure(runtime.invoke, module, "fill", {"bytes": 128 * KiB})
    assert error.kind is FailureKind.QUOTA_EXCEEDED and "the quota is 65536" in error.detail
    assert not data.writable
    refused = runtime.invoke(module, "append", {"line": "more"}).output
    assert refused["during"] == "open" and not (tmp_path / "lines.txt").exists()
    assert runtime.invoke(module, "count", {}).output == {"lines": 0, "bytes": 0}
    (tmp_path / "fill.bin").unlink()
    data.measure()
    assert runtime.invoke(module, "append", {"line": "again"}).output == {"lines": 1, "bytes": 6}


def test_storage_without_a_grant_is_absent(runtime: WasiRuntime) -> None:
    module = install(runtime, "storage", STORAGE)
    assert runtime.invoke(module, "append", {"line": "x"}).output["during"] == "open"


# --- network -------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/big":
            body = b"b" * (128 * KiB)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://example.com/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            body = json.dumps({"path": self.path, "agent": self.headers.get("x-agent")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet: the tests check responses, not the server's log."""


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int]]:
    """Two HTTP servers on 127.0.0.1: the first is granted, the second never is."""
    running = [ThreadingHTTPServer(("127.0.0.1", 0), _Handler) for _ in range(2)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in running]
    for thread in threads:
        thread.start()
    yield running[0].server_address[1], running[1].server_address[1]
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def fetch(runtime: WasiRuntime, servers: tuple[int, int]) -> InstalledModule:
    allowed, _ = servers
    grants = Grants(network=AllowList.parse([f"127.0.0.1:{allowed}", "localhost:1"]), limits=QUICK)
    return install(runtime, "fetch", FETCH, grants=grants)


def test_fetch_reaches_an_allowed_host(runtime: WasiRuntime, fetch: InstalledModule, servers: tuple[int, int]) -> None:
    request = {"url": f"http://127.0.0.1:{servers[0]}/hello", "headers": {"x-agent": "fixture"}}
    outcome = runtime.invoke(fetch, "fetch", request).output
    assert outcome["status"] == 0
    assert outcome["result"]["status"] == 200
    assert outcome["result"]["headers"]["content-type"] == "application/json"
    assert json.loads(outcome["result"]["body"]) == {"path": "/hello", "agent": "fixture"}


def test_fetch_is_refused_for_hosts_not_granted(
    runtime: WasiRuntime, fetch: InstalledModule, echo: InstalledModule, servers: tuple[int, int]
) -> None:
    outcome = runtime.invoke(fetch, "fetch", {"url": f"http://127.0.0.1:{servers[1]}/"}).output
    assert outcome["status"] == DENIED
    assert outcome["result"]["error"]["kind"] == "DENIED"
    assert f"127.0.0.1:{servers[1]} is not on this function's allow-list" in outcome["result"]["error"]["detail"]
    sneaky = runtime.invoke(fetch, "fetch", {"url": f"http://127.0.0.1:{servers[0]}@localhost:2/"}).output
    assert sneaky["status"] == DENIED
    ungranted = install(runtime, "fetch", FETCH)
    outcome = runtime.invoke(ungranted, "fetch", {"url": f"http://127.0.0.1:{servers[0]}/"}).output
    assert outcome["status"] == DENIED and "has no network grant" in outcome["result"]["error"]["detail"]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"url": 5}, "url must be a string"),
        ({"url": "ftp://127.0.0.1/"}, "absolute http:// or https:// URL"),
        ({"url": "http://127.0.0.1/", "verb": "GET"}, "unknown request field 'verb'"),
        ({"url": "http://127.0.0.1/", "method": "BREW"}, "method must be one of"),
        ({"url": "http://127.0.0.1/", "headers": {"Host": "elsewhere"}}, "Host header"),
        ({"url": "http://127.0.0.1/", "body": 1}, "body must be a string"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_fetch_rejects_malformed_requests(
    runtime: WasiRuntime, fetch: InstalledModule, request_: Any, message: str
) -> None:
    outcome = runtime.invoke(fetch, "fetch", request_).output
    assert outcome["status"] == INVALID and message in outcome["result"]["error"]["detail"]


def test_fetch_failures_and_limits(runtime: WasiRuntime, fetch: InstalledModule, servers: tuple[int, int]) -> None:
    closed = runtime.invoke(fetch, "fetch", {"url": "http://localhost:1/"}).output
    assert closed["status"] == FAILED and closed["result"]["error"]["kind"] == "FAILED"
    big = runtime.invoke(fetch, "fetch", {"url": f"http://127.0.0.1:{servers[0]}/big"}).output
    assert big["status"] == FAILED and "larger than 65536 bytes" in big["result"]["error"]["detail"]
    redirect = runtime.invoke(fetch, "fetch", {"url": f"http://127.0.0.1:{servers[0]}/redirect"}).output
    assert redirect["result"]["status"] == 302 and redirect["result"]["headers"]["location"] == "http://example.com/"


def test_results_that_do_not_fit_are_kept_for_dmg_result(
    runtime: WasiRuntime, fetch: InstalledModule, servers: tuple[int, int]
) -> None:
    outcome = runtime.invoke(fetch, "small-buffer", {"url": f"http://127.0.0.1:{servers[0]}/x"}).output
    assert outcome["first"] == TOO_SMALL and outcome["second"] == 0
    assert outcome["needed"] == len(json.dumps(outcome["result"]).encode()) and outcome["result"]["status"] == 200
    assert runtime.invoke(fetch, "no-result", {}).output == {"status": NO_RESULT}


def test_pointers_outside_memory_are_invalid(
    runtime: WasiRuntime, fetch: InstalledModule, servers: tuple[int, int]
) -> None:
    outcome = runtime.invoke(fetch, "bad-pointers", {"url": f"http://127.0.0.1:{servers[0]}/"}).output
    assert outcome["request"] == INVALID and "outside linear memory" in outcome["error"]["error"]["detail"]
    assert outcome["out"] == INVALID and outcome["untouched"] is True


# --- poll_oneoff, on a byte array standing for linear memory ---------------------------------------------------


class _Memory:
    """A bytearray with the bounds-checked read/write the host uses on a guest's memory."""

    def __init__(self, size: int = 1024) -> None:
        self.data = bytearray(size)

    def read(self, ptr: int, length: int) -> bytes | None:
        return bytes(self.data[ptr : ptr + length]) if ptr + length <= len(self.data) else None

    def write(self, ptr: int, data: bytes) -> bool:
        if ptr + len(data) > len(self.data):
            return False
        self.data[ptr : ptr + len(data)] = data
        return True


def clock_subscription(userdata: int, timeout_ns: int, *, clock: int = 1, absolute: bool = False) -> bytes:
    return struct.pack("<QB7xI4xQQH6x", userdata, 0, clock, timeout_ns, 0, int(absolute))


def poll(memory: _Memory, subscriptions: bytes, time_left: float = 5.0) -> tuple[int, list[tuple[int, int]]]:
    memory.write(0, subscriptions)
    errno = poll_oneoff(memory.read, memory.write, 0, 512, len(subscriptions) // 48, 1000, time_left)
    count = struct.unpack_from("<I", memory.data, 1000)[0]
    events = [struct.unpack_from("<QHB", memory.data, 512 + 32 * index) for index in range(count)]
    return errno, [(userdata, kind) for userdata, _, kind in events]


def test_poll_sleeps_for_the_earliest_clock_but_never_past_the_deadline() -> None:
    memory = _Memory()
    started = time.monotonic()
    assert poll(memory, clock_subscription(7, 20_000_000) + clock_subscription(8, 10**12)) == (0, [(7, 0)])
    assert 0.015 < time.monotonic() - started < 1
    started = time.monotonic()
    assert poll(memory, clock_subscription(9, 3600 * 10**9), time_left=0.05) == (0, [(9, 0)])
    assert time.monotonic() - started < 1
    realtime_soon = clock_subscription(10, time.time_ns() + 5_000_000, clock=0, absolute=True)
    assert poll(memory, realtime_soon) == (0, [(10, 0)])


def test_poll_reports_fds_at_once_and_refuses_what_it_cannot_honour() -> None:
    memory = _Memory()
    fd_read = struct.pack("<QB7xI28x", 3, 1, 0)
    assert poll(memory, fd_read + clock_subscription(4, 10**12)) == (0, [(3, 1)])
    assert poll(memory, clock_subscription(5, 1, absolute=True))[0] == 58
    assert poll(memory, clock_subscription(6, 1, clock=2))[0] == 28
    assert poll_oneoff(memory.read, memory.write, 0, 512, 0, 1000, 1.0) == 28
    assert poll_oneoff(memory.read, memory.write, 1000, 512, 1, 1000, 1.0) == 21


# --- calls between functions ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def modules(runtime: WasiRuntime, echo: InstalledModule, hostile: InstalledModule) -> dict[str, InstalledModule]:
    """The caller fixture, allowed to call echo, hostile and itself, through a handler that invokes them."""
    installed = {echo.module: echo, hostile.module: hostile}

    def call(request: CallRequest) -> Any:
        callee = installed[request.module]
        depth = request.caller.depth + 1
        return runtime.invoke(callee, request.function, request.event, agent=request.caller.agent, depth=depth).output

    caller_name = "org.example/function/caller"
    grants = Grants(dependencies=frozenset({*installed, caller_name}), call=call)
    installed[caller_name] = install(runtime, "caller", ("call",), grants=grants)
    return installed


def test_call_reaches_a_declared_dependency(runtime: WasiRuntime, modules: dict[str, InstalledModule]) -> None:
    caller = modules["org.example/function/caller"]
    request = {"module": "org.example/function/echo", "function": "echo", "event": {"q": 1}}
    agent = AgentContext("did:key:z6MkAlice", "alice")
    outcome = runtime.invoke(caller, "call", request, agent=agent).output
    assert outcome["status"] == 0
    assert outcome["result"]["event"] == {"q": 1}
    assert outcome["result"]["context"]["agent"] == {"did": "did:key:z6MkAlice", "name": "alice", "spaces": []}
    assert outcome["result"]["context"]["function"] == "echo"


def test_call_is_refused_outside_the_dependencies(runtime: WasiRuntime, modules: dict[str, InstalledModule]) -> None:
    caller = modules["org.example/function/caller"]
    outcome = runtime.invoke(caller, "call", {"module": "org.example/function/storage", "function": "count"}).output
    assert outcome["status"] == DENIED and "not a declared dependency" in outcome["result"]["error"]["detail"]
    outcome = runtime.invoke(caller, "call", {"module": "org.example/function/echo"}).output
    assert outcome["status"] == INVALID
    unlinked = install(runtime, "caller", ("call",))
    outcome = runtime.invoke(unlinked, "call", {"module": "org.example/function/echo", "function": "echo"}).output
    assert outcome["status"] == DENIED


def test_a_failing_callee_fails_the_call_not_the_caller(
    runtime: WasiRuntime, modules: dict[str, InstalledModule]
) -> None:
    caller = modules["org.example/function/caller"]
    outcome = runtime.invoke(caller, "call", {"module": "org.example/function/hostile", "function": "trap"}).output
    assert outcome["status"] == FAILED and outcome["result"]["error"]["kind"] == "TRAP"
    outcome = runtime.invoke(caller, "call", {"module": "org.example/function/hostile", "function": "exit"}).output
    assert outcome["result"]["error"] == {"kind": "EXIT", "detail": "exited with code 42", "exitCode": 42}


def test_nested_calls_stop_at_the_depth_limit(runtime: WasiRuntime, modules: dict[str, InstalledModule]) -> None:
    caller = modules["org.example/function/caller"]
    event: dict[str, Any] = {"module": "org.example/function/echo", "function": "event", "event": "bottom"}
    for _ in range(MAX_CALL_DEPTH + 2):
        event = {"module": "org.example/function/caller", "function": "call", "event": event}
    outcome = runtime.invoke(caller, "call", event).output
    statuses = []
    while isinstance(outcome, dict) and "status" in outcome:
        statuses.append(outcome["status"])
        outcome = outcome["result"]
    assert statuses == [0] * MAX_CALL_DEPTH + [DENIED]
    assert "nested deeper than" in outcome["error"]["detail"]


# --- long-lived instances ------------------------------------------------------------------------------------


@pytest.fixture
def counter(runtime: WasiRuntime) -> Iterator[InstalledModule]:
    module = install(runtime, "counter", COUNTER, mode="long-lived", grants=Grants(limits=QUICK))
    yield module
    runtime.stop(module)


def count(rt: WasiRuntime, module: InstalledModule) -> int:
    return int(rt.invoke(module, "count", {}).output["count"])


def test_long_lived_state_survives_between_events(runtime: WasiRuntime, counter: InstalledModule) -> None:
    assert not counter.live
    runtime.start(counter)
    assert counter.live
    assert [count(runtime, counter) for _ in range(3)] == [1, 2, 3]
    echoed = runtime.invoke(counter, "echo", {"x": 1}).output
    assert echoed["event"] == {"x": 1} and echoed["context"]["function"] == "echo"
    grown = runtime.invoke(counter, "grow", {})
    assert grown.output == {"kept": MiB} and grown.peak_memory > MiB
    runtime.stop(counter)
    assert not counter.live and count(runtime, counter) == 1


def test_long_lived_failures_keep_or_replace_the_instance(runtime: WasiRuntime, counter: InstalledModule) -> None:
    assert count(runtime, counter) == 1
    error = failure(runtime.invoke, counter, "fail", {})
    assert (error.kind, error.exit_code) == (FailureKind.EXIT, 5)
    assert failure(runtime.invoke, counter, "big", {}).kind is FailureKind.OUTPUT_TOO_LARGE
    assert count(runtime, counter) == 4
    assert failure(runtime.invoke, counter, "trap", {}).kind is FailureKind.TRAP
    assert count(runtime, counter) == 1
    assert failure(runtime.invoke, counter, "loop", {}).kind is FailureKind.OUT_OF_FUEL
    assert count(runtime, counter) == 1


def test_long_lived_memory_and_time_limits(runtime: WasiRuntime) -> None:
    small = install(runtime, "counter", COUNTER, mode="long-lived", grants=Grants(limits=Limits(memory=8 * MiB)))
    kinds = set()
    for _ in range(10):
        try:
            runtime.invoke(small, "grow", {})
        except InvocationError as error:
            kinds.add(error.kind)
            break
    assert kinds == {FailureKind.OUT_OF_MEMORY}
    assert count(runtime, small) == 1
    slow = install(runtime, "counter", COUNTER, mode="long-lived", grants=Grants(limits=Limits(timeout_ms=100)))
    assert failure(runtime.invoke, slow, "loop", {}).kind is FailureKind.TIMEOUT


def test_long_lived_events_are_serialised(runtime: WasiRuntime, counter: InstalledModule) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = sorted(pool.map(lambda _: count(runtime, counter), range(40)))
    assert counts == list(range(1, 41))


def test_modes_need_their_exports(runtime: WasiRuntime, echo: InstalledModule) -> None:
    with pytest.raises(BundleError, match="a long-lived module must export 'dmg_alloc'"):
        install(runtime, "echo", ECHO, mode="long-lived")
    with pytest.raises(BundleError, match="a lambda module must export '_start'"):
        install(runtime, "counter", COUNTER)
    with pytest.raises(GrantError, match="mode: must be one of lambda, long-lived"):
        install(runtime, "echo", ECHO, mode="forever")
    with pytest.raises(OrchestratorError, match="only long-lived modules are started"):
        runtime.start(echo)


# --- the compiled-module cache -------------------------------------------------------------------------------


def test_cache_survives_a_restart_and_recompiles_a_damaged_artefact(tmp_path: Path) -> None:
    with WasiRuntime(str(tmp_path)) as first:
        first.add_bundle("echo-bundle", function_wasm("echo"))
    artefacts = list(tmp_path.glob("wasmtime-*/echo-bundle.cwasm"))
    assert len(artefacts) == 1
    with WasiRuntime(tmp_path) as second:
        assert second.has_bundle("echo-bundle") and not second.has_bundle("transform-bundle")
        module = install(second, "echo-bundle", ECHO)
        assert module.functions == ECHO and not module.live
        assert second.invoke(module, "event", 7).output == 7
    damaged = artefacts[0].with_suffix(".damaged")
    damaged.write_bytes(b"not compiled code")
    damaged.replace(artefacts[0])  # replaced, never rewritten in place: loaded modules map the file
    with WasiRuntime(str(tmp_path), max_loaded_modules=1) as third:
        with pytest.raises(BundleError, match="cannot be loaded"):
            install(third, "echo-bundle", ECHO)
        third.add_bundle("echo-bundle", function_wasm("echo"))
        third.add_bundle("transform-bundle", function_wasm("transform"))
        assert third.invoke(install(third, "echo-bundle", ECHO), "event", 8).output == 8


def test_cache_rejects_bad_bundles_and_unknown_keys(runtime: WasiRuntime) -> None:
    with pytest.raises(BundleError, match="not a valid WebAssembly module"):
        runtime.add_bundle("garbage", b"\0asm garbage")
    with pytest.raises(BundleError, match="must be a bundle CID"):
        runtime.add_bundle("../escape", function_wasm("echo"))
    importer = wasmtime.wat2wasm('(module (import "env" "launch" (func)) (func (export "_start")))')
    with pytest.raises(BundleError, match=r"imports env\.launch"):
        runtime.add_bundle("importer", importer)
    with pytest.raises(NotFoundError, match="no compiled module 'never-added'"):
        install(runtime, "never-added", ECHO)


def test_closed_runtime_refuses_invocations(echo: InstalledModule) -> None:
    rt = WasiRuntime()
    rt.close()
    with pytest.raises(OrchestratorError, match="closed"):
        rt.invoke(echo, "event", 1)


def test_context_extra_fields_cannot_override_the_runtimes(runtime: WasiRuntime, echo: InstalledModule) -> None:
    with pytest.raises(GrantError, match="'agent' is set by the runtime"):
        runtime.invoke(echo, "echo", {}, extra={"agent": "mallory"})
    with pytest.raises(GrantError, match=r"context\.agent: must be an AgentContext or None, not dict"):
        runtime.invoke(echo, "echo", {}, agent={"did": "did:key:z6Mk"})  # type: ignore[arg-type]

