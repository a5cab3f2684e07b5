"""The tasks area's queries: projects, a worker's assignments, the queue's counts, and why
each worker may or may not take a task.

An assignment is read with its task through one view (tasks_assignment_views), the same rows
the assignment's notification carries, so an answer and an event are built alike
(`assignments_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from db.rows import Row
from db.sql import load
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.tasks.errors import no_such_project
from services.tasks.model import (
    AssignmentConfig,
    AssignmentStatus,
    AssignmentView,
    LoadBalancingStrategy,
    ProjectView,
    QueueCount,
    QueueView,
    TaskStatus,
    TaskView,
    WorkerOnline,
)

Q = load("tasks")


def project_of_row(row: Row) -> ProjectView:
    """A work_projects row as the project view."""
    return ProjectView(
        id=row["id"],
        name=row["name"],
        steps=tuple(row["steps"]),
        config=AssignmentConfig(
            strategy=LoadBalancingStrategy(row["strategy"]),
            max_concurrent_per_user=row["max_concurrent_per_user"],
            cross_step_exclusions=tuple((a, b) for a, b in row["cross_step_exclusions"]),
            cooldown_minutes=row["cooldown_minutes"],
            reservation_timeout_seconds=row["reservation_timeout_seconds"],
            hybrid_weight=row["hybrid_weight"],
        ),
    )


def task_of_row(row: Row, prefix: str = "") -> TaskView:
    """A work_tasks row (or the task columns of an assignment view row) as the task view."""
    return TaskView(
        id=row[f"{prefix}id"],
        project_id=row["project_id"],
        step_id=row[f"{prefix}step_id"],
        priority=row["priority"],
        required_skills=tuple(row["required_skills"]),
        payload=row["payload"],
        status=TaskStatus(row[f"{prefix}status"]),
        cooldown_until=row["cooldown_until"],
        version=row[f"{prefix}version"],
    )


def assignments_of(rows: Iterable[Row]) -> list[AssignmentView]:
    """tasks_assignment_views rows as assignment views."""
    return [
        AssignmentView(
            id=r["id"],
            task=task_of_row(r, "task_"),
            step_id=r["step_id"],
            user_id=r["user_id"],
            status=AssignmentStatus(r["status"]),
            reject_reason=r["reject_reason"],
            assigned_at=r["assigned_at"],
            updated_at=r["updated_at"],
            expires_at=r["expires_at"],
        )
        for r in rows
    ]


async def assignment(conn: asyncpg.Connection, assignment_id: UUID) -> AssignmentView:
    """One assignment with its task, as committed so far in this transaction."""
    return assignments_of(await conn.fetch(Q["assignment_views"], [assignment_id]))[0]


async def project(conn: asyncpg.Connection, project_id: UUID | None) -> ProjectView | None:
    """The tenant's project with this id, if any."""
    row = await conn.fetchrow(Q["project"], project_id) if project_id is not None else None
    return project_of_row(row) if row is not None else None


async def get_project(pool: asyncpg.Pool, who: Principal, raw_id: str) -> ProjectView:
    """A project, for the tenant's admins and workers; NotFound otherwise."""
    if not who.has(Role.ADMIN, Role.WORKER):
        raise no_such_project()
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await project(conn, parse_id(raw_id))
    if found is None:
        raise no_such_project()
    return found


async def projects(pool: asyncpg.Pool, who: Principal) -> list[ProjectView]:
    """Every project of the tenant, newest first (admins and workers; nobody else sees any)."""
    if not who.has(Role.ADMIN, Role.WORKER):
        return []
    async with tenant_transaction(pool, who.tenant_id) as conn:
        rows = await conn.fetch(Q["projects"])
    return [project_of_row(r) for r in rows]


async def my_assignments(
    pool: asyncpg.Pool, who: Principal, status: AssignmentStatus | None
) -> list[AssignmentView]:
    """The caller's assignments (newest first), of one status if given."""
    who.require(Role.WORKER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        rows = await conn.fetch(
            Q["my_assignments"], who.user_id, status.value if status is not None else None
        )
    return assignments_of(rows)


async def active_assignments(pool: asyncpg.Pool, who: Principal) -> list[AssignmentView]:
    """The caller's active assignments, oldest first (what a worker's queue shows)."""
    async with tenant_transaction(pool, who.tenant_id) as conn:
        return assignments_of(await conn.fetch(Q["my_active_assignments"], who.user_id))


def counts_of(rows: Iterable[Row], steps: tuple[str, ...]) -> list[QueueCount]:
    """Queue counts in step order, then status order, every (step, status) listed (0s too)."""
    found = {(r["step_id"], r["status"]): r["count"] for r in rows}
    return [
        QueueCount(step, status, found.get((step, status.value), 0))
        for step in steps
        for status in TaskStatus
    ]


async def queue_counts(conn: asyncpg.Connection, project_: ProjectView) -> list[QueueCount]:
    """The project's tasks counted by step and status."""
    return counts_of(await conn.fetch(Q["queue_counts"], project_.id), project_.steps)


async def queue(
    conn: asyncpg.Connection, project_: ProjectView, presence_seconds: float
) -> QueueView:
    """The project's counts and its workers online (two statements)."""
    counts = await queue_counts(conn, project_)
    window = timedelta(seconds=presence_seconds)
    online = tuple(
        WorkerOnline(r["user_id"], r["last_seen_at"], r["last_seen_at"] + window)
        for r in await conn.fetch(Q["workers_online"], project_.id, presence_seconds)
    )
    return QueueView(tuple(counts), online)
