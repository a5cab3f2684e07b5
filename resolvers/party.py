"""Party resolvers: the caller and the input, one service call, its result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from schema.context import Context
from services.party import flows, live, reads, setup
from services.party.inputs import NewMission, NewParticipant
from services.party.model import Assigned, MyMission, PartyChange, PartyView
from services.realtime.stream import Delta, Snapshot


async def party(context: Context, party_id: str) -> PartyView:
    """The party as the caller may see it."""
    return await reads.get_party(context.pool, context.who(), party_id)


async def my_party_missions(context: Context, party_id: str) -> list[MyMission]:
    """The caller's own missions."""
    return await reads.my_missions(context.pool, context.who(), party_id)


async def create_party(context: Context, name: str) -> PartyView:
    return await setup.create_party(context.pool, context.who(), name)


async def add_party_participants(
    context: Context, party_id: str, batch: Sequence[NewParticipant]
) -> PartyView:
    return await setup.add_participants(context.pool, context.who(), party_id, batch)


async def add_party_missions(
    context: Context, party_id: str, batch: Sequence[NewMission]
) -> PartyView:
    return await setup.add_missions(context.pool, context.who(), party_id, batch)


async def assign_party_missions(
    context: Context, party_id: str, *, per_participant: int, min_types: int, seed: int | None
) -> Assigned:
    return await flows.assign_missions(
        context.pool,
        context.who(),
        party_id,
        per_participant=per_participant,
        min_types=min_types,
        seed=seed,
    )


def party_events(
    context: Context, party_id: str
) -> AsyncIterator[Snapshot[PartyView] | Delta[PartyChange]]:
    """The party's events: a snapshot, then its changes."""
    return live.party_events(context.pool, context.hub, context.who(), party_id)
