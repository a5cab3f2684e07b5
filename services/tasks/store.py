"""The tasks flows' SQL side: lock a task or a worker's profile, read the snapshot a choice
needs (the task's history, the workers as assignment sees them), and write assignments."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from db.rows import Row
from services.tasks.model import AssignmentStatus, AssignmentView, ProjectView
from services.tasks.reads import Q, assignments_of
from services.tasks.rules import PastAssignment, TaskScope, Worker


def worker_of(row: Row) -> Worker:
    """A `workers`/`worker` row as the rules see a worker."""
    return Worker(
        user_id=row["user_id"],
        skills=frozenset(row["skills"]),
        quality_score=row["quality_score"],
        active=row["active"],
        present=row["present"],
        active_assignments=row["active_assignments"],
        last_assigned_at=row["last_assigned_at"],
    )


async def workers(
    conn: asyncpg.Connection, project_id: UUID, presence_seconds: float
) -> list[Worker]:
    """Every worker of the tenant with a profile, for this project (one statement)."""
    rows = await conn.fetch(Q["workers"], project_id, presence_seconds)
    return [worker_of(r) for r in rows]


async def worker(
    conn: asyncpg.Connection, project_id: UUID, user_id: str, presence_seconds: float
) -> Worker | None:
    """One worker as `workers` sees them (read after their profile is locked)."""
    row = await conn.fetchrow(Q["worker"], project_id, user_id, presence_seconds)
    return worker_of(row) if row is not None else None


def scope_of(task: Row, history: Iterable[tuple[str, str, str]]) -> TaskScope:
    """A task at its step as the rules see it, with every assignment it ever had."""
    return TaskScope(
        step_id=task["step_id"],
        required_skills=frozenset(task["required_skills"]),
        cooldown_until=task["cooldown_until"],
        history=tuple(
            PastAssignment(user, step, AssignmentStatus(status)) for user, step, status in history
        ),
    )


async def task_scope(conn: asyncpg.Connection, task: Row) -> TaskScope:
    """The task at its step as the rules see it, its history read now."""
    history = await conn.fetch(Q["task_history"], task["id"])
    return scope_of(task, ((h["user_id"], h["step_id"], h["status"]) for h in history))


async def insert_assignment(
    conn: asyncpg.Connection, project: ProjectView, task_id: UUID, step_id: str, user_id: str
) -> AssignmentView:
    """Reserve the task at its step for the worker (ASSIGNED until accepted or expired), in
    one statement that also takes the task from the pool."""
    rows = await conn.fetch(
        *Q.bind(
            "insert_assignment",
            project_id=project.id,
            task_id=task_id,
            step_id=step_id,
            user_id=user_id,
            reservation_seconds=project.config.reservation_timeout_seconds,
        )
    )
    return assignments_of(rows)[0]
