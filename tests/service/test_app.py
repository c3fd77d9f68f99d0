"""The service as a whole on real uvicorn servers: settings, health, metrics, limits, routing errors, the CLI,
the checked-in schema and the Dockerfile."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmg.core.errors import ConfigError, DmgError
from dmg.service.graphql.schema import SCHEMA_FILE, printed_schema
from dmg.service.server import BackgroundServer
from dmg.service.settings import MiB, Settings
from tests.support.paths import ROOT
from tests.support.servers import CAR, DAG_CBOR, error_code, graphql, post_car, refused, server_settings

# --- this module's servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    data_dir = tmp_path_factory.mktemp("seeded")
    with BackgroundServer(server_settings(data_dir, seed_samples=True)) as url, httpx.Client(base_url=url) as client:
        yield client, data_dir


def test_healthz(seeded: tuple[httpx.Client, Path]) -> None:
    client, _ = seeded
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_first_start_seeds_the_samples(seeded: tuple[httpx.Client, Path]) -> None:
    client, _ = seeded
    result = graphql(client, '{ resolve(dxn: "org.example/function/echo@^1") { version } }')
    assert result["data"]["resolve"]["version"] == "1.1.0"


def test_metrics_count_requests_and_measure_the_store(seeded: tuple[httpx.Client, Path]) -> None:
    client, _ = seeded
    client.get("/healthz")
    client.get("/ipfs/not-a-cid?format=raw")
    text = client.get("/metrics").text
    assert re.search(r'dmg_http_requests_total\{method="GET",route="/healthz",status="200"\} [1-9]', text)
    assert re.search(r'dmg_http_requests_total\{method="GET",route="/ipfs/\{cid:path\}",status="400"\} 1', text)
    assert 'dmg_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    assert 'dmg_store_objects{kind="versions"} 3.0' in text
    assert "dmg_publishes_total 0.0" in text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_unknown_routes_and_methods_answer_json_errors(seeded: tuple[httpx.Client, Path]) -> None:
    client, _ = seeded
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and error_code(missing) == "NOT_FOUND"
    wrong_method = client.get("/api/v1/publish")
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "BAD_REQUEST"
    assert client.get("/", follow_redirects=False).headers["location"] == "/graphql"


def test_graphiql_is_served_to_browsers(seeded: tuple[httpx.Client, Path]) -> None:
    client, _ = seeded
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_bodies_over_the_limit_get_413_before_being_read(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, max_body_bytes=MiB)
    with BackgroundServer(settings) as url, httpx.Client(base_url=url) as client:
        declared = refused(
            client, tmp_path, 413, "TOO_LARGE", lambda c: post_car(c, "/api/v1/import", b"x" * (MiB + 1))
        )
        assert "over the 1048576-byte limit" in declared.json()["error"]["message"]

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * (128 << 10)

        streamed = refused(
            client,
            tmp_path,
            413,
            "TOO_LARGE",
            lambda c: c.post("/api/v1/import", content=chunks(), headers={"content-type": CAR}),
        )
        assert "more than" in streamed.json()["error"]["message"]
        big_query = client.post("/graphql", content=b"{" * (MiB + 10), headers={"content-type": "application/json"})
        assert big_query.status_code == 413 and error_code(big_query) == "TOO_LARGE"
        assert client.get("/healthz").status_code == 200


def test_writes_over_the_allowance_get_429(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, write_rate=0.01, write_burst=2)
    with BackgroundServer(settings) as url, httpx.Client(base_url=url) as client:
        for _ in range(2):
            assert (
                client.post("/api/v1/entries", content=b"\x00", headers={"content-type": DAG_CBOR}).status_code == 400
            )
        limited = refused(
            client,
            tmp_path,
            429,
            "RATE_LIMITED",
            lambda c: c.post("/api/v1/entries", content=b"\x00", headers={"content-type": DAG_CBOR}),
        )
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/healthz").status_code == 200


def test_a_data_directory_that_cannot_be_opened_fails_the_start(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DmgError, match="did not start"):
        BackgroundServer(server_settings(blocker / "data"), log_level="critical").start()


# --- settings ------------------------------------------------------------------------------------------------


def test_settings_precedence_flags_then_environment_then_file_then_defaults(tmp_path: Path) -> None:
    config = tmp_path / "dmg.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nmax_query_depth = 7\nseed_samples = false\n')
    environ = {"DMG_CONFIG": str(config), "DMG_PORT": "8000", "DMG_MAX_QUERY_COST": "50"}
    settings = Settings.load({"port": 7000, "host": None}, environ)
    assert settings.port == 7000
    assert settings.host == "0.0.0.0"
    assert settings.max_query_cost == 50 and settings.max_query_depth == 7
    assert settings.seed_samples is False and settings.graphiql is True
    assert Settings.load({}, environ).port == 8000
    assert Settings.load({}, {}, config).port == 9000
    assert Settings.load({"config": str(config)}, {}).port == 9000
    assert Settings.load().port == 7420
    assert Settings.load({}, {"DMG_DATA_DIR": str(tmp_path)}).data_dir == tmp_path
    assert Settings(host="::1", port=1).url == "http://[::1]:1"


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        ({"port": 70000}, {}, "port: 70000 is not a TCP port"),
        ({}, {"DMG_PORT": "eighty"}, "DMG_PORT: 'eighty' is not an integer"),
        ({}, {"DMG_SEED_SAMPLES": "maybe"}, "not a boolean"),
        ({}, {"DMG_WRITE_RATE": "fast"}, "not a number"),
        ({"max_body_bytes": 1000}, {}, "below 1 MiB"),
        ({"max_query_depth": 0}, {}, "at least 1"),
        ({"max_query_cost": 0}, {}, "at least 1"),
        ({"write_rate": -1.0}, {}, "must not be negative"),
        ({"write_burst": 0}, {}, "at least 1"),
        ({"host": ""}, {}, "host: must not be empty"),
        ({"colour": "blue"}, {}, "unknown setting 'colour'"),
    ],
)
def test_bad_settings_are_refused(flags: dict[str, Any], environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(flags, environ)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = ", "not valid TOML"),
        ("colour = 'blue'", "unknown setting 'colour'"),
        ("port = '80'", "port: '80' is not an integer"),
        ("port = true", "not an integer"),
        ("write_rate = 'fast'", "not a number"),
        ("seed_samples = 1", "not a boolean"),
        ("host = 1", "host: 1 is not a string"),
    ],
)
def test_bad_config_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "dmg.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load({}, {}, config)
    with pytest.raises(ConfigError, match="No such file"):
        Settings.load({}, {}, tmp_path / "missing.toml")


# --- the command, the schema file, the Dockerfile ------------------------------------------------------------


def test_dmg_serve_prints_the_graphql_url_and_serves(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "dmg", "serve", "--data", str(tmp_path), "--port", "0", "--log-level", "warning"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(2)]
            assert lines[0].startswith(f"DMG registry serving {tmp_path}")
            url = re.fullmatch(r"GraphQL: (http://127\.0\.0\.1:\d+)/graphql\n", lines[1])
            assert url is not None, lines
            with httpx.Client(base_url=url[1]) as client:
                found = graphql(client, '{ modules(namespace: "org.example") { totalCount } }')
                assert found["data"]["modules"]["totalCount"] == 2
        finally:
            process.terminate()
            process.wait(10)


def test_checked_in_schema_matches_the_code() -> None:
    assert SCHEMA_FILE == ROOT / "schema" / "schema.graphql"
    assert SCHEMA_FILE.read_text() == printed_schema(), "run: python -m dmg.service.graphql.schema --write"


def test_dockerfile_runs_the_registry_as_a_non_root_user() -> None:
    joined = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in joined.splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("VOLUME ") and "/data" in line for line in instructions)
    assert "EXPOSE 7420" in instructions
    assert any(line.startswith("HEALTHCHECK ") and "/healthz" in line for line in instructions)
    command = next(line for line in reversed(instructions) if line.startswith(("CMD", "ENTRYPOINT")))
    assert "serve" in command and "0.0.0.0" in command
    assert ".git" in (ROOT / ".dockerignore").read_text().split()
