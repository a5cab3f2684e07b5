"""Schema extensions: request latency by operation, and hiding internals in errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from graphql import GraphQLError
from prometheus_client import Histogram
from strawberry.extensions import MaskErrors, SchemaExtension

from schema.context import PublicError

log = logging.getLogger("allot.graphql")

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


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, PublicError):
        return False
    log.error("unexpected error in %s", error.path, exc_info=original)
    return True


class _MaskErrors(MaskErrors):
    """MaskErrors without its per-result Protocol isinstance check when there is no error.

    Every subscription event passes through here, once per subscriber.
    """

    def _process_result(self, result: object) -> None:
        if getattr(result, "errors", None):
            super()._process_result(result)


def masked_errors() -> MaskErrors:
    """Unexpected exceptions reach the client as a generic message, never a trace or SQL."""
    return _MaskErrors(
        should_mask_error=_should_mask,
        error_message="Internal error: the request could not be completed. Nothing was changed.",
    )
