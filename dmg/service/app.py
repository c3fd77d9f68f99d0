"""The app factory: :func:`create_app` builds the registry service's Starlette app from :class:`Settings`.

Tests, ``dmg serve`` and deployments all build the app here, so they run the same thing. The app opens one
:class:`~dmg.registry.Registry` on the settings' data directory when it starts (seeding the sample modules into
an empty registry if asked) and closes it when it stops.

Routes: ``/healthz``, ``/metrics`` (Prometheus), ``/graphql`` (queries, mutations, GraphiQL, and subscriptions over
WebSocket), ``/ipfs/{cid}`` (:mod:`dmg.service.gateway`), ``/api/v1/...`` (:mod:`dmg.service.publish`),
``/checkpoint`` and ``/tile/...`` (the transparency log, :mod:`dmg.service.transparency`); ``/`` redirects to
``/graphql``. Every request passes the body-size limit and is counted in the metrics; errors leave
as ``{"error": {"code", "message"}}`` (:mod:`dmg.service.responses`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from dmg.core.errors import DmgError
from dmg.registry import Registry
from dmg.samples import seed_samples
from dmg.service import gateway, publish, transparency
from dmg.service.context import Service, service_of
from dmg.service.graphql.view import RegistryGraphQL
from dmg.service.limits import BodyLimitMiddleware
from dmg.service.metrics import CONTENT_TYPE, MetricsMiddleware
from dmg.service.responses import dmg_error, http_error, internal_error
from dmg.service.settings import Settings

logger = logging.getLogger("dmg.service")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    service = service_of(request)
    stats = await service.registry.store.stats()
    return Response(service.metrics.render(stats, service.events.subscriber_count), media_type=CONTENT_TYPE)


async def root(request: Request) -> Response:
    return RedirectResponse("/graphql")


def create_app(settings: Settings) -> Starlette:
    """A new app (with its own metrics registry and event hub) serving the registry in ``settings.data_dir``."""
    service = Service(settings)
    graphql = RegistryGraphQL(service)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        registry = await Registry.open(
            settings.data_dir, origin=settings.checkpoint_origin or None, reserved=settings.reserved
        )
        try:
            if settings.seed_samples:
                for published in await seed_samples(registry, settings.data_dir):
                    logger.info("published sample %s", published)
            service.attach(registry)
            yield
        finally:
            service.attach(None)
            await registry.close()

    app = Starlette(
        routes=[
            Route("/", root),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *gateway.routes,
            *publish.routes,
            *transparency.routes,
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
