"""HTTP request metrics of a service: how many requests, by route template and status, and how long each took.

:func:`request_families` makes the two Prometheus families in a service's own
:class:`~prometheus_client.CollectorRegistry` (several apps in one process never share or clash over metrics);
:class:`MetricsMiddleware` records every HTTP request in them, labelled by route template (``/ipfs/{cid}``, never
the concrete path), which keeps the number of series bounded. What else a service measures is its own.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE: Final = "unmatched"


class RequestMetrics(Protocol):
    """What :class:`MetricsMiddleware` records in: a service's metrics made with :func:`request_families`."""

    requests: Counter
    latency: Histogram


def request_families(prefix: str, registry: CollectorRegistry) -> tuple[Counter, Histogram]:
    """``<prefix>_http_requests`` (by method, route and status) and ``<prefix>_http_request_duration_seconds``
    (by method and route), in ``registry``."""
    requests = Counter(
        f"{prefix}_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        f"{prefix}_http_request_duration_seconds",
        "Time from request to the end of the response",
        ["method", "route"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    return requests, latency


class MetricsMiddleware:
    """ASGI middleware counting each HTTP request and timing it to the last byte of its response."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED_ROUTE)
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
