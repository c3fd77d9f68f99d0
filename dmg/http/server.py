"""Running an ASGI app under uvicorn in this process: in the foreground or on a background thread.

:func:`serve` runs until interrupted (``dmg serve``, ``dmg orchestrator serve``). :class:`BackgroundServer` serves
on its own thread and event loop and hands back its URL once it accepts connections; tests, benchmarks and
anything embedding a service use it (port 0 picks a free port). Both report the URL actually bound. Which app runs
is the caller's: each service passes its own app factory and settings.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import uvicorn
from starlette.types import ASGIApp

from dmg.core.errors import DmgError


class ServerSettings(Protocol):
    """What the runner reads from a service's settings."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


SettingsT = TypeVar("SettingsT", bound=ServerSettings)


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


def _config(app: ASGIApp, settings: ServerSettings, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        lifespan="on",
        ws="auto",
        timeout_graceful_shutdown=5,
    )


async def serve(
    app: ASGIApp, settings: ServerSettings, on_ready: Callable[[str], None], log_level: str = "info"
) -> bool:
    """Serve ``app`` on the settings' host and port until interrupted (SIGINT/SIGTERM); False if it could not
    start."""
    server = _Server(_config(app, settings, log_level), on_ready)
    await server.serve()
    return server.started


class BackgroundServer(Generic[SettingsT]):
    """``create_app(settings)`` served on a background thread: ``with BackgroundServer(...) as url: ...``.

    ``what`` names the service in errors (``the orchestrator did not start in time``).
    """

    def __init__(
        self, create_app: Callable[[SettingsT], ASGIApp], settings: SettingsT, what: str, log_level: str = "warning"
    ) -> None:
        self.create_app = create_app
        self.settings = settings
        self.what = what
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
        self._server = _Server(_config(self.create_app(self.settings), self.settings, self.log_level), self._ready_at)
        self._thread = threading.Thread(target=asyncio.run, args=(self._server.serve(),), daemon=True)
        self._thread.start()
        while not self._ready.wait(0.02):
            if not self._thread.is_alive():
                raise DmgError(f"{self.what} did not start (data directory {self.settings.data_dir})")
            timeout -= 0.02
            if timeout <= 0:
                self.stop()
                raise DmgError(f"{self.what} did not start in time")
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
