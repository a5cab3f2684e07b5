"""Fixtures: one PostgreSQL per session, a migrated template, a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import pytest
from hypothesis import HealthCheck, settings

from db.pool import create_pool
from server.auth import issue_token
from services.core.principal import Role
from services.realtime.hub import Hub, PostgresListenBackend
from tests.support import dbs
from tests.support.server import TEST_SECRET, RunningServer, serve_in_process, test_settings

# Property tests check what holds, not how fast: a shared, noisy machine must not fail them.
settings.register_profile("allot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("allot")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of the session's PostgreSQL server (DATABASE_URL or embedded)."""
    yield dbs.server_dsn()


@pytest.fixture(scope="session")
async def template(pg_server: str) -> AsyncIterator[str]:
    name = await dbs.create_template(pg_server)
    yield name
    await dbs.drop(pg_server, name)


@pytest.fixture
async def dsn(pg_server: str, template: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = await dbs.clone(pg_server, template)
    yield dbs.with_database(pg_server, name)
    await dbs.drop(pg_server, name)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(dsn, min_size=1, max_size=60)
    yield p
    await p.close()


@pytest.fixture
async def hub(dsn: str) -> AsyncIterator[Hub]:
    h = Hub(PostgresListenBackend(dsn, keepalive_seconds=1, max_backoff_seconds=0.5), queue_size=64)
    await h.connect()
    yield h
    await h.close()


@pytest.fixture
async def server(dsn: str) -> AsyncIterator[RunningServer]:
    """The real app (plus the probe area) under uvicorn on a free port."""
    async with serve_in_process(test_settings(dsn)) as running:
        yield running


TokenFactory = Callable[..., str]


@pytest.fixture
def tenant() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def token(tenant: uuid.UUID) -> TokenFactory:
    """make a token: token("admin", user="u1", tenant=other_tenant)."""

    def make(
        *roles: str, user: str = "user-1", tenant_id: uuid.UUID | None = None, **kw: object
    ) -> str:
        return issue_token(
            TEST_SECRET,
            tenant=tenant_id or tenant,
            user=user,
            roles=[Role(r) for r in (roles or ("admin",))],
            **kw,  # type: ignore[arg-type]
        )

    return make
