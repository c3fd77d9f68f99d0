"""The request body limit of a service: bodies over it are answered 413 before they are read.

:class:`BodyLimitMiddleware` refuses a request whose ``Content-Length`` is over the limit without reading it, and
counts the bytes of any other body as they stream in, stopping at the limit. :func:`read_body` does the same for
one endpoint with its own, smaller limit. Both answer in the REST error shape of :mod:`dmg.http.responses`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dmg.core.errors import DmgError, TooLargeError
from dmg.http.responses import error_json


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise DmgError(f"Content-Length {value.decode('latin-1')!r} is not a number") from None
    return None


def _too_large(size: int | str, limit: int) -> TooLargeError:
    return TooLargeError(f"request body of {size} bytes is over the {limit}-byte limit; send less per request")


class BodyLimitMiddleware:
    """ASGI middleware: HTTP request bodies over ``limit`` bytes get 413 (JSON error), read no further."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared = _declared_length(scope["headers"])
        except DmgError as exc:
            await _send_error(scope, receive, send, 400, exc)
            return
        if declared is not None and declared > self.limit:
            await _send_error(scope, receive, send, 413, _too_large(declared, self.limit))
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _too_large(f"more than {self.limit}", self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except TooLargeError as exc:
            if started:
                raise
            await _send_error(scope, receive, send, 413, exc)


async def _send_error(scope: Scope, receive: Receive, send: Send, status: int, error: DmgError) -> None:
    await error_json(status, error.code, str(error))(scope, receive, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole request body, refused with TooLargeError as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit}", limit)
        chunks.append(chunk)
    return b"".join(chunks)
