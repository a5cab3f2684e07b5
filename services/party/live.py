"""partyEvents: a snapshot of the party, then one event per committed change, for its admins
and its guests.

The party's trigger announces each change on topic `party.party:<id>` at commit, with the
party as it committed (party_party_views) when it fits in the notification. Each delta's
party is decoded from it, or else read, once per change for every subscriber of this process
(live's `read`, hub.rows); each subscriber then gets it as they may see it (`visible`): whole
for an admin, their own slots only for a guest. The delta's audience (admin, or which guest)
is part of its key, so it is executed once per audience, not once per subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Final
from uuid import UUID

import asyncpg

from services.core.ids import parse_id
from services.core.principal import Principal
from services.party import reads
from services.party.errors import no_such_party
from services.party.model import PartyChange, PartyEventKind, PartyView
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live

# The area's topics, as its triggers send them (`party.party:<party id>`).
TOPICS: Final = ("party.party",)

_KINDS = frozenset(k.value for k in PartyEventKind) - {PartyEventKind.SNAPSHOT.value}


def topic(party_id: UUID) -> str:
    """The realtime topic of one party (as the trigger names it)."""
    return f"{TOPICS[0]}:{party_id}"


async def party_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, raw_id: str
) -> AsyncGenerator[Snapshot[PartyView] | Delta[PartyChange], None]:
    """Yield SNAPSHOT, then each change of the party; NotFound unless the caller may see it."""
    party_id = parse_id(raw_id)
    if party_id is None:
        raise no_such_party()
    guest = await reads.audience_of(pool, who, party_id)  # NotFound before subscribing

    async def snapshot() -> PartyView:
        return await reads.get_party(pool, who, str(party_id))

    async def read(change: Change) -> PartyView | None:
        # The whole party, the same for every subscriber; `visible` redacts it.
        if change.tenant is None:
            return None
        rows = await hub.rows(change, "party_party_views", "id", party_id)
        return reads.party_of_row(rows[0]) if rows else None

    def visible(change: Change, whole: PartyView) -> PartyChange | None:
        seen = whole if guest is None else whole.redacted_for(guest)
        return PartyChange(PartyEventKind(change.kind), seen)

    async for event in live(
        hub,
        who,
        topic(party_id),
        name="partyEvents",
        snapshot=snapshot,
        read=read,
        visible=visible,
        audience=guest,
        allowed=lambda change: change.kind in _KINDS,
    ):
        yield event
