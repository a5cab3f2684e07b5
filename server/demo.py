"""Demo data for `allot run` on an empty database (areas add their seeders here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg

from db.pool import create_pool
from services.core.principal import Role
from services.loyalty.demo import seed as loyalty_seeder
from services.party.demo import seed as party_seeder
from services.poems.demo import seed as poems_seeder
from services.tables.demo import seeder as tables_seeder
from services.tasks.demo import seed as tasks_seeder

# token(user_id, roles) -> a signed development token for the demo tenant
TokenMaker = Callable[[str, list[Role]], str]
# Each seeder fills its area for the tenant if the area is empty, and returns lines to print
# (for example the tokens to paste into GraphiQL).
Seeder = Callable[[asyncpg.Pool, UUID, TokenMaker], Awaitable[list[str]]]
SEEDERS: list[Seeder] = [tables_seeder, poems_seeder, party_seeder, tasks_seeder, loyalty_seeder]


async def seed_demo(dsn: str, tenant: UUID, token: TokenMaker) -> list[str]:
    """Run every area's seeder; return what they want printed."""
    if not SEEDERS:
        return []
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        lines: list[str] = []
        for seeder in SEEDERS:
            lines.extend(await seeder(pool, tenant, token))
        return lines
    finally:
        await pool.close()
