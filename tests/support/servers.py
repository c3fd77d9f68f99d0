"""Servers on 127.0.0.1 and talking to them: settings of a registry service for tests, its REST and GraphQL
endpoints driven through ``httpx``, snapshots of its store to show a refusal stored nothing, and :func:`serve`
for the small hostile apps that stand in for a compromised registry or network."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dmg.authoring.publisher import PreparedRelease, claim
from dmg.core.car import write_car
from dmg.core.cid import CID
from dmg.core.clock import now_ms
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.service.settings import Settings
from dmg.store.sqlite import DATABASE_NAME

CAR = "application/vnd.ipld.car"
DAG_CBOR = "application/vnd.ipld.dag-cbor"


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    """A registry service on ``data_dir`` and a free port, without the samples unless ``overrides`` asks."""
    return Settings(data_dir=data_dir, port=0, **{"seed_samples": False, **overrides})


def snapshot(data_dir: Path) -> list[str]:
    """Every row of every table of the server's SQLite file: equal snapshots mean nothing was stored."""
    with sqlite3.connect(data_dir / DATABASE_NAME) as connection:
        return list(connection.iterdump())


def head(client: httpx.Client, log: str) -> LogHead:
    """The head of ``log`` as the service reports it."""
    answer = client.get(f"/api/v1/head/{log}")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return LogHead(None if data["cid"] is None else CID.parse(data["cid"]), data["seq"], data["time"])


def claim_over_http(client: httpx.Client, namespace: str, key: SigningKey) -> str:
    """Claim ``namespace`` for ``key`` through ``/api/v1/entries``; returns the entry's CID."""
    block = claim(namespace, [key], head(client, namespace), now_ms()).block()[1]
    answer = client.post("/api/v1/entries", content=block, headers={"content-type": DAG_CBOR})
    assert answer.status_code == 200, answer.text
    cid: str = answer.json()["cid"]
    return cid


def publish_car(prepared: PreparedRelease) -> bytes:
    """The CAR a publisher uploads for ``prepared``."""
    return write_car([prepared.root], prepared.blocks().items())


def post_car(client: httpx.Client, path: str, car: bytes) -> httpx.Response:
    """POST ``car`` to ``path`` as a CAR."""
    return client.post(path, content=car, headers={"content-type": CAR})


def graphql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    """The whole GraphQL answer (``data`` and ``errors``) to ``query``, which must be answered with 200."""
    answer = client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def error_code(answer: httpx.Response) -> str:
    """The code of a JSON error answer."""
    code: str = answer.json()["error"]["code"]
    return code


def refused(client: httpx.Client, data_dir: Path, status: int, code: str, send: Any) -> httpx.Response:
    """Run ``send(client)``, expect the JSON error ``code`` with ``status``, and that nothing was stored."""
    before = snapshot(data_dir)
    answer: httpx.Response = send(client)
    assert answer.status_code == status, answer.text
    assert error_code(answer) == code, answer.text
    assert answer.json()["error"]["message"]
    assert snapshot(data_dir) == before
    return answer


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run a hostile ``app`` under uvicorn on a free port of 127.0.0.1 in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
