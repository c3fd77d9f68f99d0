"""A man in the middle for tests: :class:`Proxy` forwards every request to a real registry and lets a test rewrite
the answers (a lying registry, a tampering network, a peer that goes down)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GraphQLChange = Callable[[dict[str, Any], dict[str, Any]], Awaitable[dict[str, Any]]]
Rewrite = Callable[[Request, httpx.Response], Awaitable[Response]]


class Proxy:
    """A man in the middle: forwards every request to ``upstream`` and lets a test rewrite the answers."""

    def __init__(self) -> None:
        self.upstream = ""
        self.rewrites: dict[str, Rewrite] = {}
        self.graphql_changes: list[tuple[str, GraphQLChange]] = []
        self.down = False
        """While True, every request is answered 502 as by a gateway whose upstream is gone."""
        self.app = Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])

    def reset(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrites.clear()
        self.graphql_changes.clear()
        self.down = False

    async def fetch(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.upstream, timeout=10) as http:
            return await http.request(method, path, **kwargs)

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = await self.fetch("POST", "/graphql", json={"query": query, "variables": variables})
        data: dict[str, Any] = answer.json()["data"]
        return data

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        forwarded = ("content-type", "accept", "authorization")
        headers = {name: value for name, value in request.headers.items() if name in forwarded}
        if self.down:
            return Response(b"", status_code=502)
        answer = await self.fetch(
            request.method, request.url.path, params=request.query_params.multi_items(), content=body, headers=headers
        )
        rewrite = self.rewrites.get(request.url.path)
        if rewrite is not None:
            return await rewrite(request, answer)
        if request.url.path == "/graphql":
            asked = json.loads(body)
            for contains, change in self.graphql_changes:
                if contains in asked["query"]:
                    return JSONResponse(await change(asked, answer.json()))
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    def on(self, path: str, rewrite: Rewrite) -> None:
        self.rewrites[path] = rewrite

    def answer(self, path: str, body: bytes, media_type: str = "application/octet-stream") -> None:
        async def fixed(request: Request, upstream: httpx.Response) -> Response:
            return Response(bytes(body), media_type=media_type)

        self.on(path, fixed)

    def on_graphql(self, contains: str, change: GraphQLChange) -> None:
        """Rewrite the answers to GraphQL operations whose text holds ``contains``."""
        self.graphql_changes.append((contains, change))
