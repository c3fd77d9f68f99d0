"""Mounting the contract's endpoints: a Starlette route for each :class:`~dmg.api.paths.Endpoint` and its handler.

Every route of the registry service is mounted through :func:`mount`, so its path and methods are exactly the ones
:mod:`dmg.api.paths` gives the clients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Route, WebSocketRoute

from dmg.api.paths import Endpoint


def mount(endpoint: Endpoint, handler: Callable[..., Any]) -> BaseRoute:
    """The route serving ``endpoint`` with ``handler`` (a WebSocket route for the ``WEBSOCKET`` method)."""
    if endpoint.methods == ("WEBSOCKET",):
        return WebSocketRoute(endpoint.template, handler)
    return Route(endpoint.template, handler, methods=list(endpoint.methods))
