"""How packages above the service add to it without the service importing them: federation is the first.

A package declares a ``dmg.service.extensions`` entry point naming a function that takes the app's
:class:`~dmg.service.context.Service` and returns a :class:`ServiceExtension`: its routes (each one of
:data:`dmg.api.paths.ENDPOINTS`, mounted like the service's own) and what it starts once the registry is open and
stops before it closes (background work such as syncing peers).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Final

from starlette.routing import BaseRoute

from dmg.registry import Registry
from dmg.service.context import Service

GROUP: Final = "dmg.service.extensions"


@dataclass(frozen=True)
class ServiceExtension:
    routes: Sequence[BaseRoute] = field(default_factory=tuple)
    start: Callable[[Registry], Awaitable[None]] | None = None
    stop: Callable[[Registry], Awaitable[None]] | None = None


@functools.cache
def _points() -> tuple[Any, ...]:
    # A name declared by two installed distributions (an editable install and its checkout) counts once.
    return tuple({point.name: point for point in reversed(entry_points(group=GROUP))}.values())


def load_extensions(service: Service) -> list[ServiceExtension]:
    """The extension of every installed package, made for ``service``."""
    factories: list[Callable[[Service], ServiceExtension]] = [point.load() for point in _points()]
    return [factory(service) for factory in factories]
