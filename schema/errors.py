"""The shared error types of the contract, and how domain errors become them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from services import errors as domain

E = TypeVar("E", bound=domain.AllotError)


@strawberry.interface(description="An expected failure: a stable code and a message to act on.")
class Error:
    code: str
    message: str


@strawberry.type
class NotFound(Error):
    pass


@strawberry.type
class Forbidden(Error):
    pass


@strawberry.type
class FieldError:
    field: str
    message: str


@strawberry.type
class InvalidInput(Error):
    fields: list[FieldError]


@strawberry.type
class StaleVersion(Error):
    current_version: int


_CONVERTERS: dict[type[domain.AllotError], Callable[[Any], Any]] = {}


def converts(kind: type[E]) -> Callable[[Callable[[E], Any]], Callable[[E], Any]]:
    """Register how a domain error becomes its GraphQL type (areas add their own)."""

    def register(fn: Callable[[E], Any]) -> Callable[[E], Any]:
        _CONVERTERS[kind] = fn
        return fn

    return register


def to_graphql(err: domain.AllotError) -> Any:
    """The GraphQL error object for a domain error (most specific registered class)."""
    for kind in type(err).__mro__:
        fn = _CONVERTERS.get(kind)
        if fn is not None:
            return fn(err)
    raise err


@converts(domain.NotFound)
def _not_found(err: domain.NotFound) -> NotFound:
    return NotFound(code=err.code, message=err.message)


@converts(domain.Forbidden)
def _forbidden(err: domain.Forbidden) -> Forbidden:
    return Forbidden(code=err.code, message=err.message)


@converts(domain.InvalidInput)
def _invalid(err: domain.InvalidInput) -> InvalidInput:
    return InvalidInput(
        code=err.code,
        message=err.message,
        fields=[FieldError(field=p.field, message=p.message) for p in err.fields],
    )


@converts(domain.StaleVersion)
def _stale(err: domain.StaleVersion) -> StaleVersion:
    return StaleVersion(code=err.code, message=err.message, current_version=err.current_version)


SHARED_ERROR_TYPES: tuple[type, ...] = (NotFound, Forbidden, InvalidInput, StaleVersion)
