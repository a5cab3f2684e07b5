"""The connection pool and the one way services open a transaction."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
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


def with_server_setting(dsn: str, name: str, value: str) -> str:
    """`dsn` whose sessions start with the setting `name` = `value` (asyncpg passes query
    parameters it does not know on as server settings)."""
    parts = urlsplit(dsn)
    query = urlencode([*parse_qsl(parts.query), (name, value)])
    return urlunsplit(parts._replace(query=query))


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    role: str = APP_ROLE,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    """A pool whose sessions run as `role`, which owns no table (so RLS always applies).

    SYSTEM_ROLE is for cross-tenant housekeeping and sees only what migrations
    grant it through allot_system_access().
    """

    async def setup(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if init is not None:
            await init(conn)

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=setup,
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
        try:
            # Inside the try: a task cancelled while BEGIN is on its way (graphql-core cancels
            # a failed root field's siblings) may leave the transaction open on the server.
            await conn.execute(
                f"{_refresh_plans(conn.get_server_pid())}{_BEGIN[isolation]};"
                f" select set_config('allot.tenant_id', '{tenant}', true)"
            )
            yield cast(asyncpg.Connection, conn)
        except BaseException:
            await _roll_back(conn)
            raise
        try:
            await conn.execute("commit")
        except BaseException:
            await _roll_back(conn)  # cancelled during COMMIT: whether it happened is unknown
            raise


async def _roll_back(conn: AnyConnection) -> None:
    """End whatever transaction `conn` has open, or close it: it never goes back to the pool
    with one open. (asyncpg waits for a cancelled statement's cancellation first.)"""
    if conn.is_closed():
        return
    try:
        await conn.execute("rollback")
    except Exception:
        conn.terminate()  # state unknown
    except BaseException:
        conn.terminate()  # cancelled again while rolling back
        raise


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


class TenantReader:
    """Reads of one statement as a tenant, in one round trip each.

    A transaction costs three round trips (begin with the tenant, the read, commit). A single
    statement needs none: it runs in its own implicit transaction. The reader's connections
    (a pool of their own, used for nothing else) keep the tenant of their last read in their
    session, and set it again only when the next read is another tenant's. So reading the
    row of a change, as the realtime hub does for every change, is one round trip.
    """

    def __init__(self, pool: asyncpg.Pool, tenants: dict[int, str]) -> None:
        self._pool = pool
        self._tenants = tenants  # server pid -> the tenant its session is set to

    @classmethod
    async def open(cls, dsn: str, *, max_size: int = 4) -> TenantReader:
        """A reader on its own pool of at most `max_size` connections."""
        tenants: dict[int, str] = {}

        async def fresh(conn: asyncpg.Connection) -> None:
            tenants.pop(conn.get_server_pid(), None)  # a new session has no tenant yet

        return cls(await create_pool(dsn, min_size=1, max_size=max_size, init=fresh), tenants)

    @asynccontextmanager
    async def read_as(self, tenant_id: UUID) -> AsyncIterator[asyncpg.Connection]:
        """A connection whose statements see `tenant_id`'s rows only. Run single statements
        on it (each is its own transaction); never a transaction or a write."""
        tenant = str(UUID(str(tenant_id)))  # canonical: the only value put into the text
        async with self._pool.acquire() as conn:
            pid = conn.get_server_pid()
            refresh = _refresh_plans(pid)
            if refresh or self._tenants.get(pid) != tenant:
                self._tenants.pop(pid, None)  # unknown until the setting has gone through
                await conn.execute(
                    f"{refresh}select set_config('allot.tenant_id', '{tenant}', false)"
                )
                self._tenants[pid] = tenant
            yield cast(asyncpg.Connection, conn)

    async def close(self) -> None:
        """Close the reader's connections."""
        await self._pool.close()
