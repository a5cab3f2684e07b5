"""A test-only GraphQL area over probe_items, built exactly like a real area's realtime path."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum

import strawberry

from db.pool import tenant_transaction
from schema.context import Info
from schema.fanout import shared_events
from services.realtime.hub import Change
from services.realtime.stream import Delta, Snapshot, live

RESOLUTIONS = [0]


@strawberry.type
class ProbeItem:
    id: strawberry.ID
    label: str
    version: int

    @strawberry.field(description="How often this field has been resolved in this process.")
    def resolutions(self) -> int:
        RESOLUTIONS[0] += 1
        return RESOLUTIONS[0]


@strawberry.enum
class ProbeEventKind(Enum):
    SNAPSHOT = "SNAPSHOT"
    INSERT = "insert"
    UPDATE = "update"


@strawberry.type
class ProbeEvent:
    kind: ProbeEventKind
    sequence: int
    resync: bool
    items: list[ProbeItem] | None = None
    item: ProbeItem | None = None


def _item(row: object) -> ProbeItem:
    return ProbeItem(id=strawberry.ID(str(row["id"])), label=row["label"], version=row["version"])  # type: ignore[index]


@strawberry.type
class Query:
    @strawberry.field
    async def probe_items(self, info: Info) -> list[ProbeItem]:
        who = info.context.who()
        async with tenant_transaction(info.context.pool, who.tenant_id) as conn:
            rows = await conn.fetch("select * from probe_items order by label")
        return [_item(r) for r in rows]

    @strawberry.field(description="Fails unexpectedly, to test that internals never leak.")
    async def probe_fail(self, info: Info) -> int:
        info.context.who()
        async with tenant_transaction(info.context.pool, info.context.who().tenant_id) as conn:
            value: int = await conn.fetchval("select * from no_such_relation_secret")
        return value


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def probe_add(self, info: Info, label: str) -> ProbeItem:
        who = info.context.who()
        async with tenant_transaction(info.context.pool, who.tenant_id) as conn:
            row = await conn.fetchrow(
                "insert into probe_items (label) values ($1) returning *", label
            )
        return _item(row)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def probe_events(self, info: Info) -> AsyncGenerator[ProbeEvent, None]:
        who = info.context.who()
        pool = info.context.pool

        async def snapshot() -> list[ProbeItem]:
            async with tenant_transaction(pool, who.tenant_id) as conn:
                rows = await conn.fetch("select * from probe_items order by label")
            return [_item(r) for r in rows]

        async def read(change: Change) -> ProbeItem | None:
            rows = await info.context.hub.rows(change, "probe_items", "id", change.id)
            return _item(rows[0]) if rows else None

        def snapshot_event(event: Snapshot[list[ProbeItem]]) -> ProbeEvent:
            return ProbeEvent(
                kind=ProbeEventKind.SNAPSHOT,
                sequence=event.sequence,
                resync=event.resync,
                items=event.data,
            )

        def delta_event(event: Delta[ProbeItem]) -> ProbeEvent:
            return ProbeEvent(
                kind=ProbeEventKind(event.change.kind),
                sequence=event.sequence,
                resync=False,
                item=event.data,
            )

        stream = live(
            info.context.hub,
            who,
            f"probe:{who.tenant_id}",
            name="probeEvents",
            snapshot=snapshot,
            read=read,
        )
        async for event in shared_events(stream, snapshot=snapshot_event, delta=delta_event):
            yield event
