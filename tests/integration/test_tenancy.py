"""Row-level security: the app role owns nothing and sees only its transaction's tenant."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from db.pool import TenantReader, tenant_transaction


async def test_every_tenant_table__has_forced_rls_and_is_not_owned_by_the_app_role(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            select c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   pg_get_userbyid(c.relowner) as owner
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind = 'r'
              and exists (select 1 from pg_attribute a where a.attrelid = c.oid
                          and a.attname = 'tenant_id' and not a.attisdropped)
            """
        )
        assert await conn.fetchval("select current_user") == "allot_app"
    assert rows, "there are tenant tables"
    for row in rows:
        assert row["relrowsecurity"] and row["relforcerowsecurity"], row["relname"]
        assert row["owner"] != "allot_app", row["relname"]


async def test_every_tenant_policy__reads_the_tenant_once_per_statement(
    pool: asyncpg.Pool,
) -> None:
    """`(select allot_tenant())` is an init plan, run once per statement: the bare call would
    read and parse the setting again for every row a query looks at."""
    async with pool.acquire() as conn:
        policies = await conn.fetch(
            "select tablename, qual, with_check from pg_policies"
            " where policyname = 'tenant_isolation'"
        )
    assert {p["tablename"] for p in policies} >= {"allocations", "bookings", "games"}
    for p in policies:
        for expression in (p["qual"], p["with_check"]):
            assert expression == "(tenant_id = ( SELECT allot_tenant() AS allot_tenant))", p


async def test_rows_of_another_tenant__are_invisible(pool: asyncpg.Pool) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    async with tenant_transaction(pool, a) as conn:
        await conn.execute("insert into probe_items (label) values ('a-secret')")
    async with tenant_transaction(pool, b) as conn:
        await conn.execute("insert into probe_items (label) values ('b-row')")
        labels = [r["label"] for r in await conn.fetch("select label from probe_items")]
        # even without a where clause, and even an explicit filter on a's id finds nothing
        assert labels == ["b-row"]
        assert await conn.fetchval("select count(*) from probe_items where tenant_id = $1", a) == 0
        assert (
            await conn.execute("update probe_items set label = 'x' where tenant_id = $1", a)
            == "UPDATE 0"
        )
        assert await conn.execute("delete from probe_items where tenant_id = $1", a) == "DELETE 0"


async def test_writing_a_row_for_another_tenant__is_rejected(pool: asyncpg.Pool) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_transaction(pool, a) as conn:
            await conn.execute("insert into probe_items (tenant_id, label) values ($1, 'x')", b)


async def test_without_a_tenant__nothing_is_visible(pool: asyncpg.Pool) -> None:
    async with tenant_transaction(pool, uuid.uuid4()) as conn:
        await conn.execute("insert into probe_items (label) values ('x')")
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from probe_items") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("insert into probe_items (label) values ('y')")


async def test_tenant_setting__does_not_outlive_its_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("select set_config('allot.tenant_id', $1, true)", str(uuid.uuid4()))
        assert await conn.fetchval("select allot_tenant()") is None


async def test_tenant_transaction__an_error_or_a_cancel_writes_nothing_and_the_pool_recovers(
    pool: asyncpg.Pool,
) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ('rolled back')")
            raise RuntimeError("halfway")

    started = asyncio.Event()

    async def slow() -> None:
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ('cancelled')")
            started.set()
            await conn.execute("select pg_sleep(30)")

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(3):  # every connection the pool hands out is usable and outside any transaction
        async with tenant_transaction(pool, tenant) as conn:
            assert await conn.fetchval("select count(*) from probe_items") == 0
    async with pool.acquire() as idle:
        assert not idle.is_in_transaction()


async def test_tenant_reader__one_connection_switches_tenants_and_survives_a_new_session(
    pool: asyncpg.Pool, dsn: str
) -> None:
    """The hub's reader keeps a tenant in its connection's session: each read still sees only
    its own tenant's rows, also after the connection was replaced by a new session."""
    a, b = uuid.uuid4(), uuid.uuid4()
    for tenant, label in ((a, "a-row"), (b, "b-row")):
        async with tenant_transaction(pool, tenant) as conn:
            await conn.execute("insert into probe_items (label) values ($1)", label)
    reader = await TenantReader.open(dsn, max_size=1)
    try:

        async def labels(tenant: uuid.UUID) -> list[str]:
            async with reader.read_as(tenant) as conn:
                return [r["label"] for r in await conn.fetch("select label from probe_items")]

        assert await labels(a) == ["a-row"]
        assert await labels(b) == ["b-row"]
        assert await labels(a) == ["a-row"]
        async with reader.read_as(a) as conn:
            pid = conn.get_server_pid()
        admin = await asyncpg.connect(dsn)
        await admin.execute("select pg_terminate_backend($1)", pid)
        await admin.close()
        for _ in range(50):  # the pool notices the lost session and opens a new one
            try:
                found = await labels(a)
                break
            except (
                asyncpg.PostgresError,  # the termination notice itself
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,  # a read that met the dying session
                ConnectionError,
            ):
                await asyncio.sleep(0.05)
        assert found == ["a-row"]
        async with reader.read_as(a) as conn:
            assert conn.get_server_pid() != pid
    finally:
        await reader.close()
