"""The connection pool and the one way services open a transaction."""

from __future__ import annotations

import json
import time
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
        server_settings={
            "role": role,
            "application_name": f"allot:{role}",
            # Every statement is prepared once per connection and run with varying arguments;
            # a custom plan per execution costs more than it saves (up to 1 ms for the flows'
            # statements, against well under 0.1 ms for their generic plans). The plans are
            # refreshed as the data grows (see tenant_transaction).
            "plan_cache_mode": "force_generic_plan",
        },
    )
    assert pool is not None
    return pool


# A connection's cached plans are dropped (and so made again, for the data as it is now)
# when they are this old: a plan made while a table was nearly empty must not outlive that.
PLAN_REFRESH_SECONDS = 10.0
_plans_made: dict[int, float] = {}  # server pid -> when its plans were last dropped

_BEGIN: dict[Isolation, str] = {
    "read_committed": "begin isolation level read committed",
    "repeatable_read": "begin isolation level repeatable read",
    "serializable": "begin isolation level serializable",
}


@asynccontextmanager
async def tenant_transaction(
    pool: asyncpg.Pool, tenant_id: UUID, *, isolation: Isolation = "read_committed"
) -> AsyncIterator[asyncpg.Connection]:
    """One transaction scoped to a tenant: row-level security sees only that tenant's rows.

    BEGIN and the tenant setting travel in one round trip (a simple-protocol script). The
    tenant is the only value put into that text, and only as a canonical UUID: hex digits
    and dashes, nothing a client chose. Commits on success; rolls back on any exception.
    """
    tenant = str(UUID(str(tenant_id)))
    async with pool.acquire() as conn:
        await conn.execute(
            f"{_refresh_plans(conn.get_server_pid())}{_BEGIN[isolation]};"
            f" select set_config('allot.tenant_id', '{tenant}', true)"
        )
        try:
            yield cast(asyncpg.Connection, conn)
        except BaseException:
            if not conn.is_closed():
                try:
                    await conn.execute("rollback")
                except Exception:
                    conn.terminate()  # state unknown: never hand it back with a transaction open
            raise
        await conn.execute("commit")


def _refresh_plans(pid: int) -> str:
    """'discard plans; ' once every PLAN_REFRESH_SECONDS per connection, else ''."""
    now = time.monotonic()
    made = _plans_made.get(pid)
    if made is None or now - made >= PLAN_REFRESH_SECONDS:
        if len(_plans_made) > 4096:
            _plans_made.clear()
        _plans_made[pid] = now
        return "" if made is None else "discard plans; "
    return ""
