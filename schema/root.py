"""The root Schema: every area's Query, Mutation and Subscription merged."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import ModuleType

import strawberry
from graphql import GraphQLError, MaxIntrospectionDepthRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema import core, poems, tables
from schema.errors import SHARED_ERROR_TYPES, DomainErrors
from schema.extensions import (
    Limits,
    OneOperation,
    OperationMetrics,
    is_unexpected,
    masked_errors,
    request_error_code,
)
from schema.fanout import SharedEventExecutor

log = logging.getLogger("allot.graphql")

AREAS: tuple[ModuleType, ...] = (core, poems, tables)
"""Every area's schema module; an area is served once it is listed here."""


def _merged(name: str, modules: Sequence[ModuleType]) -> type | None:
    parts = tuple(getattr(m, name) for m in modules if hasattr(m, name))
    return merge_types(name, parts) if parts else None


def _with_domain_errors(mutation: type) -> type:
    """Every mutation answers its expected failures as members of its result union."""
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        field.extensions.append(DomainErrors())
    return mutation


class AllotSchema(strawberry.Schema):
    """The schema; it logs only unexpected errors, each once, with its traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)
                continue
            code = request_error_code(error)
            if code is not None:
                error.extensions = {**(error.extensions or {}), "code": code}
            log.info("request refused: %s", error.message)


def build_schema(limits: Limits, extra: Sequence[ModuleType] = ()) -> strawberry.Schema:
    """The served schema; `extra` adds modules (tests use it for a probe table)."""
    modules = (*AREAS, *extra)
    # The limiters' rules are built once: ValidationCache keys on the rule classes, and a
    # limiter built per request makes new ones, so nothing would ever be cached.
    # The depth limit leaves introspection (`__schema`, `__type`) alone, on purpose: GraphiQL's
    # and every client generator's introspection query nests `ofType` deeper than any
    # operation needs. graphql-core's MaxIntrospectionDepthRule bounds what introspection can
    # nest instead (the recursive `fields`, `interfaces`, `possibleTypes`, `inputFields`).
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        MaxIntrospectionDepthRule,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    query = _merged("Query", modules)
    mutation = _merged("Mutation", modules)
    assert query is not None
    return AllotSchema(
        query=query,
        mutation=_with_domain_errors(mutation) if mutation is not None else None,
        subscription=_merged("Subscription", modules),
        types=SHARED_ERROR_TYPES,
        execution_context_class=SharedEventExecutor,
        extensions=[
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            # Clients send the same few documents again and again: parse and validate once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            OneOperation,
            OperationMetrics,
            masked_errors,
        ],
    )
