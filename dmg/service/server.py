"""Running the registry app under uvicorn in this process: in the foreground (``dmg serve``) or on a background
thread (:class:`BackgroundServer`, for tests, benchmarks and anything embedding a registry; port 0 picks a free
port). Both report the URL actually bound; the runner itself is :mod:`dmg.http.server`.
"""

from __future__ import annotations

from collections.abc import Callable

from dmg.http import server
from dmg.service.app import create_app
from dmg.service.settings import Settings


async def serve(settings: Settings, on_ready: Callable[[str], None], log_level: str = "info") -> bool:
    """Serve until interrupted (SIGINT/SIGTERM); False if the app could not start."""
    return await server.serve(create_app(settings), settings, on_ready, log_level)


class BackgroundServer(server.BackgroundServer[Settings]):
    """A registry served on a background thread: ``with BackgroundServer(settings) as url: ...``."""

    def __init__(self, settings: Settings, log_level: str = "warning") -> None:
        super().__init__(create_app, settings, "the registry service", log_level)
