"""myProgressEvents: a creator's progress rows, a snapshot and then again after each change.

The progress rows' triggers announce on `loyalty.progress:<user id>` once per statement and
creator (a sync that touches 100,000 creators sends each one notification per step, not one
per row); the creator's rows are read once per change for every subscriber of this process.
An event always holds all of the creator's rows, so a phone shows a completion at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Final

import asyncpg

from services.core.principal import Principal, Role
from services.loyalty import reads
from services.loyalty.model import ProgressView
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live

PROGRESS: Final = "loyalty.progress"
# The area's topics, as its triggers send them (`loyalty.progress:<user id>`).
TOPICS: Final = (PROGRESS,)


async def my_progress_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal
) -> AsyncGenerator[Snapshot[list[ProgressView]] | Delta[list[ProgressView]], None]:
    """Yield SNAPSHOT (the caller's rows), then their rows after each change (creators)."""
    who.require(Role.CREATOR)

    async def snapshot() -> list[ProgressView]:
        return await reads.my_progress(pool, who)

    async def read(change: Change) -> list[ProgressView] | None:
        if change.tenant is None:
            return None
        async with hub.read_as(change.tenant) as conn:
            return await reads.progress(conn, who.user_id)

    async for event in live(
        hub,
        who,
        f"{PROGRESS}:{who.user_id}",
        name="myProgressEvents",
        snapshot=snapshot,
        read=read,
        audience=who.user_id,
    ):
        yield event
