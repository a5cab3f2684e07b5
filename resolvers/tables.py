"""Tables resolvers: the caller and the input in, one service call, its result out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from schema.context import Context
from services.realtime.stream import Delta, Snapshot
from services.tables import flows, live, model, reads, setup
from services.tables.config import TablesConfig


def _config(context: Context) -> TablesConfig:
    return context.areas.tables


# ------------------------------------------------------------------ queries


async def restaurant(context: Context, restaurant_id: str) -> model.RestaurantView | None:
    return await reads.restaurant(context.pool, context.who(), restaurant_id)


async def restaurants(context: Context) -> list[model.RestaurantView]:
    return await reads.restaurants(context.pool, context.who())


async def booking(context: Context, booking_id: str) -> model.BookingView | None:
    return await reads.booking(context.pool, context.who(), booking_id)


async def floor(
    context: Context, restaurant_id: str, starts_at: datetime, ends_at: datetime
) -> model.FloorView:
    return await reads.floor(context.pool, context.who(), restaurant_id, starts_at, ends_at)


async def assignment_session(context: Context, session_id: str) -> model.SessionView | None:
    return await reads.assignment_session(context.pool, context.who(), session_id)


async def suggest_tables(context: Context, booking_id: str) -> list[model.SuggestionView]:
    return await reads.suggest_tables(context.pool, context.who(), booking_id, _config(context))


# ------------------------------------------------------------------ mutations


async def create_restaurant(context: Context, name: str, timezone: str) -> model.RestaurantView:
    return await setup.create_restaurant(context.pool, context.who(), name, timezone)


async def create_dining_table(
    context: Context, restaurant_id: str, label: str, zone: str, low: int, high: int
) -> model.TableView:
    return await setup.create_dining_table(
        context.pool, context.who(), restaurant_id, label, zone, low, high
    )


async def update_dining_table(
    context: Context, table_id: str, edit: model.TableEdit, expected_version: int | None
) -> model.TableView:
    return await setup.update_dining_table(
        context.pool, context.who(), table_id, edit, expected_version, _config(context)
    )


async def create_booking(
    context: Context,
    restaurant_id: str,
    guest_name: str,
    party_size: int,
    starts_at: datetime,
    ends_at: datetime,
) -> model.BookingView:
    return await setup.create_booking(
        context.pool, context.who(), restaurant_id, guest_name, party_size, starts_at, ends_at
    )


async def propose_tables(
    context: Context, booking_id: str, table_ids: Sequence[str]
) -> model.SessionView:
    return await flows.propose_tables(
        context.pool, context.who(), booking_id, table_ids, _config(context)
    )


async def confirm_assignment(
    context: Context, session_id: str, expected_version: int | None
) -> model.SessionView:
    return await flows.confirm_assignment(
        context.pool, context.who(), session_id, expected_version, _config(context)
    )


async def cancel_assignment_session(context: Context, session_id: str) -> model.SessionView:
    return await flows.cancel_assignment_session(
        context.pool, context.who(), session_id, _config(context)
    )


async def auto_assign(context: Context, booking_id: str) -> model.AutoAssigned:
    return await flows.auto_assign(context.pool, context.who(), booking_id, _config(context))


async def optimize_floor(
    context: Context, restaurant_id: str, starts_at: datetime, ends_at: datetime, apply: bool
) -> model.FloorPlanView:
    return await flows.optimize_floor(
        context.pool, context.who(), restaurant_id, starts_at, ends_at, apply, _config(context)
    )


async def set_booking_pinned(context: Context, booking_id: str, pinned: bool) -> model.BookingView:
    return await flows.set_booking_pinned(context.pool, context.who(), booking_id, pinned)


async def set_booking_status(
    context: Context, booking_id: str, status: str, expected_version: int | None
) -> model.BookingView:
    return await flows.set_booking_status(
        context.pool, context.who(), booking_id, status, expected_version, _config(context)
    )


# ------------------------------------------------------------------ subscriptions


def floor_events(
    context: Context, restaurant_id: str, starts_at: datetime, ends_at: datetime
) -> AsyncIterator[Snapshot[model.FloorView] | Delta[model.FloorChange]]:
    return live.floor_events(
        context.pool, context.hub, context.who(), restaurant_id, starts_at, ends_at
    )


def session_events(
    context: Context, session_id: str
) -> AsyncIterator[Snapshot[model.SessionView] | Delta[model.SessionView]]:
    return live.session_events(context.pool, context.hub, context.who(), session_id)
