"""Background workers each process runs (areas add theirs here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from server.state import AppState


class Worker(Protocol):
    """A running background task that can be stopped."""

    async def stop(self) -> None:
        """Stop and wait until stopped."""


WorkerFactory = Callable[[AppState], Awaitable[Worker]]

WORKERS: list[WorkerFactory] = []
