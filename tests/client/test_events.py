"""Registry events through the clients: verified, in order, and followed across a registry restart."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dmg.api.events import EventKind
from dmg.client.errors import BlockMismatchError, MalformedResponseError, RecordMismatchError, RegistryUnavailableError
from dmg.client.events import backoff, follow
from dmg.client.http import HttpClient
from dmg.client.local import LocalClient
from dmg.core.bundle import Bundle
from dmg.core.keys import SigningKey
from dmg.registry import Registry
from dmg.service.server import BackgroundServer
from dmg.service.settings import Settings
from tests.support.registries import claim_namespace, publish

NAME = "com.example/function/followed"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_local_client_reads_the_registrys_events(
    registry: Registry, key: SigningKey, bundle: Bundle
) -> None:
    client = LocalClient(registry)
    await claim_namespace(registry, "com.example", key)
    await publish(registry, key, NAME, "1.0.0", bundle)
    assert [event.kind for event in await client.events_since(0)] == [EventKind.CLAIM, EventKind.RELEASE]
    assert await client.log_size() == 2


async def test_the_http_client_pages_and_follows_events_across_a_restart(
    tmp_path: Path, key: SigningKey, bundle: Bundle
) -> None:
    settings = Settings(data_dir=tmp_path / "r", port=free_port(), seed_samples=False)
    server = BackgroundServer(settings)
    url = server.start()
    async with HttpClient(url, timeout=5, check_log=False) as client:
        async with await Registry.open(tmp_path / "r") as writer:
            await claim_namespace(writer, "com.example", key)
        events = await client.events_since(0)
        assert [(event.position, event.kind) for event in events] == [(1, EventKind.CLAIM)]
        assert await client.log_size() == 1
        broken: list[RegistryUnavailableError] = []
        followed = follow(client, 0, on_reconnect=broken.append, first_delay=0.05, max_delay=0.2)
        assert (await asyncio.wait_for(anext(followed), 10)).position == 1
        server.stop()
        waiting = asyncio.ensure_future(anext(followed))
        await asyncio.sleep(0.3)
        async with await Registry.open(tmp_path / "r") as writer:
            await publish(writer, key, NAME, "1.0.0", bundle)
        server.start()
        try:
            event = await asyncio.wait_for(waiting, 20)
            assert (event.position, event.kind, str(event.dxn)) == (2, EventKind.RELEASE, NAME)
            assert broken, "the break was reported before resuming"
        finally:
            await followed.aclose()
            server.stop()


class LyingEvents:
    """A registry answering the events query with what the test scripted."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/graphql", self.graphql, methods=["POST"])])

    async def graphql(self, request: Request) -> JSONResponse:
        return JSONResponse({"data": {"events": self.rows}})


@pytest.fixture
async def lying(tmp_path: Path, key: SigningKey, bundle: Bundle) -> AsyncIterator[tuple[LyingEvents, list[Any]]]:
    async with await Registry.open(tmp_path / "truth") as registry:
        await claim_namespace(registry, "com.example", key)
        await publish(registry, key, NAME, "1.0.0", bundle)
        genuine = [event.to_json() for event in await registry.entries_since(0)]
    yield LyingEvents(), genuine


async def test_tampered_or_reordered_events_are_refused(lying: tuple[LyingEvents, list[Any]]) -> None:
    import uvicorn

    server, genuine = lying
    config = uvicorn.Config(server.app, host="127.0.0.1", port=free_port(), log_level="warning")
    running = uvicorn.Server(config)
    task = asyncio.ensure_future(running.serve())
    while not running.started:
        await asyncio.sleep(0.01)
    try:
        async with HttpClient(f"http://127.0.0.1:{config.port}", timeout=5, check_log=False) as client:
            server.rows = genuine
            assert [event.position for event in await client.events_since(0)] == [1, 2]
            server.rows = [genuine[1], genuine[0]]
            with pytest.raises(RecordMismatchError, match="in log order"):
                await client.events_since(0)
            forged = dict(genuine[0], envelope=base64.b64encode(b"\xa0").decode())
            server.rows = [forged]
            with pytest.raises(BlockMismatchError):
                await client.events_since(0)
            server.rows = genuine * 2
            with pytest.raises(MalformedResponseError, match="at most 3 events"):
                await client.events_since(0, 3)
    finally:
        running.should_exit = True
        await task


def test_backoff_grows_and_stays_under_its_ceiling() -> None:
    assert all(0 <= backoff(attempt, 0.1, 2.0) <= min(2.0, 0.1 * 2**attempt) for attempt in range(20))
