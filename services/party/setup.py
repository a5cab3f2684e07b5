"""Party setup, for the tenant's admins, one transaction each: create a party, add its guests,
add missions to its pool. A batch is checked whole before anything is written, and written
in one statement; the party's row is locked first, so concurrent batches and assigns queue
and positions never collide. Adding guests or missions leaves the current plan as it is until
the next assign."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from db.errors import translated
from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import InvalidInput, Problems
from services.party import inputs, store
from services.party.errors import CONSTRAINTS
from services.party.inputs import NewMission, NewParticipant
from services.party.model import PartyView
from services.party.reads import Q, read_party


async def create_party(pool: asyncpg.Pool, who: Principal, name: str) -> PartyView:
    """A new, empty party."""
    who.require(Role.ADMIN)
    clean = inputs.party_name(name)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        party_id: UUID = await conn.fetchval(Q["insert_party"], clean)
    return await read_party(pool, who.tenant_id, party_id)


async def _locked(conn: asyncpg.Connection, raw_id: str) -> asyncpg.Record:
    """The party to set up, locked; InvalidInput naming `partyId` if the tenant has none."""
    party_id = parse_id(raw_id)
    party = await store.lock_party(conn, party_id) if party_id is not None else None
    if party is None:
        raise InvalidInput.one("partyId", "no such party")
    return party


async def add_participants(
    pool: asyncpg.Pool, who: Principal, raw_id: str, batch: Sequence[NewParticipant]
) -> PartyView:
    """Add guests to a party (each user once per party), all or none."""
    who.require(Role.ADMIN)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        party = await _locked(conn, raw_id)
        clean = inputs.participants(batch, party["participant_count"])
        problems = Problems()
        inputs.taken(problems, clean, await store.taken_user_ids(conn, party["id"], clean))
        problems.raise_if_any()
        async with translated(CONSTRAINTS):
            await store.add_participants(conn, party, clean)
    return await read_party(pool, who.tenant_id, party["id"])


async def add_missions(
    pool: asyncpg.Pool, who: Principal, raw_id: str, batch: Sequence[NewMission]
) -> PartyView:
    """Add missions to a party's pool, all or none."""
    who.require(Role.ADMIN)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        party = await _locked(conn, raw_id)
        clean = inputs.missions(batch, party["mission_count"])
        async with translated(CONSTRAINTS):
            await store.add_missions(conn, party, clean)
    return await read_party(pool, who.tenant_id, party["id"])
