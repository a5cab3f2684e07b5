"""Core resolvers."""

from __future__ import annotations

from schema.context import Context
from services.core.principal import Principal


def viewer(context: Context) -> Principal:
    """The authenticated caller."""
    return context.who()
