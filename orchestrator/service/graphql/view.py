"""The ASGI view serving the control API at ``/graphql``: POST and GET queries, and GraphiQL for browsers.

Every error leaving over HTTP carries ``extensions.code`` (:func:`~orchestrator.service.graphql.schema.coded`), also
for a request the view refuses before executing anything. Resolvers reach the app's
:class:`~orchestrator.service.context.OrchestratorService` as ``info.context["service"]``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL, HTTPException  # the exception class strawberry.asgi itself catches
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from dmg.service.responses import CODE_BY_STATUS
from orchestrator.service.context import OrchestratorService
from orchestrator.service.graphql.schema import build_schema, coded


class OrchestratorGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, service: OrchestratorService) -> None:
        settings = service.settings
        super().__init__(
            build_schema(settings.max_query_depth, settings.max_query_cost),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's view, but a request it cannot take (not JSON, a mutation over GET...) is answered
        ``{"errors": [{"message", "extensions": {"code"}}]}`` instead of plain text."""
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = CODE_BY_STATUS.get(exc.status_code, "BAD_REQUEST")
            errors = [{"message": exc.reason, "extensions": {"code": code}}]
            response = JSONResponse({"errors": errors}, status_code=exc.status_code)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> dict[str, Any]:
        return {"request": request, "response": response, "service": self.service}

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Make sure every error has its code, whichever path produced it (coding is idempotent)."""
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        return await super().process_result(request, result)
