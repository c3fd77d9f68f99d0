"""Prometheus metrics of one registry app: requests, latency, accepted writes, and the store's size.

Each app has its own :class:`~prometheus_client.CollectorRegistry`, so several apps in one process (tests, a
benchmark's baseline) never share or clash over metrics. Requests are recorded by
:class:`dmg.http.metrics.MetricsMiddleware`, labelled by route template (``/ipfs/{cid}``, never the concrete path).
Store gauges are read from the store when ``/metrics`` is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from dmg.api.results import StoreStats
from dmg.http.metrics import request_families


class Metrics:
    """The metric families of one app, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests, self.latency = request_families("dmg", self.registry)
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
