"""Apply db/migrations/*.sql in order, each in its own transaction, under an advisory lock."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg

from db.pool import AnyConnection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit key: every Allot process migrating the same database waits on it.
ADVISORY_LOCK_KEY = 0x616C6C6F74  # "allot"


def migration_files() -> list[Path]:
    """The migration files in the order they apply (by their numeric prefix)."""
    return sorted(MIGRATIONS_DIR.glob("[0-9]*.sql"))


async def pending(conn: AnyConnection) -> list[str]:
    """Names of migrations not yet applied (all of them if none ever ran)."""
    exists = await conn.fetchval("select to_regclass('public.schema_migrations') is not null")
    applied: set[str] = set()
    if exists:
        applied = {r["version"] for r in await conn.fetch("select version from schema_migrations")}
    return [p.stem for p in migration_files() if p.stem not in applied]


async def migrate(dsn: str) -> list[str]:
    """Apply every pending migration; return the names applied by this call.

    Two processes migrating at once serialize on an advisory lock, so each file
    runs exactly once.
    """
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("select pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        try:
            await conn.execute(
                "create table if not exists schema_migrations ("
                " version text primary key, applied_at timestamptz not null default now())"
            )
            done: list[str] = []
            for name in await pending(conn):
                sql = (MIGRATIONS_DIR / f"{name}.sql").read_text(encoding="utf-8")
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("insert into schema_migrations (version) values ($1)", name)
                log.info("applied migration %s", name)
                done.append(name)
            return done
        finally:
            await conn.execute("select pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()
