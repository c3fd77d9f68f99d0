"""How errors leave a service over REST: ``{"error": {"code", "message"}}`` with the status for the code.

Every :class:`~dmg.core.errors.DmgError` keeps its ``code`` (a rate-limited one also says when to retry, in
``Retry-After``); Starlette's own HTTP errors (unknown route, wrong method) are answered in the same shape. Anything
else is a bug: it is logged, and the client gets a 500 with code ``INTERNAL`` and no details.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dmg.core.errors import DmgError, ErrorCode, RateLimitedError

CODE_BY_STATUS: Final = {404: ErrorCode.NOT_FOUND, 413: ErrorCode.TOO_LARGE, 429: ErrorCode.RATE_LIMITED}
"""The code of Starlette's own HTTP errors by status; any other is answered as BAD_REQUEST."""

logger = logging.getLogger("dmg.service")


def retry_after_header(error: RateLimitedError) -> str:
    return str(max(1, math.ceil(error.retry_after)))


def error_json(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def dmg_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DmgError)
    headers = {"Retry-After": retry_after_header(exc)} if isinstance(exc, RateLimitedError) else None
    return error_json(ErrorCode.http_status_of(exc.code), exc.code, str(exc), headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_json(exc.status_code, CODE_BY_STATUS.get(exc.status_code, ErrorCode.BAD_REQUEST), message, exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    message = "internal error; the server's log has the details"
    return error_json(ErrorCode.INTERNAL.http_status, ErrorCode.INTERNAL, message)


def require_content_type(request: Request, *accepted: str) -> None:
    """Refuse a body whose Content-Type is not one of ``accepted`` (parameters after ``;`` are ignored).

    Being strict here also keeps browsers' cross-site form posts (which cannot send these types) out.
    """
    given = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given not in accepted:
        raise DmgError(
            f"{request.url.path} takes a body of type {' or '.join(accepted)}, not {given or 'none'!r}: "
            "set the Content-Type header"
        )
