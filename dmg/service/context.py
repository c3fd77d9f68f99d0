"""What every request handler of one app shares: the settings, the open registry, limits, metrics.

One :class:`Service` is created per app; the registry is opened by the app's lifespan and is only available
while the app is running.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from dmg.core.errors import UnauthorizedError
from dmg.registry import Registry
from dmg.service.limits import WriteLimiter
from dmg.service.metrics import Metrics
from dmg.service.settings import Settings


@dataclass
class Service:
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    limiter: WriteLimiter = field(init=False)
    _registry: Registry | None = None

    def __post_init__(self) -> None:
        self.limiter = WriteLimiter(self.settings.write_rate, self.settings.write_burst)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            raise RuntimeError("the registry is opened by the app's lifespan; it is not running")
        return self._registry

    def attach(self, registry: Registry | None) -> None:
        self._registry = registry

    def check_admin(self, connection: HTTPConnection) -> None:
        """Refuse unless the request carries ``Authorization: Bearer <admin_token>`` (and there is a token)."""
        expected = self.settings.admin_token
        given = connection.headers.get("authorization", "")
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise UnauthorizedError("this needs Authorization: Bearer <the server's admin_token>")

    def check_write(self, connection: HTTPConnection) -> None:
        """Count one write against the client's allowance; raise RateLimitedError when it is spent."""
        self.limiter.check(connection.client.host if connection.client else "unknown")


def service_of(connection: HTTPConnection) -> Service:
    service: Service = connection.app.state.service
    return service
