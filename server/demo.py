"""Demo data for `allot run` on an empty database (areas add their seeders here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg

from db.pool import create_pool, tenant_transaction
from services.core.principal import Role
from services.loyalty.demo import seed as loyalty_seeder
from services.party.demo import seed as party_seeder
from services.poems.demo import HOST as DEMO_HOST
from services.poems.demo import seed as poems_seeder
from services.poems.reads import Q as POEMS_Q
from services.tables.demo import seeder as tables_seeder
from services.tables.reads import Q as TABLES_Q
from services.tasks.demo import seed as tasks_seeder
from services.tasks.reads import Q as TASKS_Q

# token(user_id, roles) -> a signed development token for the demo tenant
TokenMaker = Callable[[str, list[Role]], str]
# Each seeder fills its area for the tenant if the area is empty, and returns lines to print
# (for example the tokens to paste into GraphiQL).
Seeder = Callable[[asyncpg.Pool, UUID, TokenMaker], Awaitable[list[str]]]


async def live_links(pool: asyncpg.Pool, tenant: UUID, token: TokenMaker, base: str) -> list[str]:
    """Ready links to the live pages (server.live) for the demo's data, under `base` (the
    server's address). Each link carries a token in its fragment, which the browser never
    sends."""
    async with tenant_transaction(pool, tenant) as conn:
        restaurant = await conn.fetchval(TABLES_Q["demo_restaurant"])
        game = await conn.fetchval(POEMS_Q["open_game_id_of_host"], DEMO_HOST)
        project = await conn.fetchval(TASKS_Q["demo_project"])
    everything = token(DEMO_HOST, [Role.ADMIN, Role.STAFF, Role.PLAYER])
    lines = [
        "",
        "Live pages (open in a browser; the token after # stays in the browser):",
        f"  index: {base}/#token={everything}",
    ]
    if restaurant:
        lines.append(
            f"  floor: {base}/floor/{restaurant}#token={token('demo-staff', [Role.STAFF])}"
        )
    if game:
        lines.append(
            f"  game (player 1's lobby, for the big screen): {base}/game/{game}"
            f"#token={token(DEMO_HOST, [Role.PLAYER])}"
        )
    if project:
        lines.append(f"  tasks: {base}/tasks/{project}#token={token('demo-admin', [Role.ADMIN])}")
    return lines


SEEDERS: list[Seeder] = [tables_seeder, poems_seeder, party_seeder, tasks_seeder, loyalty_seeder]


async def seed_demo(dsn: str, tenant: UUID, token: TokenMaker, base_url: str) -> list[str]:
    """Run every area's seeder; return what they want printed, then the live pages' links."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        lines: list[str] = []
        for seeder in SEEDERS:
            lines.extend(await seeder(pool, tenant, token))
        return lines + await live_links(pool, tenant, token, f"{base_url}/live")
    finally:
        await pool.close()
