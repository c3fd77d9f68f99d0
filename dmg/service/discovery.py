"""``GET /.well-known/dmg.json``: this registry's discovery document (:class:`dmg.api.discovery.Discovery`).

Homes are the namespaces claimed here and not mirrored from elsewhere; mirrors come from the registry's
federation (``registry.mirrors``), when it has any.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dmg.api import paths
from dmg.api.discovery import Discovery, MirroredHome
from dmg.service.context import service_of
from dmg.service.routing import mount


async def well_known(request: Request) -> Response:
    registry = service_of(request).registry
    mirrors: list[MirroredHome] = []
    mirrored: set[str] = set()
    if registry.mirrors is not None:
        for log, namespaces in await registry.mirrors.logs():
            mirrors.append(MirroredHome(log.origin, log.verifier_key, tuple(namespaces)))
            mirrored.update(namespaces)
    homes = tuple(name for name in await registry.namespaces() if name not in mirrored and registry.may_read(name))
    document = Discovery(registry.log.origin, registry.log.verifier_key, homes, tuple(mirrors))
    return JSONResponse(document.to_json(), headers={"Cache-Control": "no-cache"})


routes: Final = [mount(paths.WELL_KNOWN, well_known)]
