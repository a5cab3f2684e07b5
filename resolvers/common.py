"""What every resolver shares: turning expected failures into union members."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from schema.errors import to_graphql
from services.errors import AllotError

T = TypeVar("T")


async def payload(call: Awaitable[T]) -> T | Any:
    """Await a service call; an expected failure becomes its typed GraphQL error."""
    try:
        return await call
    except AllotError as err:
        return to_graphql(err)
