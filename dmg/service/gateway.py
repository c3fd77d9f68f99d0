"""Blocks over HTTP, after the IPFS trustless gateway convention: ``GET|HEAD /ipfs/{cid}``.

- ``Accept: application/vnd.ipld.raw`` or ``?format=raw``: the block's bytes, which the client checks against
  the CID it asked for.
- ``Accept: application/vnd.ipld.car`` or ``?format=car``: a CARv1 whose root is the CID and whose blocks are
  the DAG under it, depth-first in link order, each once. The DAG-CBOR blocks are walked (and every raw leaf's
  presence checked) before the first byte is sent, so a missing block is a 404, never a truncated CAR; then the
  blocks are streamed, one in memory at a time, so large bundles cost no large buffers.

Blocks never change, so responses are cacheable forever and carry ``ETag: "<cid>"``. Paths below a CID
(``/ipfs/{cid}/a/b``) and the other gateway formats are not offered. Unknown CID → 404, malformed CID → 400.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dmg.api import media, paths
from dmg.core import codec
from dmg.core.car import CarWriter
from dmg.core.cid import CID, DAG_CBOR
from dmg.core.errors import DmgError, NotFoundError
from dmg.registry import Registry
from dmg.service.context import service_of
from dmg.service.names import parse_cid
from dmg.service.routing import mount

IMMUTABLE: Final = "public, max-age=29030400, immutable"
_FORMATS: Final = {"raw": media.RAW, "car": media.CAR}


def requested_format(request: Request) -> str:
    """``raw`` or ``car``, from ``?format=`` or else the first verifiable type in ``Accept``."""
    chosen = request.query_params.get("format")
    if chosen is not None:
        if chosen not in _FORMATS:
            raise DmgError(f"format {chosen!r} is not offered: use format=raw (one block) or format=car (the DAG)")
        return chosen
    for item in request.headers.get("accept", "").split(","):
        media_type = item.split(";", 1)[0].strip().lower()
        for name, offered in _FORMATS.items():
            if media_type == offered:
                return name
    raise DmgError(
        f"ask for a verifiable response: Accept: {media.RAW} (one block) or {media.CAR} (the DAG under the CID), "
        "or ?format=raw or ?format=car"
    )


def links(value: Any) -> Iterator[CID]:
    """The CIDs inside a decoded DAG-CBOR value, in encoding order (map keys as they were encoded)."""
    if isinstance(value, CID):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from links(item)
    elif isinstance(value, list):
        for item in value:
            yield from links(item)


async def dag_order(registry: Registry, root: CID) -> tuple[list[CID], dict[CID, bytes]]:
    """Every CID of the DAG under ``root`` depth-first, each once, with the DAG-CBOR blocks read on the way.

    Raw leaves are only checked for presence here; NotFoundError names the first block that is missing.
    """
    order: list[CID] = []
    seen: set[CID] = set()
    nodes: dict[CID, bytes] = {}
    stack = [root]
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        order.append(cid)
        if cid.codec == DAG_CBOR:
            data = await registry.get_block(cid)
            nodes[cid] = data
            stack.extend(reversed(list(links(codec.decode(data)))))
    leaves = [cid for cid in order if cid not in nodes]
    present = await registry.has_blocks(leaves)
    missing = next((cid for cid in leaves if cid not in present), None)
    if missing is not None:
        raise NotFoundError(f"block {missing}, linked under {root}, is not in this registry")
    return order, nodes


async def car_stream(registry: Registry, root: CID, order: list[CID], nodes: dict[CID, bytes]) -> AsyncIterator[bytes]:
    buffer = io.BytesIO()
    writer = CarWriter(buffer, [root])
    for cid in order:
        writer.add(cid, nodes.get(cid) or await registry.get_block(cid))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _parse_cid(text: str) -> CID:
    if "/" in text:
        raise DmgError(f"/ipfs/{text}: paths below a CID are not served; ask for the CID alone")
    return parse_cid(text)


async def ipfs(request: Request) -> Response:
    cid = _parse_cid(request.path_params["cid"])
    chosen = requested_format(request)
    registry = service_of(request).registry
    etag = f'"{cid}"' if chosen == "raw" else f'"{cid}.car"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "X-Ipfs-Path": f"/ipfs/{cid}",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept",
    }
    if chosen == "raw":
        data = await registry.get_block(cid)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(headers={**headers, "Content-Length": str(len(data))}, media_type=media.RAW)
        return Response(data, headers=headers, media_type=media.RAW)
    order, nodes = await dag_order(registry, cid)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    car_type = f"{media.CAR}; version=1"
    if request.method == "HEAD":
        return Response(headers=headers, media_type=car_type)
    return StreamingResponse(car_stream(registry, cid, order, nodes), headers=headers, media_type=car_type)


routes: Final = [mount(paths.BLOCK, ipfs)]
