"""myAssignmentEvents and projectQueueEvents.

A worker's assignments: the trigger announces each change of an assignment at commit on
`tasks.assignments:<user id>`, with the assignment and its task as they committed
(tasks_assignment_views); a worker gets a SNAPSHOT of their active assignments, then each
change (a new reservation, a move, an expiry) as it lands.

A project's queue: the tasks' triggers announce on `tasks.queue:<project id>` once per
statement that changes them, and a heartbeat announces a worker online there (flows.heartbeat);
the counts and the workers online are read once for every subscriber of this process,
and a read serves every change that arrived while the one before it ran (a burst of claims
is one read, and one event). An event whose counts equal the last one sent is not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Final, Generic, TypeVar
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.realtime.hub import Change, Hub
from services.realtime.stream import Delta, Snapshot, live
from services.tasks import reads
from services.tasks.model import AssignmentView, ProjectView, QueueView

ASSIGNMENTS: Final = "tasks.assignments"
QUEUE: Final = "tasks.queue"
# The area's topics, as its triggers send them (`<topic>:<user id>`, `<topic>:<project id>`).
TOPICS: Final = (ASSIGNMENTS, QUEUE)

T = TypeVar("T")

# Per hub and project, the counts' reads: one at a time, each serving every change that came
# while the one before it ran.
_folds: weakref.WeakKeyDictionary[Hub, dict[UUID, _Coalesced[QueueView]]] = (
    weakref.WeakKeyDictionary()
)


async def my_assignment_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal
) -> AsyncGenerator[Snapshot[list[AssignmentView]] | Delta[list[AssignmentView]], None]:
    """Yield SNAPSHOT (the caller's active assignments), then each change of one of theirs."""
    who.require(Role.WORKER)

    async def snapshot() -> list[AssignmentView]:
        return await reads.active_assignments(pool, who)

    async def read(change: Change) -> list[AssignmentView] | None:
        if change.tenant is None:
            return None
        rows = await hub.rows(change, "tasks_assignment_views", "id", change.id)
        return reads.assignments_of(rows)

    def visible(_change: Change, changed: list[AssignmentView]) -> list[AssignmentView] | None:
        return [a for a in changed if a.user_id == who.user_id] or None

    async for event in live(
        hub,
        who,
        f"{ASSIGNMENTS}:{who.user_id}",
        name="myAssignmentEvents",
        snapshot=snapshot,
        read=read,
        visible=visible,
        audience=who.user_id,
    ):
        yield event


async def _queue(
    hub: Hub, tenant: UUID, project: ProjectView, presence_seconds: float
) -> QueueView:
    async with hub.read_as(tenant) as conn:
        return await reads.queue(conn, project, presence_seconds)


class _Coalesced(Generic[T]):
    """One load at a time; a caller that comes while one runs waits for the next, which serves
    every caller that came meanwhile."""

    def __init__(self, load: Callable[[], Awaitable[T]]) -> None:
        self._load = load
        self._running: asyncio.Future[T] | None = None
        self._queued: asyncio.Future[T] | None = None

    def get(self) -> Awaitable[T]:
        if self._queued is None:
            self._queued = asyncio.ensure_future(self._run(self._running))
        return asyncio.shield(self._queued)

    async def _run(self, before: asyncio.Future[T] | None) -> T:
        if before is not None:
            with contextlib.suppress(Exception):
                await before
        self._running, self._queued = self._queued, None
        return await self._load()


async def project_queue_events(
    pool: asyncpg.Pool, hub: Hub, who: Principal, raw_id: str, presence_seconds: float
) -> AsyncGenerator[Snapshot[QueueView] | Delta[QueueView], None]:
    """Yield SNAPSHOT (the project's counts by step and status, and its workers online), then
    the queue whenever it changes or a worker is announced online (admins)."""
    who.require(Role.ADMIN)
    project: ProjectView = await reads.get_project(pool, who, raw_id)
    last: list[QueueView] = []  # the queue this subscriber was sent last

    async def snapshot() -> QueueView:
        async with tenant_transaction(pool, who.tenant_id) as conn:
            view = await reads.queue(conn, project, presence_seconds)
        last[:] = [view]
        return view

    async def read(change: Change) -> QueueView | None:
        if change.tenant is None:
            return None
        folds = _folds.setdefault(hub, {})
        fold = folds.get(project.id)
        if fold is None:
            fold = folds[project.id] = _Coalesced(
                lambda: _queue(hub, who.tenant_id, project, presence_seconds)
            )
        return await fold.get()

    def visible(_change: Change, view: QueueView) -> QueueView | None:
        if last and last[0] == view:
            return None  # folded into an event already sent
        last[:] = [view]
        return view

    async for event in live(
        hub,
        who,
        f"{QUEUE}:{project.id}",
        name="projectQueueEvents",
        snapshot=snapshot,
        read=read,
        visible=visible,
    ):
        yield event
