"""GraphQL errors over graphql-transport-ws carry ``extensions.code`` as they do over HTTP POST: every error class,
through a real WebSocket client (``websockets``) against a real server on 127.0.0.1.

An error before execution is the protocol's ``error`` message for the operation (its payload the coded errors),
one during execution is in the ``next`` message's ``errors``; either way the connection stays open for the next
operation.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from dmg.authoring.publisher import claim, grant
from dmg.core.clock import now_ms
from dmg.core.envelope import Envelope, Signature
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.service.server import BackgroundServer
from dmg.service.settings import Settings

ECHO: Final = "org.example/function/echo"
Operation = dict[str, Any]
Case = Callable[[SigningKey, SigningKey], Operation]


def b64(envelope: Envelope) -> str:
    return base64.b64encode(envelope.block()[1]).decode()


def mutation(name: str, envelope: str) -> Operation:
    return {"query": f"mutation ($e: String!) {{ {name}(envelope: $e) {{ cid }} }}", "variables": {"e": envelope}}


def query(text: str, **variables: Any) -> Operation:
    return {"query": text, "variables": variables}


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample modules (org.example claimed), and limits small enough to refuse a wide query."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ws"), port=0, seed_samples=True, max_query_depth=4, max_query_cost=200
    )
    with BackgroundServer(settings) as url:
        yield url


WS: Final = "graphql-transport-ws"


@asynccontextmanager
async def open_socket(url: str) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection to the service at ``url``, initialised and acknowledged."""
    async with connect(url.replace("http://", "ws://") + "/graphql", subprotocols=[Subprotocol(WS)]) as opened:
        await opened.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(opened.recv(), 10)) == {"type": "connection_ack"}
        yield opened


@pytest.fixture
async def socket(server_url: str) -> AsyncIterator[ClientConnection]:
    async with open_socket(server_url) as opened:
        yield opened


async def operate(socket: ClientConnection, operation_id: str, payload: Operation) -> dict[str, Any]:
    """The first message the server sends for the operation ``payload`` started as ``operation_id``."""
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert message["id"] == operation_id, message
    return message


def errors_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return errors


def forged_claim(key: SigningKey) -> str:
    """A claim whose signature is 64 zero bytes."""
    payload = claim("com.ws", [key], LogHead(), now_ms()).payload
    return b64(Envelope(payload, [Signature(key.public_key, bytes(64))]))


def strangers_grant(other: SigningKey) -> str:
    """A grant in org.example signed by a key that holds nothing there."""
    return b64(grant("org.example", other.public_key, ["release"], other, LogHead(), now_ms()))


EVENTS_AFTER: Final = "query ($n: Int!) { events(after: $n) { position } }"
CASES: Final[list[tuple[str, Case, str, str, str]]] = [
    # refused before execution: the protocol's error message
    ("validation", lambda k, o: query("{ nope }"), "error", "BAD_REQUEST", "Cannot query field 'nope'"),
    ("syntax", lambda k, o: query("{ resolve(dxn: "), "error", "BAD_REQUEST", "Syntax Error"),
    (
        "unknown operation",
        lambda k, o: {"query": "query A { checkpoint { size } }", "operationName": "B"},
        "error",
        "BAD_REQUEST",
        'Unknown operation named "B"',
    ),
    ("cost", lambda k, o: query("{ modules(first: 70) { edges { node { dxn } } } }"), "error", "TOO_LARGE", "costs"),
    (
        "depth",
        lambda k, o: query("{ modules(first: 5) { edges { node { functions { name } } } } }"),
        "error",
        "TOO_LARGE",
        "5 deep",
    ),
    # failed during execution: errors in the next message (variables are coerced when execution starts)
    ("variable type", lambda k, o: query(EVENTS_AFTER, n="x"), "next", "BAD_REQUEST", "'$n' has invalid value"),
    ("missing variable", lambda k, o: query(EVENTS_AFTER), "next", "BAD_REQUEST", "'$n' has invalid value"),
    ("argument", lambda k, o: query('{ resolve(dxn: "Not A DXN") { version } }'), "next", "BAD_REQUEST", "Not A DXN"),
    (
        "not found",
        lambda k, o: query(f'{{ module(dxn: "{ECHO}", version: "9.9.9") {{ cid }} }}'),
        "next",
        "NOT_FOUND",
        "9.9.9",
    ),
    ("not base64", lambda k, o: mutation("yank", "!!!"), "next", "BAD_REQUEST", "standard base64"),
    ("not an envelope", lambda k, o: mutation("yank", "AAAA"), "next", "BAD_REQUEST", "trailing bytes"),
    ("too large", lambda k, o: mutation("yank", "A" * (2 << 20)), "next", "TOO_LARGE", "block limit"),
    (
        "entry type",
        lambda k, o: mutation("yank", b64(claim("com.ws", [k], LogHead(), now_ms()))),
        "next",
        "BAD_REQUEST",
        "takes a 'yank' entry",
    ),
    ("signature", lambda k, o: mutation("claimNamespace", forged_claim(k)), "next", "INVALID_SIGNATURE", "verify"),
    (
        "conflict",
        lambda k, o: mutation("claimNamespace", b64(claim("org.example", [o], LogHead(), now_ms()))),
        "next",
        "CONFLICT",
        "already claimed",
    ),
    ("unauthorized", lambda k, o: mutation("grantKey", strangers_grant(o)), "next", "UNAUTHORIZED", "'grant'"),
    # a subscription whose resolver refuses its arguments
    (
        "subscription namespace",
        lambda k, o: query('subscription { events(namespace: "Not Valid") { position } }'),
        "next",
        "BAD_REQUEST",
        "invalid namespace 'Not Valid'",
    ),
    (
        "subscription position",
        lambda k, o: query("subscription { events(after: -1) { position } }"),
        "next",
        "BAD_REQUEST",
        "a position in the log is 0 or more",
    ),
]


@pytest.mark.parametrize(("case", "make", "kind", "code", "text"), CASES, ids=[case[0] for case in CASES])
async def test_every_error_over_the_websocket_carries_its_code_as_over_http(
    server_url: str,
    socket: ClientConnection,
    key: SigningKey,
    other_key: SigningKey,
    case: str,
    make: Case,
    kind: str,
    code: str,
    text: str,
) -> None:
    operation = make(key, other_key)
    message = await operate(socket, "1", operation)
    assert message["type"] == kind, message
    errors = errors_in(message)
    assert errors and all(error["extensions"]["code"] == code for error in errors), errors
    assert text in errors[0]["message"]
    if kind == "next":
        assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"id": "1", "type": "complete"}
    # HTTP POST answers the same operation with the same code and message; a subscription it refuses
    async with httpx.AsyncClient(base_url=server_url, timeout=10) as http:
        answer = (await http.post("/graphql", json=operation)).json()
    answered = [(error["extensions"]["code"], error["message"]) for error in answer["errors"]]
    if operation["query"].startswith("subscription"):
        assert answered == [("BAD_REQUEST", "subscriptions are not allowed when using POST")]
    else:
        assert answered == [(error["extensions"]["code"], error["message"]) for error in errors]
    # and the connection goes on
    after = await operate(socket, "2", query("{ checkpoint { size } }"))
    assert after["type"] == "next" and after["payload"]["data"]["checkpoint"]["size"] > 0


async def test_a_spent_write_allowance_is_rate_limited_over_the_websocket(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "served", port=0, seed_samples=False, write_rate=0.001, write_burst=1)
    with BackgroundServer(settings) as url:
        async with open_socket(url) as opened:
            first = await operate(opened, "1", mutation("yank", "!!!"))  # refused, but counted
            assert errors_in(first)[0]["extensions"]["code"] == "BAD_REQUEST"
            await opened.recv()  # its complete message
            second = await operate(opened, "2", mutation("yank", "!!!"))
    (error,) = errors_in(second)
    assert second["type"] == "next" and error["extensions"]["code"] == "RATE_LIMITED"


async def test_errors_of_operations_sharing_a_connection_stay_apart(socket: ClientConnection) -> None:
    """A live subscription is not disturbed by another operation's error on the same connection."""
    live = {"id": "live", "type": "subscribe", "payload": query("subscription { events(after: 0) { position } }")}
    await socket.send(json.dumps(live))
    first = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert first["id"] == "live" and first["payload"]["data"]["events"]["position"] == 1
    await socket.send(json.dumps({"id": "bad", "type": "subscribe", "payload": query("{ nope")}))
    seen: dict[str, list[dict[str, Any]]] = {}
    while "bad" not in seen or len(seen.get("live", [])) < 2:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        seen.setdefault(message["id"], []).append(message)
    (bad,) = seen["bad"]
    assert bad["type"] == "error" and bad["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert all(message["type"] == "next" and "errors" not in message["payload"] for message in seen["live"])
