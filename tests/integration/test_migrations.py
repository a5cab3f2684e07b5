"""Migrations apply once, in order, even when two processes start together."""

from __future__ import annotations

import asyncio

import asyncpg

from db.migrate import migrate, migration_files
from tests.support import dbs


async def test_migrate__two_at_once_apply_each_file_exactly_once(pg_server: str) -> None:
    name = f"allot_mig_{id(object())}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'create database "{name}"')
    try:
        dsn = dbs.with_database(pg_server, name)
        first, second = await asyncio.gather(migrate(dsn), migrate(dsn))
        expected = [p.stem for p in migration_files()]
        assert sorted(first + second) == expected  # each applied by exactly one of them
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("select version from schema_migrations order by version")
        finally:
            await conn.close()
        assert [r["version"] for r in rows] == expected
        assert await migrate(dsn) == []  # idempotent
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


async def test_migrate__failed_file_leaves_nothing_half_applied(
    pg_server: str, tmp_path, monkeypatch
) -> None:
    import db.migrate as m

    good = tmp_path / "0001_good.sql"
    good.write_text("create table mig_good (id int);")
    bad = tmp_path / "0002_bad.sql"
    bad.write_text("create table mig_bad (id int); select 1/0;")
    monkeypatch.setattr(m, "MIGRATIONS_DIR", tmp_path)
    name = f"allot_mig_{id(object())}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'create database "{name}"')
    try:
        dsn = dbs.with_database(pg_server, name)
        try:
            await migrate(dsn)
            raise AssertionError("the bad migration must fail")
        except asyncpg.DivisionByZeroError:
            pass
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("select to_regclass('mig_good') is not null")
            assert not await conn.fetchval("select to_regclass('mig_bad') is not null")
            assert await conn.fetchval("select array_agg(version) from schema_migrations") == [
                "0001_good"
            ]
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


async def test_run__refuses_an_external_database_with_pending_migrations(pg_server: str) -> None:
    import pytest

    from server.auth import ConfigurationError
    from server.cli import prepare
    from server.settings import Settings

    name = f"allot_mig_{id(object())}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'create database "{name}"')
    try:
        settings = Settings(database_url=dbs.with_database(pg_server, name), jwt_secret="k" * 40)
        with pytest.raises(ConfigurationError, match="run `allot migrate` first"):
            await asyncio.to_thread(prepare, settings, seed=True)
        conn = await asyncpg.connect(dbs.with_database(pg_server, name))
        try:  # nothing was written
            assert not await conn.fetchval("select to_regclass('schema_migrations') is not null")
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()
