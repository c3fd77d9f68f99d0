"""GraphQL plumbing shared by the services' APIs: error codes, the schema base, its extensions, the ASGI view.

Every GraphQL error leaving a service carries ``extensions.code``: the :class:`~dmg.core.errors.DmgError` code when
a resolver raised one, the code a validation rule gave (``TOO_LARGE`` for the operation limits), ``BAD_REQUEST``
for other invalid documents, and ``INTERNAL`` (message withheld, details in the server log) for bugs
(:func:`coded`). A :class:`CodedSchema` says how its errors are coded (a service may add extensions of its own by
overriding :meth:`CodedSchema.code`), logs only the errors that are bugs, and runs the standard extensions
(:func:`schema_extensions`: a token limit, parse and validation caches, the service's validation rules and
:class:`ErrorCodes`). :class:`CodedGraphQL` is the view serving such a schema, which codes errors once more on the
way out, also for a request it refuses before executing anything.

Also here: :data:`Timestamp`, the scalar both APIs use for times, and :func:`schema_command`, what
``python -m <schema module> [--write]`` does with the checked-in SDL. The schemas themselves are the services'.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, NewType

import strawberry
from graphql import GraphQLError, ValidationRule
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL, HTTPException  # the exception class strawberry.asgi itself catches
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, SchemaExtension, ValidationCache
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult

from dmg.core.errors import DmgError, ErrorCode
from dmg.http.responses import CODE_BY_STATUS

MAX_QUERY_TOKENS: Final = 10_000
QUERY_CACHE_SIZE: Final = 256

Timestamp = NewType("Timestamp", int)

TIMESTAMP_SCALAR: Final = strawberry.scalar(
    name="Timestamp",
    description="Milliseconds since the Unix epoch, as an integer (beyond the 32 bits of GraphQL's Int).",
    serialize=int,
    parse_value=int,
)


def coded(error: GraphQLError) -> GraphQLError:
    """``error`` with ``extensions.code`` set, and with the message withheld when it is a bug."""
    original = error.original_error
    if isinstance(original, DmgError):
        code, message = original.code, str(original)
    elif original is None:
        code, message = (error.extensions or {}).get("code", ErrorCode.BAD_REQUEST), error.message
    else:
        code, message = ErrorCode.INTERNAL, "internal error; the server's log has the details"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


class CodedSchema(strawberry.Schema):
    """A schema whose errors are coded by :meth:`code`; it logs only the errors that are bugs (a DmgError is the
    caller's mistake, or a function's failure, and is answered, not logged)."""

    def code(self, error: GraphQLError) -> GraphQLError:
        """``error`` as it leaves this schema (coding is idempotent: an error may be coded twice)."""
        return coded(error)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        unexpected = [
            error
            for error in errors
            if error.original_error is not None and not isinstance(error.original_error, DmgError)
        ]
        super().process_errors(unexpected, execution_context)


class ErrorCodes(SchemaExtension):
    """Codes every error of a result as its schema, a :class:`CodedSchema`, says."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            schema = self.execution_context.schema
            assert isinstance(schema, CodedSchema)
            result.errors = [schema.code(error) for error in errors]


def schema_extensions(
    rules: Sequence[type[ValidationRule]],
) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """A token limit, parsing and validation cached per query text (LRU, bounded), ``rules`` added to validation,
    and :class:`ErrorCodes`.

    Pass the same rule classes for the life of a schema, so that cached validations are found again. A syntax
    error raised by the parser cache escapes every extension hook, so :class:`ErrorCodes` cannot code it; the view
    (:class:`CodedGraphQL`) codes errors once more on the way out.
    """
    return [
        lambda: MaxTokensLimiter(MAX_QUERY_TOKENS),
        lambda: ParserCache(maxsize=QUERY_CACHE_SIZE),
        lambda: AddValidationRules(list(rules)),
        lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE),
        ErrorCodes,
    ]


def printed(schema: strawberry.Schema) -> str:
    """``schema`` in SDL, as the checked-in files under ``schema/`` hold it."""
    return str(schema).rstrip() + "\n"


def schema_command(argv: Sequence[str], sdl: str, schema_file: Path, module: str) -> None:
    """``python -m <module>`` prints ``sdl``; ``python -m <module> --write`` writes it to ``schema_file``."""
    if list(argv) == ["--write"]:
        schema_file.write_text(sdl)
        print(f"wrote {schema_file}")
    elif not argv:
        sys.stdout.write(sdl)
    else:
        sys.exit(f"usage: python -m {module} [--write]")


class CodedGraphQL(GraphQL[dict[str, Any], None]):
    """strawberry's ASGI view over a :class:`CodedSchema`: POST and GET queries, GraphiQL for browsers when
    ``graphiql``, subscriptions over WebSocket in ``subscription_protocols``. Resolvers reach the app's
    ``service`` as ``info.context["service"]``, next to the usual ``request`` and ``response``."""

    def __init__(
        self,
        schema: CodedSchema,
        service: object,
        *,
        graphiql: bool,
        subscription_protocols: Sequence[str] = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=subscription_protocols,
        )
        self.code = schema.code
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's view, but a request it cannot take (not JSON, a mutation over GET...) is answered
        ``{"errors": [{"message", "extensions": {"code"}}]}`` instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = CODE_BY_STATUS.get(exc.status_code, ErrorCode.BAD_REQUEST)
            errors = [{"message": exc.reason, "extensions": {"code": code}}]
            response = JSONResponse({"errors": errors}, status_code=exc.status_code)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> dict[str, Any]:
        return {"request": request, "response": response, "service": self.service}

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Make sure every error has its code, whichever path produced it (coding is idempotent)."""
        if result.errors:
            result.errors = [self.code(error) for error in result.errors]
        return await super().process_result(request, result)
