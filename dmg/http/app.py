"""The skeleton of a service's Starlette app: what every service answers and how it starts and stops.

:func:`create_service_app` builds an app around a service object (the app's shared state, reached by handlers as
``app.state.service``) and the backend it serves (a registry, an orchestrator): the backend is opened when the app
starts, handed to the service with ``attach``, and detached and closed when the app stops. Every app answers
``/healthz`` and redirects ``/`` to ``/graphql``; every request passes the body-size limit
(:class:`~dmg.http.limits.BodyLimitMiddleware`) and is counted in the metrics
(:class:`~dmg.http.metrics.MetricsMiddleware`); errors leave as ``{"error": {"code", "message"}}``
(:mod:`dmg.http.responses`). Everything else (routes, metrics rendering, what the backend is) is the service's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from dmg.core.errors import DmgError
from dmg.http.limits import BodyLimitMiddleware
from dmg.http.metrics import MetricsMiddleware, RequestMetrics
from dmg.http.responses import dmg_error, http_error, internal_error


class Backend(Protocol):
    """What a service serves: opened when the app starts, closed when it stops."""

    async def close(self) -> None: ...


BackendT = TypeVar("BackendT", bound=Backend)
BackendT_contra = TypeVar("BackendT_contra", bound=Backend, contravariant=True)


class Attaching(Protocol[BackendT_contra]):
    """A service's shared state, which holds the backend while the app runs."""

    def attach(self, backend: BackendT_contra | None) -> None: ...


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def root(request: Request) -> Response:
    return RedirectResponse("/graphql")


def create_service_app(
    service: Attaching[BackendT],
    *,
    open_backend: Callable[[], Awaitable[BackendT]],
    routes: Sequence[BaseRoute],
    metrics: RequestMetrics,
    max_body_bytes: int,
    prepare: Callable[[BackendT], Awaitable[None]] | None = None,
    finish: Callable[[BackendT], Awaitable[None]] | None = None,
) -> Starlette:
    """An app serving ``routes`` (besides ``/`` and ``/healthz``) over the backend ``open_backend`` gives.

    ``prepare`` runs on the opened backend before it is attached; if it fails, the backend is closed and the app
    does not start. ``finish`` runs when the app stops, before the backend is closed.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        backend = await open_backend()
        try:
            if prepare is not None:
                await prepare(backend)
            service.attach(backend)
            try:
                yield
            finally:
                if finish is not None:
                    await finish(backend)
        finally:
            service.attach(None)
            await backend.close()

    app = Starlette(
        routes=[Route("/", root), Route("/healthz", healthz), *routes],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(BodyLimitMiddleware, limit=max_body_bytes),
        ],
        exception_handlers={DmgError: dmg_error, HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return app
