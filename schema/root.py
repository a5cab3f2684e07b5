"""The root Schema: every area's Query, Mutation and Subscription merged."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

import strawberry
from graphql import GraphQLError, MaxIntrospectionDepthRule
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema import core, loyalty, party, poems, tables, tasks
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

AREAS: tuple[ModuleType, ...] = (core, loyalty, party, poems, tables, tasks)
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
    """The schema; it logs only unexpected errors, each once, with its traceback.

    Each operation's limits (the added validation rules, the parser's token limit) are set
    on its execution context when it is made, as strawberry's AddValidationRules and
    MaxTokensLimiter would at the start of the operation: those are extensions, made for
    every operation and kept with a suspended `on_operation` for as long as it runs, which
    for an idle subscription is most of what it holds. (`_create_execution_context` is
    strawberry's, not public API: tested on 0.341.x.)
    """

    def __init__(
        self,
        *args: Any,
        validation_rules: Iterable[type[ASTValidationRule]] = (),
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.added_validation_rules = tuple(validation_rules)
        self.max_tokens = max_tokens

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        context = super()._create_execution_context(*args, **kwargs)
        context.validation_rules = context.validation_rules + self.added_validation_rules
        if self.max_tokens is not None:
            context.parse_options["max_tokens"] = self.max_tokens
        return context

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
        validation_rules=rules,
        max_tokens=limits.max_tokens,
        extensions=[
            # Clients send the same few documents again and again: parse and validate once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            OneOperation,
            OperationMetrics,
            masked_errors,
        ],
    )
