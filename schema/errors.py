"""The contract's error types, and the one place a domain error becomes one of them.

Every mutation returns a union of its payload and error types. Its resolver returns the
payload and lets a domain error (services.errors.AllotError) propagate; `DomainErrors`,
which `schema.root` puts on every mutation, turns that error into the union member of the
same name (`TableConflict` -> `TableConflict`). The member's `of(err)` copies what the error
carries beyond code and message; without one, code and message are all there is. An error
with no member in the field's union stays a GraphQL error with its `extensions.code`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

from services import errors as domain


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

    @classmethod
    def of(cls, err: domain.InvalidInput) -> InvalidInput:
        return cls(
            code=err.code,
            message=err.message,
            fields=[FieldError(field=p.field, message=p.message) for p in err.fields],
        )


@strawberry.type
class StaleVersion(Error):
    current_version: int

    @classmethod
    def of(cls, err: domain.StaleVersion) -> StaleVersion:
        return cls(code=err.code, message=err.message, current_version=err.current_version)


SHARED_ERROR_TYPES: tuple[type, ...] = (NotFound, Forbidden, InvalidInput, StaleVersion)


def member_for(err: domain.AllotError, members: dict[str, type]) -> object | None:
    """The union member for a domain error: the member named like the error's class (or like
    the nearest base class that has one), or None."""
    for kind in type(err).__mro__:
        member = members.get(kind.__name__)
        if member is not None:
            of: Callable[[domain.AllotError], object] | None = getattr(member, "of", None)
            return of(err) if of is not None else member(code=err.code, message=err.message)
        if kind is domain.AllotError:
            break
    return None


def _union_members(field: StrawberryField) -> dict[str, type]:
    union = field.type
    if not isinstance(union, StrawberryUnion):
        raise TypeError(f"mutation {field.python_name} must return a union of payload and errors")
    members: dict[str, type] = {}
    for member in union.types:
        origin = get_object_definition(member, strict=True).origin
        members[origin.__name__] = origin
    return members


class DomainErrors(FieldExtension):
    """A mutation's domain error becomes the member of its result union with the same name."""

    def apply(self, field: StrawberryField) -> None:
        self._field = field
        self._members: dict[str, type] | None = None

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: strawberry.Info,
        **kwargs: Any,
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except domain.AllotError as err:
            if self._members is None:
                self._members = _union_members(self._field)
            member = member_for(err, self._members)
            if member is None:
                raise
            return member
