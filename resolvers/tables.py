"""Tables resolvers: the caller and the input in, one service call, its result out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from resolvers.common import payload
from schema.context import Context, PublicError
from services.errors import AllotError
from services.realtime.stream import Delta, Snapshot
from services.tables import assign, live, reads, setup, views
from services.tables.config import TablesConfig

T = TypeVar("T")


async def _query(call: Awaitable[T]) -> T:
    """An expected failure of a query (no union to put it in): its message and code."""
    try:
        return await call
    except AllotError as err:
        raise PublicError(err.message, err.code) from None


def _config(context: Context) -> TablesConfig:
    return TablesConfig.from_settings(context.settings)


# ------------------------------------------------------------------ queries


async def restaurant(context: Context, restaurant_id: str) -> views.RestaurantView | None:
    return await _query(reads.restaurant(context.pool, context.who(), restaurant_id))


async def restaurants(context: Context) -> list[views.RestaurantView]:
    return await _query(reads.restaurants(context.pool, context.who()))


async def booking(context: Context, booking_id: str) -> views.BookingView | None:
    return await _query(reads.booking(context.pool, context.who(), booking_id))


async def floor(
    context: Context, restaurant_id: str, starts_at: datetime, ends_at: datetime
) -> views.FloorView:
    return await _query(reads.floor(context.pool, context.who(), restaurant_id, starts_at, ends_at))


async def assignment_session(context: Context, session_id: str) -> views.SessionView | None:
    return await _query(reads.assignment_session(context.pool, context.who(), session_id))


async def suggest_tables(context: Context, booking_id: str) -> list[views.SuggestionView]:
    return await _query(
        reads.suggest_tables(context.pool, context.who(), booking_id, _config(context))
    )


# ------------------------------------------------------------------ mutations


async def create_restaurant(context: Context, name: str, timezone: str) -> Any:
    return await payload(setup.create_restaurant(context.pool, context.who(), name, timezone))


async def create_dining_table(
    context: Context, restaurant_id: str, label: str, zone: str, low: int, high: int
) -> Any:
    return await payload(
        setup.create_dining_table(
            context.pool, context.who(), restaurant_id, label, zone, low, high
        )
    )


async def update_dining_table(
    context: Context, table_id: str, edit: setup.TableEdit, expected_version: int | None
) -> Any:
    return await payload(
        setup.update_dining_table(
            context.pool, context.who(), table_id, edit, expected_version, _config(context)
        )
    )


async def create_booking(
    context: Context,
    restaurant_id: str,
    guest_name: str,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
) -> Any:
    return await payload(
        setup.create_booking(
            context.pool, context.who(), restaurant_id, guest_name, party_size, starts_at, ends_at
        )
    )


async def propose_tables(context: Context, booking_id: str, table_ids: Sequence[str]) -> Any:
    return await payload(
        assign.propose_tables(context.pool, context.who(), booking_id, table_ids, _config(context))
    )


async def confirm_assignment(
    context: Context, session_id: str, expected_version: int | None
) -> Any:
    return await payload(
        assign.confirm_assignment(
            context.pool, context.who(), session_id, expected_version, _config(context)
        )
    )


async def cancel_assignment_session(context: Context, session_id: str) -> Any:
    return await payload(
        assign.cancel_assignment_session(context.pool, context.who(), session_id, _config(context))
    )


async def auto_assign(context: Context, booking_id: str) -> Any:
    return await payload(
        assign.auto_assign(context.pool, context.who(), booking_id, _config(context))
    )


async def set_booking_status(
    context: Context, booking_id: str, status: str, expected_version: int | None
) -> Any:
    return await payload(
        assign.set_booking_status(
            context.pool, context.who(), booking_id, status, expected_version, _config(context)
        )
    )


# ------------------------------------------------------------------ subscriptions


async def floor_events(
    context: Context, restaurant_id: str, starts_at: datetime, ends_at: datetime
) -> AsyncIterator[Snapshot[views.FloorView] | Delta[live.FloorChange]]:
    stream = live.floor_events(
        context.pool, context.hub, context.who(), restaurant_id, starts_at, ends_at
    )
    try:
        async for event in stream:
            yield event
    except AllotError as err:
        raise PublicError(err.message, err.code) from None


async def session_events(
    context: Context, session_id: str
) -> AsyncIterator[Snapshot[views.SessionView] | Delta[views.SessionView]]:
    stream = live.session_events(context.pool, context.hub, context.who(), session_id)
    try:
        async for event in stream:
            yield event
    except AllotError as err:
        raise PublicError(err.message, err.code) from None
