"""In-process wake-up for the hold expirer: a new hold may expire sooner than it planned.

Holds placed by other processes reach the expirer through the hub (topic HOLD_TOPIC); this is
the shortcut for holds placed in this process.
"""

from __future__ import annotations

import asyncio
from typing import Final

HOLD_TOPIC: Final = "tables:holds"

_waiters: set[asyncio.Event] = set()


def register(event: asyncio.Event) -> None:
    """Set `event` whenever a hold is placed in this process."""
    _waiters.add(event)


def unregister(event: asyncio.Event) -> None:
    """Stop setting `event`."""
    _waiters.discard(event)


def hold_placed() -> None:
    """Tell this process's expirers that a hold was placed or extended."""
    for event in tuple(_waiters):
        event.set()
