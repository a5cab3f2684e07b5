"""Tenants come into being on their admin's first write: no separate sign-up."""

from __future__ import annotations

import asyncpg

from db.sql import load

Q = load("core")


async def ensure_tenant(conn: asyncpg.Connection) -> None:
    """Record the transaction's tenant if it is new (inside the caller's transaction)."""
    await conn.execute(Q["ensure_tenant"])
