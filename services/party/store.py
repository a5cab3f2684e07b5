"""The party flows' SQL side: lock a party, read what a plan needs, write batches and plans
set-based (one statement each, whatever the number of rows)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.party.inputs import NewMission, NewParticipant
from services.party.model import MissionType
from services.party.plan import PartyPlan, PlanRequest, PoolMission
from services.party.reads import Q


async def lock_party(conn: asyncpg.Connection, party_id: UUID) -> asyncpg.Record | None:
    """The party row (id and counts), locked until the transaction ends; None if it is not
    the tenant's."""
    row: asyncpg.Record | None = await conn.fetchrow(Q["lock_party"], party_id)
    return row


async def taken_user_ids(
    conn: asyncpg.Connection, party_id: UUID, batch: Sequence[NewParticipant]
) -> set[str]:
    """The user ids of `batch` that are already guests of the party."""
    rows = await conn.fetch(Q["user_ids_taken"], party_id, [p.user_id for p in batch])
    return {r["user_id"] for r in rows}


async def add_participants(
    conn: asyncpg.Connection, party: asyncpg.Record, batch: Sequence[NewParticipant]
) -> None:
    """Insert the guests after the party's others, and count them (the party notifies)."""
    await conn.execute(
        *Q.bind(
            "insert_participants",
            party_id=party["id"],
            first_position=party["participant_count"],
            user_ids=[p.user_id for p in batch],
            display_names=[p.display_name for p in batch],
        )
    )
    await conn.execute(Q["count_changed"], party["id"], len(batch), 0)


async def add_missions(
    conn: asyncpg.Connection, party: asyncpg.Record, batch: Sequence[NewMission]
) -> None:
    """Insert the missions after the pool's others, and count them (the party notifies)."""
    await conn.execute(
        *Q.bind(
            "insert_missions",
            party_id=party["id"],
            first_position=party["mission_count"],
            types=[m.type.value for m in batch],
            titles=[m.title for m in batch],
            details=[m.detail for m in batch],
        )
    )
    await conn.execute(Q["count_changed"], party["id"], 0, len(batch))


async def plan_request(
    conn: asyncpg.Connection, party_id: UUID, per_participant: int, min_types: int
) -> PlanRequest:
    """What the planner needs of a locked party: its guests, its pool, its current plan."""
    participants = await conn.fetch(Q["plan_participants"], party_id)
    missions = await conn.fetch(Q["plan_missions"], party_id)
    previous = await conn.fetch(Q["plan_previous"], party_id)
    return PlanRequest(
        participants=tuple(r["id"] for r in participants),
        missions=tuple(PoolMission(r["id"], MissionType(r["type"]), r["uses"]) for r in missions),
        missions_per_participant=per_participant,
        min_distinct_types=min_types,
        previous=frozenset((r["participant_id"], r["mission_id"]) for r in previous),
    )


async def write_plan(
    conn: asyncpg.Connection, party_id: UUID, request: PlanRequest, plan: PartyPlan
) -> int:
    """Replace the party's plan with `plan` in one statement; the number of slots written."""
    types = {m.id: m.type.value for m in request.missions}
    slots = plan.slots
    written: int = await conn.fetchval(
        *Q.bind(
            "write_plan",
            party_id=party_id,
            mission_ids=[s.mission_id for s in slots],
            mission_types=[types[s.mission_id] for s in slots],
            slots=[s.slot for s in slots],
            roles=[s.role.value for s in slots],
            participant_ids=[s.participant_id for s in slots],
            missions_per_participant=request.missions_per_participant,
            min_distinct_types=request.min_distinct_types,
            planned_participants=len(request.participants),
        )
    )
    return written
