"""Demo data for `allot run`: a party of 12 guests and a pool of missions of all three types,
not yet assigned, and two guest tokens to see the secret missions from a guest's side."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.party import setup
from services.party.inputs import NewMission, NewParticipant
from services.party.model import MissionType
from services.party.reads import Q

GUESTS = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jamal", "Kai", "Lena",
)  # fmt: skip
BOOKS = (
    "The Hobbit", "Dune", "Beloved", "Emma", "Ulysses", "Rebecca", "Matilda", "Persuasion",
)  # fmt: skip
PASSPHRASES = (
    "the owl flies at midnight", "bring me a pineapple", "the tide is turning",
    "blue suede shoes", "a penny for the guy", "seven swans a-swimming",
)  # fmt: skip
OBJECTS = (
    "a teaspoon", "a bottle cap", "a red napkin", "a candle", "a coaster", "a party hat",
    "a cork", "a paper crown", "a playing card", "a balloon", "a straw", "a lemon slice",
    "a cocktail umbrella", "a button",
)  # fmt: skip


def _guest(i: int) -> str:
    return f"demo-guest-{i}"


def pool() -> list[NewMission]:
    """The demo's missions: 8 BOOK, 6 PASSPHRASE and 14 OBJECT (52 slots for 36 needed)."""
    return [
        *(
            NewMission(
                MissionType.BOOK,
                f"Book club: {title}",
                f"RED and BLUE: get each other to mention {title} without saying its title.",
            )
            for title in BOOKS
        ),
        *(
            NewMission(
                MissionType.PASSPHRASE,
                f"Passphrase: {phrase}",
                f"The SENDERs must each get the RECEIVER to hear '{phrase}' in conversation.",
            )
            for phrase in PASSPHRASES
        ),
        *(
            NewMission(
                MissionType.OBJECT,
                f"Pocket {thing}",
                f"AGENT: leave with {thing} from the party without anyone noticing.",
            )
            for thing in OBJECTS
        ),
    ]


async def seed(
    pool_: asyncpg.Pool, tenant: UUID, token: Callable[[str, list[Role]], str]
) -> list[str]:
    """Create the demo party if the tenant has none yet; print its id and two guest tokens."""
    admin = Principal(user_id="demo-admin", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    async with tenant_transaction(pool_, tenant) as conn:
        empty = not await conn.fetchval(Q["any_party"])
    if empty:
        party = await setup.create_party(pool_, admin, "Demo party")
        guests = [NewParticipant(_guest(i + 1), name) for i, name in enumerate(GUESTS)]
        await setup.add_participants(pool_, admin, str(party.id), guests)
        await setup.add_missions(pool_, admin, str(party.id), pool())
    async with tenant_transaction(pool_, tenant) as conn:
        party_id = await conn.fetchval(Q["demo_party"])
    return [
        "",
        f"Party: a demo party of {len(GUESTS)} guests, missions not yet assigned: {party_id}",
        f"  The admin assigns them with assignPartyMissions; guest 1 ({GUESTS[0]}) and guest 2 "
        f"({GUESTS[1]}) read theirs with myPartyMissions:",
        f'  guest 1: {{"Authorization": "Bearer {token(_guest(1), [Role.PLAYER])}"}}',
        f'  guest 2: {{"Authorization": "Bearer {token(_guest(2), [Role.PLAYER])}"}}',
    ]
