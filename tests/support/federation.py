"""Federated registries for tests: a home registry on loopback reached through a proxy, and what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dmg.core.bundle import Bundle
from dmg.core.keys import SigningKey
from dmg.registry import Registry
from tests.support.proxy import Proxy
from tests.support.registries import claim_namespace, publish

NAMESPACE = "com.home"
MODULE = f"{NAMESPACE}/function/shared"


@dataclass
class Home:
    """A home registry on loopback (``url``), reached by the mirror through ``proxy`` (at ``proxied``)."""

    data_dir: Path
    url: str
    proxy: Proxy
    proxied: str

    async def write(self, key: SigningKey, bundle: Bundle, *versions: str, name: str = MODULE) -> None:
        """Publish ``versions`` of ``name`` at the home (claiming its namespace first if need be)."""
        async with await Registry.open(self.data_dir) as registry:
            namespace = name.split("/", 1)[0]
            if (await registry.namespace(namespace)).head.cid is None:
                await claim_namespace(registry, namespace, key)
            for version in versions:
                await publish(registry, key, name, version, bundle)


