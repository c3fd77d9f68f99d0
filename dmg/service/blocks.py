"""Many blocks in one answer: ``POST /api/v1/blocks`` with ``{"cids": [...], "scope": "block" | "all"}``.

A mirror syncing thousands of releases would otherwise ask ``/ipfs/{cid}`` once per record and per bundle. The
answer is a CARv1 whose roots are the CIDs asked for, in that order; its blocks are those CIDs (``scope: block``)
or the whole DAG under each (``scope: all``), depth-first, each block once. Every block the answer names is checked
to be present before the first byte is sent, so a missing one is a 404 naming it, never a truncated CAR. At most
:data:`MAX_CIDS` CIDs per request; the receiver checks every block against its CID, as with any block.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Final

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dmg.api import media, paths
from dmg.core.car import CarWriter
from dmg.core.cid import CID
from dmg.core.errors import DmgError, NotFoundError, TooLargeError
from dmg.http.limits import read_body
from dmg.http.responses import require_content_type
from dmg.registry import Registry
from dmg.service.context import service_of
from dmg.service.gateway import dag_order
from dmg.service.names import parse_cid
from dmg.service.routing import mount

MAX_CIDS: Final = 1024
MAX_REQUEST_BYTES: Final = 256 << 10
SCOPES: Final = ("block", "all")


def _request(body: bytes) -> tuple[list[CID], str]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DmgError(f"{paths.BLOCKS.template} takes a JSON object: {exc}") from None
    cids = data.get("cids") if isinstance(data, dict) else None
    scope = data.get("scope", "block") if isinstance(data, dict) else None
    if not isinstance(cids, list) or not all(isinstance(text, str) for text in cids):
        raise DmgError('name the blocks as {"cids": ["bafy...", ...], "scope": "block" | "all"}')
    if len(cids) > MAX_CIDS:
        raise TooLargeError(f"ask for at most {MAX_CIDS} blocks per request, not {len(cids)}")
    if scope not in SCOPES:
        raise DmgError(f"scope must be 'block' or 'all', not {str(scope)[:40]!r}")
    return list(dict.fromkeys(parse_cid(text) for text in cids)), scope


async def _plan(registry: Registry, roots: list[CID], scope: str) -> tuple[list[CID], dict[CID, bytes]]:
    """The blocks of the answer in order, with those read while walking; raises NotFoundError for a missing one."""
    if scope == "block":
        present = await registry.has_blocks(roots)
        missing = next((cid for cid in roots if cid not in present), None)
        if missing is not None:
            raise NotFoundError(f"no block {missing}")
        return roots, {}
    order: dict[CID, None] = {}
    nodes: dict[CID, bytes] = {}
    for root in roots:
        if root not in order:
            dag, read = await dag_order(registry, root)
            order.update(dict.fromkeys(dag))
            nodes.update(read)
    return list(order), nodes


async def _stream(
    registry: Registry, roots: list[CID], order: list[CID], nodes: dict[CID, bytes]
) -> AsyncIterator[bytes]:
    buffer = io.BytesIO()
    writer = CarWriter(buffer, roots)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for cid in order:
        writer.add(cid, nodes.get(cid) or await registry.get_block(cid))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


async def blocks(request: Request) -> Response:
    require_content_type(request, media.JSON)
    roots, scope = _request(await read_body(request, MAX_REQUEST_BYTES))
    registry = service_of(request).registry
    order, nodes = await _plan(registry, roots, scope)
    return StreamingResponse(_stream(registry, roots, order, nodes), media_type=f"{media.CAR}; version=1")


routes: Final = [mount(paths.BLOCKS, blocks)]
