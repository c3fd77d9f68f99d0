"""The app factory: :func:`create_app` builds the orchestrator service's Starlette app from its settings.

Tests, ``dmg orchestrator serve`` and deployments all build the app here. The app opens one
:class:`~orchestrator.core.Orchestrator` on the settings' data directory when it starts (restoring every installed
function in its state) and closes it when it stops.

Routes: ``/healthz``, ``/metrics`` (Prometheus), ``/graphql`` (the control API, with GraphiQL); ``/`` redirects to
``/graphql``. Every request passes the body-size limit and is counted in the metrics; REST errors leave as
``{"error": {"code", "message"}}`` (the skeleton all services share, :func:`dmg.http.app.create_service_app`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dmg.http.app import create_service_app
from dmg.http.metrics import CONTENT_TYPE
from orchestrator.core import Orchestrator
from orchestrator.policy import Policy
from orchestrator.service.context import OrchestratorService, service_of
from orchestrator.service.graphql.view import OrchestratorGraphQL
from orchestrator.service.settings import OrchestratorSettings


async def metrics(request: Request) -> Response:
    service = service_of(request)
    states = [function.state for function in service.orchestrator.functions()]
    body = service.metrics.render(states, await service.orchestrator.queued())
    return Response(body, media_type=CONTENT_TYPE)


def create_app(settings: OrchestratorSettings) -> Starlette:
    """A new app (with its own metrics registry) running the orchestrator in ``settings.data_dir``."""
    service = OrchestratorService(settings)
    policy = Policy.load(settings.policy) if settings.policy else Policy()

    async def open_orchestrator() -> Orchestrator:
        return await Orchestrator.open(
            settings.data_dir,
            registry=settings.registry or None,
            registry_key=settings.registry_key or None,
            policy=policy,
            workers=settings.workers,
            max_queue=settings.max_queue,
            keep=settings.keep_invocations,
            observer=service.metrics,
            http_timeout=settings.http_timeout,
        )

    return create_service_app(
        service,
        open_backend=open_orchestrator,
        routes=[
            Route("/metrics", metrics),
            Route("/graphql", OrchestratorGraphQL(service), methods=["GET", "POST"]),
        ],
        metrics=service.metrics,
        max_body_bytes=settings.max_body_bytes,
    )
