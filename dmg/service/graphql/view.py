"""The ASGI view serving the registry's schema at ``/graphql``: POST and GET queries, GraphiQL for browsers, and
subscriptions over the graphql-transport-ws WebSocket protocol.

Every error carries ``extensions.code`` (:mod:`dmg.http.graphql`), over HTTP (also for a request the view refuses
before executing anything) and over the WebSocket (in the protocol's ``error`` message when the operation is refused
before it runs, in ``next`` when it fails running). Resolvers reach the app's
:class:`~dmg.service.context.Service` as ``info.context["service"]``, next to the usual ``request`` and
``response``.
"""

from __future__ import annotations

from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from dmg.http.graphql import CodedGraphQL
from dmg.service.context import Service
from dmg.service.graphql.schema import build_schema


class RegistryGraphQL(CodedGraphQL):
    def __init__(self, service: Service) -> None:
        settings = service.settings
        super().__init__(
            build_schema(settings.max_query_depth, settings.max_query_cost),
            service,
            graphiql=settings.graphiql,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
