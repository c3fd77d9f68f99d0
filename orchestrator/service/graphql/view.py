"""The ASGI view serving the control API at ``/graphql``: POST and GET queries, and GraphiQL for browsers.

Every error leaving over HTTP carries ``extensions.code`` (:class:`dmg.http.graphql.CodedGraphQL`, with the
orchestrator's extensions from :meth:`~orchestrator.service.graphql.schema.OrchestratorSchema.code`), also for a
request the view refuses before executing anything. Resolvers reach the app's
:class:`~orchestrator.service.context.OrchestratorService` as ``info.context["service"]``.
"""

from __future__ import annotations

from dmg.http.graphql import CodedGraphQL
from orchestrator.service.context import OrchestratorService
from orchestrator.service.graphql.schema import build_schema


class OrchestratorGraphQL(CodedGraphQL):
    def __init__(self, service: OrchestratorService) -> None:
        settings = service.settings
        super().__init__(
            build_schema(settings.max_query_depth, settings.max_query_cost), service, graphiql=settings.graphiql
        )
