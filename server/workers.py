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


async def _tables_hold_expirer(state: AppState) -> Worker:
    from services.tables.workers import HoldExpirer

    return await HoldExpirer.start(state.dsn, state.hub, state.areas.tables)


async def _poems_turn_clock(state: AppState) -> Worker:
    from services.poems.workers import TurnClock

    return await TurnClock.start(state.dsn, state.areas.poems)


async def _tasks_reservation_expirer(state: AppState) -> Worker:
    from services.tasks.workers import ReservationExpirer

    return await ReservationExpirer.start(state.dsn)


async def _loyalty_daily_sync(state: AppState) -> Worker:
    from services.loyalty.workers import DailySync

    return await DailySync.start(state.dsn, state.areas.loyalty)


WORKERS: list[WorkerFactory] = [
    _tables_hold_expirer,
    _poems_turn_clock,
    _tasks_reservation_expirer,
    _loyalty_daily_sync,
]
