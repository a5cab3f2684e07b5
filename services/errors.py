"""Expected failures, shared by every area (each area adds its own in `errors.py`).

A mutation's expected failure becomes the member of its result union with the same name
(schema.errors); anywhere else it becomes a GraphQL error with its message and
`extensions.code`. Anything that is not an AllotError is unexpected and masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class AllotError(Exception):
    """An expected failure with a stable `code` and a message a user can act on."""

    code = "ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, str]:
        """The code, where an error of a query or subscription reports it (graphql-core copies
        the `extensions` of the exception it wraps into the GraphQL error)."""
        return {"code": self.code}


class NotAuthenticated(AllotError):
    """No valid bearer token came with the request; `message` says what was wrong with it."""

    code = "UNAUTHENTICATED"


class NotFound(AllotError):
    """The thing does not exist, or belongs to another tenant (never said which)."""

    code = "NOT_FOUND"


class Forbidden(AllotError):
    """The caller is authenticated but lacks the rights for this."""

    code = "FORBIDDEN"


@dataclass(frozen=True)
class FieldProblem:
    """One input field and what is wrong with it."""

    field: str
    message: str


class InvalidInput(AllotError):
    """Input failed validation; `fields` names every bad field. Nothing was written."""

    code = "INVALID_INPUT"

    def __init__(self, fields: list[FieldProblem], message: str | None = None) -> None:
        super().__init__(message or "; ".join(f"{p.field}: {p.message}" for p in fields))
        self.fields = fields

    @classmethod
    def one(cls, field_name: str, message: str) -> InvalidInput:
        """Shorthand for a single bad field."""
        return cls([FieldProblem(field_name, message)])


class StaleVersion(AllotError):
    """The caller's expected version is not the row's current one."""

    code = "STALE_VERSION"

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


@dataclass
class Problems:
    """Collects field problems during validation, then raises them all at once."""

    items: list[FieldProblem] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        """Record one problem."""
        self.items.append(FieldProblem(field_name, message))

    def raise_if_any(self) -> None:
        """Raise InvalidInput naming every recorded field, if there is any."""
        if self.items:
            raise InvalidInput(self.items)
