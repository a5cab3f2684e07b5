"""The party area's queries: a party as each reader may see it, and a guest's own missions.

A party is read in one statement (`party_view`, over party_party_views) into the whole view,
every slot's participant included; admins get it so, a guest gets `redacted_for` them (their
own slots only). The realtime path decodes or reads the same rows once per change (live.py).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.party.errors import no_such_party
from services.party.model import (
    ROLES,
    MissionType,
    MissionView,
    MyMission,
    ParticipantView,
    PartyView,
    SlotView,
)

Q = load("party")


def party_of_row(row: Row) -> PartyView:
    """A party_party_views row as the whole party (every slot's participant shown)."""
    participants = tuple(
        ParticipantView(UUID(pid), user_id, name)
        for pid, user_id, name in row["participants"] or ()
    )
    by_id = {str(p.id): p for p in participants}
    missions = []
    for mid, type_, title, detail, holders in row["missions"] or ():
        kind = MissionType(type_)
        filled = holders or [None] * len(ROLES[kind])
        slots = tuple(
            SlotView(role, by_id[h] if h is not None else None)
            for role, h in zip(ROLES[kind], filled, strict=True)
        )
        missions.append(MissionView(UUID(mid), kind, title, detail, slots))
    return PartyView(
        id=row["id"],
        name=row["name"],
        participants=participants,
        missions=tuple(missions),
        assigned_at=row["assigned_at"],
        version=row["version"],
    )


async def party(conn: asyncpg.Connection, party_id: UUID) -> PartyView | None:
    """The whole party (one statement), for whoever already proved they may see it."""
    row = await conn.fetchrow(Q["party_view"], party_id, None)
    return party_of_row(row) if row is not None else None


async def read_party(pool: asyncpg.Pool, tenant: UUID, party_id: UUID) -> PartyView:
    """The whole party after a committed change (a flow's answer)."""
    async with tenant_transaction(pool, tenant) as conn:
        found = await party(conn, party_id)
    if found is None:  # pragma: no cover - parties are never deleted
        raise no_such_party()
    return found


def audience(who: Principal, guest_id: UUID | None) -> UUID | None:
    """Whose slots the caller sees filled in: None (all of them) for the tenant's admins, their
    own for a guest with the player role (`guest_id`, their participant id in the party);
    NotFound for anyone else."""
    if who.has(Role.ADMIN):
        return None
    if who.has(Role.PLAYER) and guest_id is not None:
        return guest_id
    raise no_such_party()


def seen_by(who: Principal, whole: PartyView) -> PartyView:
    """The party as the caller may see it (`audience`)."""
    guest = whole.participant_of(who.user_id)
    seen = audience(who, guest.id if guest is not None else None)
    return whole if seen is None else whole.redacted_for(seen)


async def get_party(pool: asyncpg.Pool, who: Principal, raw_id: str) -> PartyView:
    """The party as the caller may see it; NotFound for anyone else (never says whether it
    exists)."""
    party_id = parse_id(raw_id)
    found = None
    if party_id is not None and who.has(Role.ADMIN, Role.PLAYER):
        async with tenant_transaction(pool, who.tenant_id) as conn:
            found = await party(conn, party_id)
    if found is None:
        raise no_such_party()
    return seen_by(who, found)


async def audience_of(pool: asyncpg.Pool, who: Principal, party_id: UUID) -> UUID | None:
    """The caller's `audience` in a party, from its guest list alone (one small statement, not
    the whole party); NotFound if they may not see it."""
    if not who.has(Role.ADMIN, Role.PLAYER):
        raise no_such_party()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(Q["party_guest"], party_id, who.user_id)
    if row is None:
        raise no_such_party()
    return audience(who, row["guest_id"])


async def my_missions(pool: asyncpg.Pool, who: Principal, raw_id: str) -> list[MyMission]:
    """The caller's own missions in a party they are a guest of, with their role in each."""
    if not who.has(Role.PLAYER):
        raise no_such_party()
    seen = await get_party(pool, who, raw_id)
    guest = seen.participant_of(who.user_id)
    if guest is None:
        raise no_such_party()  # an admin who is not a guest has no missions of their own
    return seen.redacted_for(guest.id).missions_of(guest.id)
