"""Prometheus metrics of one app: requests, latency, accepted writes, and the store's size.

Each app has its own :class:`~prometheus_client.CollectorRegistry`, so several apps in one process (tests, a
benchmark's baseline) never share or clash over metrics. :class:`MetricsMiddleware` labels requests by route
template (``/ipfs/{cid}``, never the concrete path), which keeps the number of series bounded. Store gauges are
read from the store when ``/metrics`` is scraped.
"""

from __future__ import annotations

import time
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dmg.store.base import StoreStats

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE: Final = "unmatched"


class Metrics:
    """The metric families of one app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "dmg_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "dmg_http_request_duration_seconds",
            "Time from request to the end of the response",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.publishes = Counter("dmg_publishes", "Releases accepted", registry=self.registry)
        self.entries = Counter(
            "dmg_entries", "Log entries accepted, by how they arrived", ["source"], registry=self.registry
        )
        self.subscribers = Gauge("dmg_subscribers", "Open GraphQL subscriptions", registry=self.registry)
        self.store = Gauge("dmg_store_objects", "Objects in the store, by kind", ["kind"], registry=self.registry)
        self.store_bytes = Gauge("dmg_store_block_bytes", "Bytes of all stored blocks", registry=self.registry)

    def render(self, stats: StoreStats, subscribers: int) -> bytes:
        """The Prometheus text exposition, with the store gauges set from ``stats``."""
        for kind in ("blocks", "entries", "namespaces", "modules", "versions"):
            self.store.labels(kind).set(getattr(stats, kind))
        self.store_bytes.set(stats.block_bytes)
        self.subscribers.set(subscribers)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware counting each HTTP request and timing it to the last byte of its response."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
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
