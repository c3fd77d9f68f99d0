"""Running the orchestrator app under uvicorn in this process: in the foreground (``dmg orchestrator serve``) or
on a background thread (:class:`BackgroundServer`, for tests and anything embedding an orchestrator; port 0 picks
a free port). Both report the URL actually bound; the runner itself is :mod:`dmg.http.server`.
"""

from __future__ import annotations

from collections.abc import Callable

from dmg.http import server
from orchestrator.service.app import create_app
from orchestrator.service.settings import OrchestratorSettings


async def serve(settings: OrchestratorSettings, on_ready: Callable[[str], None], log_level: str = "info") -> bool:
    """Serve until interrupted (SIGINT/SIGTERM); False if the app could not start."""
    return await server.serve(create_app(settings), settings, on_ready, log_level)


class BackgroundServer(server.BackgroundServer[OrchestratorSettings]):
    """An orchestrator served on a background thread: ``with BackgroundServer(settings) as url: ...``."""

    def __init__(self, settings: OrchestratorSettings, log_level: str = "warning") -> None:
        super().__init__(create_app, settings, "the orchestrator", log_level)
