"""Blocks over HTTP as an IPFS Trustless Gateway (specs.ipfs.tech/http-gateways/trustless-gateway/, 2026-03-05):
``GET|HEAD /ipfs/{cid}``, strict (nothing is deserialized, so a request must say which verifiable type it wants).

- ``?format=raw`` or ``Accept: application/vnd.ipld.raw``: the block's bytes, which the client checks against the
  CID it asked for.
- ``?format=car`` or ``Accept: application/vnd.ipld.car``: a CARv1 whose root is the CID, with the blocks of
  ``dag-scope=all`` (the default: the whole DAG under the CID), ``block`` or ``entity`` (the root block alone: these
  DAGs hold no UnixFS, for which alone ``entity`` means more; ``entity-bytes`` implies ``entity``). Blocks come
  depth-first in link order, each once (``Content-Type: application/vnd.ipld.car; version=1; order=dfs; dups=n``);
  a request for another variant (``version=2``, ``dups=y``, ``order`` other than ``dfs`` or ``unk``, in ``Accept``
  or in ``car-version``, ``car-order``, ``car-dups``) is a 400, as the spec allows. The DAG-CBOR blocks are walked
  (and every raw leaf's presence checked) before the first byte is sent, so a missing block is a 404, never a
  truncated CAR; then the blocks are streamed, one in memory at a time, so large bundles cost no large buffers.
- ``format`` takes precedence over ``Accept``; an ``Accept`` lists types by preference (``q``). With neither, or
  with neither type in ``Accept``, the answer is 400 (the spec's "Accept (request header)": a strict trustless
  gateway SHOULD answer 400 when ``Accept`` is missing); a ``curl`` without ``-H accept`` gets a JSON error saying
  what to ask for.
- Every answer carrying bytes says ``Content-Disposition: attachment; filename="<cid>.bin"`` (raw) or
  ``"<cid>.car"`` (the spec's "Content-Disposition (response header)": MUST), so browsers save rather than render
  them, and ``Content-Location`` with the ``format`` it chose when the request gave none.
- Identity CIDs (multihash 0x00) carry their block in the CID: ``bafkqaaa``, the empty one, is the spec's probe
  ("Dedicated Probe Paths": 200 and an empty body for raw, a CAR rooted at it for CAR). Identity blocks are never
  written into a CAR (the spec's "CAR dups": MUST NOT), though their links are followed.

Blocks never change, so responses are cacheable forever and carry ``ETag: "<cid>"`` (raw), ``"<cid>.car"`` (CAR),
and with ``dag-scope`` or ``entity-bytes`` given, ``"<scope>.<cid>.car"`` (the spec's "dag-scope": a prefix per
scope). Paths below a CID (``/ipfs/{cid}/a/b``), the other gateway formats and IPNS are not offered. Unknown CID →
404, malformed CID or request → 400. How the gateway reads the spec, section by section: ``docs/gateway.md``.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dmg.api import media, paths
from dmg.core import codec
from dmg.core.car import CarWriter
from dmg.core.cid import CID, DAG_CBOR, IDENTITY
from dmg.core.errors import DmgError, NotFoundError
from dmg.registry import Registry
from dmg.service.context import service_of
from dmg.service.names import parse_cid
from dmg.service.routing import mount

IMMUTABLE: Final = "public, max-age=29030400, immutable"
_FORMATS: Final = ("raw", "car")
CAR_TYPE: Final = f"{media.CAR}; version=1; order=dfs; dups=n"
"""The one CAR variant served: CARv1, blocks in depth-first order, each once."""
_CAR_OFFERED: Final = {"version": {"1"}, "order": {"dfs", "unk"}, "dups": {"n"}}
"""The values of each CAR content type parameter this gateway satisfies (``unk``: any order will do)."""
SCOPES: Final = ("all", "entity", "block")
_ENTITY_BYTES: Final = re.compile(r"(-?\d+):(-?\d+|\*)")


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header: its type, parameters (lowercase names) and weight."""

    type: str
    parameters: Mapping[str, str]
    q: float


def accepted(header: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header, most preferred first (by ``q``, then as listed); q=0 excluded."""
    ranges: list[MediaRange] = []
    for item in header.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        if not media_type:
            continue
        values: dict[str, str] = {}
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            values[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(values.pop("q", "1"))
        except ValueError:
            q = 0.0  # a weight that does not parse accepts nothing
        if q > 0:
            ranges.append(MediaRange(media_type.lower(), values, q))
    return sorted(ranges, key=lambda item: -item.q)  # sorted() is stable: equal weights keep their order


def _car_refusal(accept: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """Why a CAR with the content type parameters of an ``Accept`` entry, overridden by the ``car-*`` query
    parameters, cannot be sent; None when it can."""
    for name, offered in _CAR_OFFERED.items():
        value = query.get(name, accept.get(name))
        if value is not None and value.lower() not in offered:
            where = "the query" if name in query else "Accept"
            return f"{where} asks for a CAR with {name}={value}; this gateway sends {CAR_TYPE}"
    return None


def requested_format(request: Request) -> str:
    """``raw`` or ``car``: ``?format=`` if given, else the most preferred type in ``Accept`` that can be sent.

    A CAR's variant is what the ``car-version``, ``car-order`` and ``car-dups`` parameters ask for, over what the
    ``Accept`` entry for CARs does; one that is not offered is refused (400) rather than answered with another.
    """
    query = request.query_params
    by_query = {name: query[f"car-{name}"] for name in _CAR_OFFERED if f"car-{name}" in query}
    chosen = query.get("format")
    refusal = _car_refusal({}, by_query)
    for item in accepted(request.headers.get("accept", "")):
        if item.type == media.RAW and chosen is None:
            chosen = "raw"
        elif item.type == media.CAR:
            refusal = _car_refusal(item.parameters, by_query)
            if refusal is None:
                chosen = chosen or "car"
                break
    if chosen is None:
        raise DmgError(
            refusal
            or f"ask for a verifiable response: Accept: {media.RAW} (one block) or {media.CAR} (the DAG under the "
            "CID), or ?format=raw or ?format=car"
        )
    if chosen not in _FORMATS:
        raise DmgError(f"format {chosen!r} is not offered: use format=raw (one block) or format=car (the DAG)")
    if chosen == "car" and refusal is not None:
        raise DmgError(refusal)
    return chosen


def requested_scope(request: Request) -> tuple[str, str | None]:
    """The ``dag-scope`` of a CAR request (``all`` by default) and the ETag prefix it asks for (None when the
    request names no scope); ``entity-bytes`` implies ``entity``, and its range is checked but, there being no
    byte-array entities of several blocks here, changes nothing else."""
    query = request.query_params
    entity_bytes = query.get("entity-bytes")
    if entity_bytes is not None:
        if not _ENTITY_BYTES.fullmatch(entity_bytes):
            raise DmgError(f"entity-bytes={entity_bytes!r}: give from:to, byte offsets (negative from the end) or *")
        return "entity", f"entity-bytes={entity_bytes}"
    scope = query.get("dag-scope")
    if scope is None:
        return "all", None
    if scope not in SCOPES:
        raise DmgError(f"dag-scope={scope!r}: give one of {', '.join(SCOPES)}")
    return scope, scope


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


async def read_block(registry: Registry, cid: CID) -> bytes:
    """The block ``cid`` names: an identity CID's own digest, any other from the registry."""
    return cid.digest if cid.hash_code == IDENTITY else await registry.get_block(cid)


async def dag_order(registry: Registry, root: CID, *, whole: bool = True) -> tuple[list[CID], dict[CID, bytes]]:
    """The CIDs to send for the DAG under ``root`` depth-first, each once (only ``root`` unless ``whole``), with the
    DAG-CBOR blocks read on the way.

    Identity CIDs are followed but not listed (their blocks are in their parents). Raw leaves are only checked for
    presence here; NotFoundError names the first block that is missing.
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
        identity = cid.hash_code == IDENTITY
        if not identity:
            order.append(cid)
        if cid.codec == DAG_CBOR and (whole or cid == root):
            data = await read_block(registry, cid)
            nodes[cid] = data
            if whole:
                stack.extend(reversed(list(links(codec.decode(data)))))
    leaves = [cid for cid in order if cid not in nodes]
    present = await registry.has_blocks(leaves)
    missing = next((cid for cid in leaves if cid not in present), None)
    if missing is not None:
        where = "" if missing == root else f", linked under {root},"
        raise NotFoundError(f"block {missing}{where} is not in this registry")
    return order, nodes


async def car_stream(registry: Registry, root: CID, order: list[CID], nodes: dict[CID, bytes]) -> AsyncIterator[bytes]:
    buffer = io.BytesIO()
    writer = CarWriter(buffer, [root])
    yield buffer.getvalue()  # the header, also for a CAR without blocks (the identity probe)
    for cid in order:
        buffer.seek(0)
        buffer.truncate()
        writer.add(cid, nodes.get(cid) or await registry.get_block(cid))
        yield buffer.getvalue()


def _parse_cid(text: str) -> CID:
    if "/" in text:
        raise DmgError(f"/ipfs/{text}: paths below a CID are not served; ask for the CID alone")
    return parse_cid(text)


def _content_location(request: Request, cid: CID, chosen: str) -> str:
    """The URL naming this response's format explicitly, the request's other parameters kept."""
    query = [(name, value) for name, value in request.query_params.multi_items() if name != "format"]
    return f"/ipfs/{cid}?{urlencode([('format', chosen), *query])}"


async def ipfs(request: Request) -> Response:
    cid = _parse_cid(request.path_params["cid"])
    chosen = requested_format(request)
    scope, named = requested_scope(request) if chosen == "car" else ("block", None)
    registry = service_of(request).registry
    etag = f'"{cid}"' if chosen == "raw" else f'"{"" if named is None else named + "."}{cid}.car"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "Content-Disposition": f'attachment; filename="{cid}.{"bin" if chosen == "raw" else "car"}"',
        "X-Ipfs-Path": f"/ipfs/{cid}",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept",
    }
    if "format" not in request.query_params:
        headers["Content-Location"] = _content_location(request, cid, chosen)
    if chosen == "raw":
        data = await read_block(registry, cid)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(headers={**headers, "Content-Length": str(len(data))}, media_type=media.RAW)
        return Response(data, headers=headers, media_type=media.RAW)
    order, nodes = await dag_order(registry, cid, whole=scope == "all")
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(headers=headers, media_type=CAR_TYPE)
    return StreamingResponse(car_stream(registry, cid, order, nodes), headers=headers, media_type=CAR_TYPE)


routes: Final = [mount(paths.BLOCK, ipfs)]
