"""Running the orchestrator app under uvicorn in this process: in the foreground (``dmg orchestrator serve``) or
on a background thread (:class:`BackgroundServer`, for tests and anything embedding an orchestrator; port 0 picks
a free port). Both report the URL actually bound. The shape is :mod:`dmg.service.server`'s.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from dmg.core.errors import DmgError
from orchestrator.service.app import create_app
from orchestrator.service.settings import OrchestratorSettings


class _Server(uvicorn.Server):
    """A uvicorn server that tells ``on_ready`` its URL once its sockets listen."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            host = f"[{host}]" if ":" in host else host
            self.on_ready(f"http://{host}:{port}")


def _config(settings: OrchestratorSettings, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


async def serve(settings: OrchestratorSettings, on_ready: Callable[[str], None], log_level: str = "info") -> bool:
    """Serve until interrupted (SIGINT/SIGTERM); False if the app could not start."""
    server = _Server(_config(settings, log_level), on_ready)
    await server.serve()
    return server.started


class BackgroundServer:
    """An orchestrator served on a background thread: ``with BackgroundServer(settings) as url: ...``."""

    def __init__(self, settings: OrchestratorSettings, log_level: str = "warning") -> None:
        self.settings = settings
        self.log_level = log_level
        self.url = ""
        self._ready = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _ready_at(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def start(self, timeout: float = 30.0) -> str:
        self._ready.clear()
        self._server = _Server(_config(self.settings, self.log_level), self._ready_at)
        self._thread = threading.Thread(target=asyncio.run, args=(self._server.serve(),), daemon=True)
        self._thread.start()
        while not self._ready.wait(0.02):
            if not self._thread.is_alive():
                raise DmgError(f"the orchestrator did not start (data directory {self.settings.data_dir})")
            timeout -= 0.02
            if timeout <= 0:
                self.stop()
                raise DmgError("the orchestrator did not start in time")
        return self.url

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
