"""The connection pool and the one way services open a transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, cast
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

APP_ROLE = "allot_app"
SYSTEM_ROLE = "allot_system"

Isolation = Literal["read_committed", "repeatable_read", "serializable"]
# What pool.acquire() hands out; it behaves as a Connection.
AnyConnection = asyncpg.Connection | PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Nothing to reset on release: Allot sets only transaction-local state.

    (asyncpg still rolls back an unfinished transaction first.) Skipping its
    RESET ALL saves one round trip per request.
    """


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 20, role: str = APP_ROLE
) -> asyncpg.Pool:
    """A pool whose sessions run as `role`, which owns no table (so RLS always applies).

    SYSTEM_ROLE is for cross-tenant housekeeping and sees only what migrations
    grant it through allot_system_access().
    """
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"role": role, "application_name": f"allot:{role}"},
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def tenant_transaction(
    pool: asyncpg.Pool, tenant_id: UUID, *, isolation: Isolation = "read_committed"
) -> AsyncIterator[asyncpg.Connection]:
    """One transaction scoped to a tenant: row-level security sees only that tenant's rows."""
    async with pool.acquire() as conn, conn.transaction(isolation=isolation):
        await conn.execute("select set_config('allot.tenant_id', $1, true)", str(tenant_id))
        yield cast(asyncpg.Connection, conn)
