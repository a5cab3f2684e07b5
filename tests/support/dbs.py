"""The PostgreSQL server for a test session and databases cloned from a migrated template."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.embedded import start_embedded
from db.migrate import migrate

PROBE_SQL = Path(__file__).with_name("probe.sql")


def server_dsn() -> str:
    """DATABASE_URL if set, else a fresh embedded server deleted when the session ends."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return start_embedded(
        Path(tempfile.mkdtemp(prefix="allot-test-")) / "pgdata", delete_on_exit=True
    )


def with_database(dsn: str, name: str) -> str:
    """The same server DSN, pointing at database `name`."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def create_template(dsn: str) -> str:
    """A database with every migration and the probe table; returns its name."""
    name = f"allot_tpl_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    await migrate(with_database(dsn, name))
    conn = await asyncpg.connect(with_database(dsn, name))
    try:
        await conn.execute(PROBE_SQL.read_text(encoding="utf-8"))
    finally:
        await conn.close()
    return name


async def clone(dsn: str, template: str) -> str:
    """A fresh database copied from the template; returns its name."""
    name = f"allot_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'create database "{name}" template "{template}"')
    finally:
        await admin.close()
    return name


async def drop(dsn: str, name: str) -> None:
    """Drop a test database, closing whatever still uses it."""
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A migrated database of its own (on DATABASE_URL or a new embedded server), dropped after.

    For scripts outside pytest, such as the benchmarks.
    """
    server = server_dsn()
    template = await create_template(server)
    name = await clone(server, template)
    try:
        yield with_database(server, name)
    finally:
        await drop(server, name)
        await drop(server, template)
