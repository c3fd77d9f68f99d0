"""The registry extension (entry point ``dmg.registry.extensions``): a registry opened on a data directory that has
federation state gets its :class:`~federation.core.Federation` attached, whoever opened it (``dmg serve``, the CLI
on a data directory), so routes hold everywhere. A data directory without peers is left exactly as it is.
"""

from __future__ import annotations

from pathlib import Path

from dmg.registry import Registry
from federation.core import Federation
from federation.state import FederationState


async def extend(registry: Registry, data_dir: Path) -> None:
    if FederationState.exists(data_dir):
        await Federation.attach(registry, data_dir)


def federation_of(registry: Registry) -> Federation | None:
    """The federation attached to ``registry``, if any."""
    return registry.mirrors if isinstance(registry.mirrors, Federation) else None
