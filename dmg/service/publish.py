"""The REST API under ``/api/v1``: publish, log entries, import, export, and log heads.

Writes take what a publisher signed, as blocks: a CAR for a publish or an import, one DAG-CBOR envelope for a
namespace or yank entry. Each handler reads the body within its limit, hands it to the registry (which verifies
it and stores all of it or nothing), and answers with what was stored. Subscribers learn of every accepted entry from
the registry itself (:mod:`dmg.registry.events`), whichever way it came in.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dmg.api import media, paths
from dmg.core.car import MAX_BLOCK_SIZE, read_car
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError
from dmg.http.limits import read_body
from dmg.http.responses import require_content_type
from dmg.service.context import Service, service_of
from dmg.service.names import parse_namespace
from dmg.service.routing import mount

MAX_EXPORT_NAMES: Final = 100


def count_publish(service: Service) -> None:
    service.metrics.publishes.inc()
    service.metrics.entries.labels("publish").inc()


async def publish(request: Request) -> Response:
    service = service_of(request)
    service.check_write(request)
    require_content_type(request, media.CAR)
    car = read_car(await read_body(request, service.settings.max_body_bytes))
    if len(car.roots) != 1:
        raise DmgError(f"a publish CAR has exactly one root, the signed release entry; this one has {len(car.roots)}")
    result = await service.registry.publish(car.roots[0], car.blocks)
    count_publish(service)
    return JSONResponse(
        {"dxn": str(result.dxn), "version": str(result.version), "cid": str(result.record), "entry": str(result.entry)}
    )


async def entries(request: Request) -> Response:
    service = service_of(request)
    service.check_write(request)
    require_content_type(request, media.DAG_CBOR)
    cid = await service.registry.submit_entry(await read_body(request, MAX_BLOCK_SIZE))
    service.metrics.entries.labels("entry").inc()
    return JSONResponse({"cid": str(cid)})


async def import_car(request: Request) -> Response:
    service = service_of(request)
    service.check_write(request)
    require_content_type(request, media.CAR)
    result = await service.registry.import_car(await read_body(request, service.settings.max_body_bytes))
    service.metrics.entries.labels("import").inc(result.entries_added)
    return JSONResponse(
        {
            "entriesAdded": result.entries_added,
            "entriesKnown": result.entries_known,
            "blocksAdded": result.blocks_added,
        }
    )


async def export(request: Request) -> Response:
    names = request.query_params.getlist("dxn")
    if not names:
        raise DmgError("name what to export: /api/v1/export?dxn=com.example/function/x[@range]&dxn=...")
    if len(names) > MAX_EXPORT_NAMES:
        raise DmgError(f"export at most {MAX_EXPORT_NAMES} DXNs per request, not {len(names)}")
    car = await service_of(request).registry.export([DXN.parse(name) for name in names])
    return Response(car, media_type=f"{media.CAR}; version=1")


async def head(request: Request) -> Response:
    log: str = request.path_params["log"]
    name = str(DXN.parse(log).base) if "/" in log else parse_namespace(log)
    state = await service_of(request).registry.log_head(name)
    return JSONResponse({"cid": None if state.cid is None else str(state.cid), "seq": state.seq, "time": state.time})


routes: Final = [
    mount(paths.PUBLISH, publish),
    mount(paths.ENTRIES, entries),
    mount(paths.IMPORT, import_car),
    mount(paths.EXPORT, export),
    mount(paths.HEAD, head),
]
