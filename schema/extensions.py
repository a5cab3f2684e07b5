"""Schema extensions: document limits, request latency by operation, hiding internals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode
from prometheus_client import Histogram
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from services.errors import AllotError


@dataclass(frozen=True, slots=True)
class Limits:
    """What one document may ask for (ALLOT_MAX_QUERY_DEPTH, _ALIASES, _QUERY_TOKENS)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000


REQUEST_LATENCY = Histogram(
    "allot_graphql_request_seconds",
    "GraphQL operation latency",
    ["operation", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class OperationMetrics(SchemaExtension):
    """Observe each query and mutation's duration under its operation name."""

    def on_operation(self) -> Iterator[None]:
        start = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            kind = ctx.operation_type.value
        except RuntimeError:  # the document did not parse
            kind = "invalid"
        if kind == "subscription":
            return
        REQUEST_LATENCY.labels(ctx.operation_name or "anonymous", kind).observe(
            time.perf_counter() - start
        )


# `extensions.code` of the errors a client caused before anything ran (Apollo Server's names).
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

# What the limits' errors say (strawberry's limiters and graphql-core's introspection rule).
_LIMIT_MESSAGES = (
    "exceeds maximum operation depth of",  # QueryDepthLimiter
    "aliases found. Allowed:",  # MaxAliasesLimiter
    "Document contains more than",  # MaxTokensLimiter, through the parser
    "Maximum introspection depth exceeded",  # MaxIntrospectionDepthRule
)
_OPERATION_ERRORS = (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)


class OneOperation(SchemaExtension):
    """A document of several operations runs the one `operationName` names, or none.

    (strawberry would run the first; the GraphQL spec, and every other server, refuse.)
    """

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # The name the request gave (`operation_name` falls back to the first operation's).
        provided = getattr(ctx, "_provided_operation_name", None)
        if provided is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                ctx.pre_execution_errors = [
                    GraphQLError(
                        "The document has several operations: say which to run in operationName.",
                        extensions={"code": OPERATION_RESOLUTION_FAILURE},
                    )
                ]
        yield


def _is_request_error(error: GraphQLError) -> bool:
    """An error in the request itself, found before any resolver ran: a document that does
    not parse or validate, a variable whose value does not coerce to its type (graphql-core
    wraps the coercion's own GraphQLError, or a scalar's ValueError inside one), an operation
    that cannot be picked or is not allowed on this transport."""
    if error.path is not None:
        return False
    original = error.original_error
    return original is None or isinstance(original, (GraphQLError, *_OPERATION_ERRORS))


def is_unexpected(error: GraphQLError) -> bool:
    """An error that is neither an expected failure (AllotError) nor the request's own fault."""
    original = error.original_error
    if original is None or isinstance(original, AllotError):
        return False
    return not _is_request_error(error)


def request_error_code(error: GraphQLError) -> str | None:
    """The `extensions.code` for an error the client caused, when it has none yet."""
    if error.extensions and "code" in error.extensions:
        return None
    if not isinstance(error, GraphQLSyntaxError) and not _is_request_error(error):
        return None
    if any(text in error.message for text in _LIMIT_MESSAGES):
        return QUERY_TOO_COMPLEX
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    original = error.original_error
    if isinstance(original, GraphQLError):
        return BAD_USER_INPUT  # a variable's value
    if isinstance(original, _OPERATION_ERRORS):
        return OPERATION_RESOLUTION_FAILURE  # no operation to run, or not on this transport
    return VALIDATION_FAILED


class _MaskErrors(MaskErrors):
    """MaskErrors without its per-result Protocol isinstance check when there is no error.

    Every subscription event passes through here, once per subscriber.
    """

    def _process_result(self, result: object) -> None:
        if getattr(result, "errors", None):
            super()._process_result(result)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_ERROR"}
        return masked


def masked_errors() -> MaskErrors:
    """Unexpected exceptions reach the client as a generic message, never a trace or SQL."""
    return _MaskErrors(
        should_mask_error=is_unexpected,
        error_message="Internal error: the request could not be completed. Nothing was changed.",
    )
