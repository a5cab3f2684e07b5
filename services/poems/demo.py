"""Demo data for `allot run`: two player tokens and an open lobby to try a game in GraphiQL."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.poems.flows import create_game
from services.poems.reads import Q

HOST = "demo-player-1"
GUEST = "demo-player-2"


async def seed(
    pool: asyncpg.Pool, tenant: UUID, token: Callable[[str, list[Role]], str]
) -> list[str]:
    """Open a lobby hosted by demo-player-1 if the tenant has no game yet; print both tokens."""
    host = Principal(user_id=HOST, tenant_id=tenant, roles=frozenset({Role.PLAYER}))
    async with tenant_transaction(pool, tenant) as conn:
        empty = not await conn.fetchval(Q["any_game"])
    if empty:
        await create_game(pool, host, "Demo Player 1")
    async with tenant_transaction(pool, tenant) as conn:
        code = await conn.fetchval(Q["open_game_of_host"], HOST)
    lines = [
        "",
        "Poems: play a round with two players (one GraphiQL tab each, or swap headers):",
        f'  player 1: {{"Authorization": "Bearer {token(HOST, [Role.PLAYER])}"}}',
        f'  player 2: {{"Authorization": "Bearer {token(GUEST, [Role.PLAYER])}"}}',
    ]
    if code:
        lines.append(
            f"  Player 1 hosts a lobby with join code {code}: player 2 joins it with joinGame, "
            "player 1 starts it with startGame."
        )
    else:
        lines.append("  Player 1 opens a lobby with createGame; player 2 joins it by its code.")
    return lines
