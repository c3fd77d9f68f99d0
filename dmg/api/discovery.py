"""The discovery document a registry serves at ``/.well-known/dmg.json``: who it is and what it is home for.

A peer reads it before syncing (to learn the origin and log key to pin, and which namespaces the registry is the
home of), and a client reads it to find the home logs of namespaces a registry mirrors. Its schema is documented in
``docs/federation.md``; :meth:`Discovery.from_json` reads it strictly, since it comes from the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from dmg.api import paths
from dmg.core.dxn import is_authority
from dmg.core.errors import DmgError

VERSION: Final = 1
MAX_NAMESPACES: Final = 100_000


class DiscoveryError(DmgError):
    """A discovery document that does not follow its schema."""


@dataclass(frozen=True)
class MirroredHome:
    """A home whose namespaces this registry mirrors, and the log key it checked them with."""

    origin: str
    verifier_key: str
    namespaces: tuple[str, ...]


@dataclass(frozen=True)
class Discovery:
    origin: str
    verifier_key: str
    homes: tuple[str, ...]
    """The public namespaces this registry is the home of (claimed here, not mirrored)."""
    mirrors: tuple[MirroredHome, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "dmg": VERSION,
            "origin": self.origin,
            "verifierKey": self.verifier_key,
            "checkpoint": paths.CHECKPOINT.url(),
            "tiles": "/tile/",
            "graphql": paths.GRAPHQL.url(),
            "blocks": "/ipfs/",
            "homes": list(self.homes),
            "mirrors": [
                {"origin": home.origin, "verifierKey": home.verifier_key, "namespaces": list(home.namespaces)}
                for home in self.mirrors
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> Discovery:
        if not isinstance(data, dict) or data.get("dmg") != VERSION:
            raise DiscoveryError(f"not a version {VERSION} DMG discovery document")
        mirrors = data.get("mirrors", [])
        if not isinstance(mirrors, list) or len(mirrors) > MAX_NAMESPACES:
            raise DiscoveryError("mirrors: must be a list")
        return cls(
            origin=_text(data, "origin"),
            verifier_key=_text(data, "verifierKey"),
            homes=_namespaces(data.get("homes"), "homes"),
            mirrors=tuple(
                MirroredHome(
                    _text(item, "origin"), _text(item, "verifierKey"), _namespaces(item.get("namespaces"), "mirrors")
                )
                for item in mirrors
                if isinstance(item, dict)
            ),
        )


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise DiscoveryError(f"{key}: must be a non-empty string")
    return value


def _namespaces(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_NAMESPACES:
        raise DiscoveryError(f"{where}: must be a list of namespaces")
    if not all(isinstance(name, str) and is_authority(name) for name in value):
        raise DiscoveryError(f"{where}: every item must be a lowercase namespace such as com.example")
    return tuple(value)
