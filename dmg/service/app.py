"""The app factory: :func:`create_app` builds the registry service's Starlette app from :class:`Settings`.

Tests, ``dmg serve`` and deployments all build the app here, so they run the same thing. The app opens one
:class:`~dmg.registry.Registry` on the settings' data directory when it starts (seeding the sample modules into
an empty registry if asked) and closes it when it stops.

Routes: ``/healthz``, ``/metrics`` (Prometheus), ``/graphql`` (queries, mutations, GraphiQL, and subscriptions over
WebSocket), ``/ipfs/{cid}`` (:mod:`dmg.service.gateway`), ``/api/v1/...`` (:mod:`dmg.service.publish`),
``/checkpoint`` and ``/tile/...`` (the transparency log, :mod:`dmg.service.transparency`); ``/`` redirects to
``/graphql``. Every request passes the body-size limit and is counted in the metrics; errors leave
as ``{"error": {"code", "message"}}`` (the skeleton all services share, :func:`dmg.http.app.create_service_app`).
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from dmg.api import paths
from dmg.authoring.samples import seed_samples
from dmg.http.app import create_service_app
from dmg.http.metrics import CONTENT_TYPE
from dmg.registry import Registry
from dmg.service import blocks, discovery, gateway, publish, transparency
from dmg.service.context import Service, service_of
from dmg.service.extensions import load_extensions
from dmg.service.graphql.view import RegistryGraphQL
from dmg.service.routing import mount
from dmg.service.settings import Settings

logger = logging.getLogger("dmg.service")


async def metrics(request: Request) -> Response:
    service = service_of(request)
    registry = service.registry
    stats = await registry.stats()
    return Response(service.metrics.render(stats, registry.events.subscriber_count), media_type=CONTENT_TYPE)


def create_app(settings: Settings) -> Starlette:
    """A new app (with its own metrics registry and event hub) serving the registry in ``settings.data_dir``."""
    service = Service(settings)
    graphql = RegistryGraphQL(service)
    extensions = load_extensions(service)

    async def open_registry() -> Registry:
        return await Registry.open(
            settings.data_dir,
            store=settings.store or None,
            origin=settings.checkpoint_origin or None,
            reserved=settings.reserved,
        )

    async def start(registry: Registry) -> None:
        if settings.seed_samples:
            for published in await seed_samples(registry, settings.data_dir):
                logger.info("published sample %s", published)
        for extension in extensions:
            if extension.start is not None:
                await extension.start(registry)

    async def stop(registry: Registry) -> None:
        for extension in reversed(extensions):
            if extension.stop is not None:
                await extension.stop(registry)

    return create_service_app(
        service,
        open_backend=open_registry,
        prepare=start,
        finish=stop,
        routes=[
            mount(paths.METRICS, metrics),
            mount(paths.GRAPHQL, graphql),
            mount(paths.GRAPHQL_WS, graphql),
            *gateway.routes,
            *blocks.routes,
            *discovery.routes,
            *publish.routes,
            *transparency.routes,
            *(route for extension in extensions for route in extension.routes),
        ],
        metrics=service.metrics,
        max_body_bytes=settings.max_body_bytes,
    )
