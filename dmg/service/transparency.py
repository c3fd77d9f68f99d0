"""The transparency log over HTTP, as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), so standard tools audit it.

- ``GET /checkpoint``: the registry's latest signed checkpoint, a C2SP signed note (``text/plain; charset=utf-8``)
  whose key name is the log's origin; it changes with every append and is signed again at least every minute, so
  it is never cached.
- ``GET /tile/<L>/<N>[.p/<W>]``: a hash tile (``W`` hashes of tree level ``8 * L``, 32 bytes each);
  ``GET /tile/entries/<N>[.p/<W>]``: an entry bundle, whose entries are the envelope blocks of log entries in
  acceptance order. A full tile never changes and may be cached forever; a partial one until the tree grows.

The same proofs are offered through GraphQL (``checkpoint``, ``inclusionProof``, ``consistencyProof``, and
``history`` entries with their leaf index). A tile beyond the tree, or a malformed tile path, is a 404.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from dmg.api import media, paths
from dmg.service.context import service_of
from dmg.service.routing import mount

IMMUTABLE: Final = "public, max-age=31536000, immutable"
SHORT_LIVED: Final = "public, max-age=10"


async def checkpoint(request: Request) -> Response:
    signed = await service_of(request).registry.log.checkpoint()
    return Response(signed.note, media_type=media.NOTE, headers={"Cache-Control": "no-cache"})


async def tile(request: Request) -> Response:
    path = f"tile/{request.path_params['path']}"
    data = await service_of(request).registry.log.tile(path)
    # The path was parsed in its one canonical spelling, where only a partial tile carries ".p/<W>".
    partial = ".p/" in path
    return Response(data, media_type=media.TILE, headers={"Cache-Control": SHORT_LIVED if partial else IMMUTABLE})


routes: Final = [
    mount(paths.CHECKPOINT, checkpoint),
    mount(paths.TILE, tile),
]
