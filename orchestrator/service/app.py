"""The app factory: :func:`create_app` builds the orchestrator service's Starlette app from its settings.

Tests, ``dmg orchestrator serve`` and deployments all build the app here. The app opens one
:class:`~orchestrator.core.Orchestrator` on the settings' data directory when it starts (restoring every installed
function in its state) and closes it when it stops.

Routes: ``/healthz``, ``/metrics`` (Prometheus), ``/graphql`` (the control API, with GraphiQL); ``/`` redirects to
``/graphql``. Every request passes the body-size limit and is counted in the metrics; REST errors leave as
``{"error": {"code", "message"}}`` (:mod:`dmg.service.responses`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dmg.core.errors import DmgError
from dmg.service.limits import BodyLimitMiddleware
from dmg.service.metrics import CONTENT_TYPE, MetricsMiddleware
from dmg.service.responses import dmg_error, http_error, internal_error
from orchestrator.core import Orchestrator
from orchestrator.policy import Policy
from orchestrator.service.context import OrchestratorService, service_of
from orchestrator.service.graphql.view import OrchestratorGraphQL
from orchestrator.service.settings import OrchestratorSettings


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    service = service_of(request)
    states = [function.state for function in service.orchestrator.functions()]
    body = service.metrics.render(states, await service.orchestrator.queued())
    return Response(body, media_type=CONTENT_TYPE)


async def root(request: Request) -> Response:
    return RedirectResponse("/graphql")


def create_app(settings: OrchestratorSettings) -> Starlette:
    """A new app (with its own metrics registry) running the orchestrator in ``settings.data_dir``."""
    service = OrchestratorService(settings)
    policy = Policy.load(settings.policy) if settings.policy else Policy()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        orchestrator = await Orchestrator.open(
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
        try:
            service.attach(orchestrator)
            yield
        finally:
            service.attach(None)
            await orchestrator.close()

    app = Starlette(
        routes=[
            Route("/", root),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/graphql", OrchestratorGraphQL(service), methods=["GET", "POST"]),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=service.metrics),
            Middleware(BodyLimitMiddleware, limit=settings.max_body_bytes),
        ],
        exception_handlers={DmgError: dmg_error, HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return app
