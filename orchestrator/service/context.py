"""What every request handler of one orchestrator app shares: the settings, the metrics, the open orchestrator.

One :class:`OrchestratorService` is created per app; the orchestrator is opened by the app's lifespan and is only
available while the app runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from orchestrator.core import Orchestrator
from orchestrator.service.metrics import OrchestratorMetrics
from orchestrator.service.settings import OrchestratorSettings


@dataclass
class OrchestratorService:
    settings: OrchestratorSettings
    metrics: OrchestratorMetrics = field(default_factory=OrchestratorMetrics)
    _orchestrator: Orchestrator | None = None

    @property
    def orchestrator(self) -> Orchestrator:
        if self._orchestrator is None:
            raise RuntimeError("the orchestrator is opened by the app's lifespan; it is not running")
        return self._orchestrator

    def attach(self, orchestrator: Orchestrator | None) -> None:
        self._orchestrator = orchestrator


def service_of(connection: HTTPConnection) -> OrchestratorService:
    service: OrchestratorService = connection.app.state.service
    return service
