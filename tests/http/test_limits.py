"""The body limit middleware driven as an ASGI app: what it answers before the app sees a body it refuses.

A real server's HTTP parser already refuses a Content-Length that is not a number, so that answer is checked here,
where the middleware is reached directly; the 413 answers are also checked on real servers in
tests/service/test_app.py.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from dmg.http.limits import BodyLimitMiddleware


async def echo_size(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(str(len(body)))(scope, receive, send)


async def post(
    headers: list[tuple[bytes, bytes]], chunks: list[bytes], limit: int = 10
) -> tuple[int, bytes, dict[str, str]]:
    """Send a POST with ``chunks`` as its body through the middleware; return the status, body and headers."""
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    pending = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1} for n, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await BodyLimitMiddleware(echo_size, limit)(scope, receive, send)
    start, body = sent
    response_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], body["body"], response_headers


async def test_a_body_within_the_limit_reaches_the_app() -> None:
    status, body, _ = await post([(b"content-length", b"10")], [b"12345", b"67890"])
    assert (status, body) == (200, b"10")


async def test_refusals_answer_the_rest_error_shape() -> None:
    cases = [
        ([(b"content-length", b"ten")], [b"x"], 400, "BAD_REQUEST", "Content-Length 'ten' is not a number"),
        ([(b"content-length", b"11")], [b"x"], 413, "TOO_LARGE", "request body of 11 bytes is over the 10-byte"),
        ([], [b"123456", b"789012"], 413, "TOO_LARGE", "request body of more than 10 bytes is over the 10-byte"),
    ]
    for headers, chunks, status, code, message in cases:
        answered, body, response_headers = await post(headers, chunks)
        assert answered == status
        error = json.loads(body)["error"]
        assert error["code"] == code and error["message"].startswith(message)
        assert response_headers["content-type"] == "application/json"
        assert int(response_headers["content-length"]) == len(body)
