"""GraphQL plumbing shared by the services' APIs: error codes, the schema base, its extensions, the ASGI view.

Every GraphQL error leaving a service carries ``extensions.code``, over HTTP and over the graphql-transport-ws
WebSocket alike: the :class:`~dmg.core.errors.DmgError` code when a resolver raised one, the code a validation rule
gave (``TOO_LARGE`` for the operation limits), ``BAD_REQUEST`` for other invalid requests (a document that does not
parse or validate, variables of the wrong type, an unknown operation name), and ``INTERNAL`` (message withheld,
details in the server log) for bugs (:func:`coded`). A :class:`CodedSchema` says how its errors are coded (a service
may add extensions of its own by overriding :meth:`CodedSchema.code`), logs only the errors that are bugs, and runs
the standard extensions (:func:`schema_extensions`: a token limit, parse and validation caches, the service's
validation rules and :class:`ErrorCodes`, which codes each result of an operation, and each result a subscription
streams). :class:`CodedGraphQL` is the view serving such a schema, which codes errors once more on the way out of
HTTP, also for a request it refuses before executing anything.

Over graphql-transport-ws, an error before execution (the document does not parse or validate, the operation is
not in it) is the protocol's ``error`` message for that operation, with the coded errors as its payload, as the
``graphql-ws`` reference server answers validation errors; errors during execution are in the ``next`` message's
``errors``. The socket stays open for the connection's other operations.

Also here: :data:`Timestamp`, the scalar both APIs use for times, and :func:`schema_command`, what
``python -m <schema module> [--write]`` does with the checked-in SDL. The schemas themselves are the services'.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, NewType

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, ValidationRule
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL, HTTPException  # the exception class strawberry.asgi itself catches
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, SchemaExtension, ValidationCache
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult, StreamExecutionResult
from strawberry.types.graphql import OperationType

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


REQUEST_ERRORS: Final = (GraphQLError, CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)
"""What strawberry and graphql-core raise, and wrap, for a request that cannot run (variables that do not coerce,
an operation name not in the document, no query): the caller's mistake, never a bug."""


def is_bug(error: GraphQLError) -> bool:
    """Whether ``error`` comes from an exception that is neither a :class:`DmgError` nor a request error."""
    original = error.original_error
    return original is not None and not isinstance(original, (DmgError, *REQUEST_ERRORS))


def coded(error: GraphQLError) -> GraphQLError:
    """``error`` with ``extensions.code`` set, and with the message withheld when it is a bug."""
    original = error.original_error
    if isinstance(original, DmgError):
        code, message = original.code, str(original)
    elif is_bug(error):
        code, message = ErrorCode.INTERNAL, "internal error; the server's log has the details"
    else:
        code, message = (error.extensions or {}).get("code", ErrorCode.BAD_REQUEST), error.message
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
        super().process_errors([error for error in errors if is_bug(error)], execution_context)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As strawberry's, but never a subscription: executed at once (HTTP), a subscription has no result to give
        (its field is a stream) and failed as a bug; refused, it is a request error. Subscriptions are streamed
        (:meth:`stream`, the WebSocket)."""
        allowed = set(OperationType) if allowed_operation_types is None else set(allowed_operation_types)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )


class ErrorCodes(SchemaExtension):
    """Codes every error of a result as its schema, a :class:`CodedSchema`, says: the result of an operation
    executed at once (HTTP), and each result :meth:`strawberry.Schema.stream` yields (every operation over
    graphql-transport-ws, and each event of a subscription), before the transport formats it."""

    def _code(self, result: object) -> None:
        # Incremental-delivery frames (@defer, @stream; not enabled) nest their errors and are left alone.
        if isinstance(result, ExecutionResult | GraphQLExecutionResult) and result.errors:
            schema = self.execution_context.schema
            assert isinstance(schema, CodedSchema)
            result.errors = [schema.code(error) for error in result.errors]

    def on_operation(self) -> Iterator[None]:
        yield
        self._code(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._code(result)
        yield


class CodedParserCache(ParserCache):
    """strawberry's :class:`ParserCache`, except that a document that does not parse is left for strawberry to parse
    again: strawberry then answers the syntax error like an invalid document (a result with errors, which
    :class:`ErrorCodes` codes ``BAD_REQUEST``), whereas raised from the cache it escaped every hook, and a WebSocket
    operation ended with no error at all. Only documents that fail are parsed twice; the token limit bounds both."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with suppress(GraphQLError):  # strawberry's own parse raises it again, where it is answered
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield


def schema_extensions(
    rules: Sequence[type[ValidationRule]],
) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """A token limit, parsing and validation cached per query text (LRU, bounded), ``rules`` added to validation,
    and :class:`ErrorCodes`.

    Pass the same rule classes for the life of a schema, so that cached validations are found again.
    """
    return [
        lambda: MaxTokensLimiter(MAX_QUERY_TOKENS),
        lambda: CodedParserCache(maxsize=QUERY_CACHE_SIZE),
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
