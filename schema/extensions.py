"""Schema extensions: document limits, request latency by operation, hiding internals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import GraphQLError
from prometheus_client import Histogram
from strawberry.extensions import MaskErrors, SchemaExtension

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


def is_unexpected(error: GraphQLError) -> bool:
    """An error that is neither an expected failure (AllotError) nor a bad document."""
    original = error.original_error
    return original is not None and not isinstance(original, AllotError)


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
