"""The ASGI view serving the schema at ``/graphql``: POST and GET queries, GraphiQL for browsers, and
subscriptions over the graphql-transport-ws WebSocket protocol.

Every error leaving over HTTP carries ``extensions.code`` (:func:`~dmg.service.graphql.limits.coded`).
Resolvers reach the app's :class:`~dmg.service.context.Service` as ``info.context["service"]``, next to the usual
``request`` and ``response``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from dmg.service.context import Service
from dmg.service.graphql.limits import coded
from dmg.service.graphql.schema import build_schema


class RegistryGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, service: Service) -> None:
        settings = service.settings
        super().__init__(
            build_schema(settings.max_query_depth, settings.max_query_cost),
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.service = service

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> dict[str, Any]:
        return {"request": request, "response": response, "service": self.service}

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Make sure every error has its code, whichever path produced it (coding is idempotent)."""
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        return await super().process_result(request, result)
