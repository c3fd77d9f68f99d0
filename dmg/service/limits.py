"""Request limits: body sizes (answered 413 before the body is read) and a per-client allowance of writes.

:class:`BodyLimitMiddleware` refuses a request whose ``Content-Length`` is over the limit without reading it, and
counts the bytes of any other body as they stream in, stopping at the limit. :func:`read_body` does the same for
one endpoint with its own, smaller limit. :class:`WriteLimiter` is a token bucket per client address.

Limits on GraphQL operations (depth and cost) are in :mod:`dmg.service.graphql.limits`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Final

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dmg.core.errors import DmgError, RateLimitedError, TooLargeError

MAX_TRACKED_CLIENTS: Final = 10_000


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
            await _send_error(send, 400, exc)
            return
        if declared is not None and declared > self.limit:
            await _send_error(send, 413, _too_large(declared, self.limit))
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
            await _send_error(send, 413, exc)


async def _send_error(send: Send, status: int, error: DmgError) -> None:
    body = json.dumps({"error": {"code": error.code, "message": str(error)}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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


class WriteLimiter:
    """A token bucket per client: ``burst`` writes at once, then ``rate`` per second; rate 0 allows everything."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, client: str) -> None:
        if self.rate == 0:
            return
        now = self.clock()
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < 1:
            wait = (1 - tokens) / self.rate
            raise RateLimitedError(
                f"too many writes from {client}: at most {self.rate:g} per second after a burst of {self.burst}; "
                f"retry in {wait:.1f} s",
                retry_after=wait,
            )
        if len(self._buckets) >= MAX_TRACKED_CLIENTS and client not in self._buckets:
            self._forget_idle(now)
        self._buckets[client] = (tokens - 1, now)

    def _forget_idle(self, now: float) -> None:
        """Drop clients whose buckets have refilled: forgetting them changes nothing they are allowed."""
        full_after = self.burst / self.rate
        self._buckets = {client: state for client, state in self._buckets.items() if now - state[1] < full_after}


def retry_after_header(error: RateLimitedError) -> str:
    return str(max(1, math.ceil(error.retry_after)))
