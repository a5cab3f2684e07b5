"""Tasks resolvers: the caller and the input, one service call, its result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from schema.context import Context
from services.realtime.stream import Delta, Snapshot
from services.tasks import flows, live, reads, setup
from services.tasks.inputs import NewTask, Profile, ProjectDraft
from services.tasks.model import (
    AssignmentStatus,
    AssignmentView,
    Explanation,
    Presence,
    ProjectView,
    QueueView,
    TaskView,
    WorkerProfileView,
)
from services.tasks.rules import Action


async def work_project(context: Context, project_id: str) -> ProjectView:
    return await reads.get_project(context.pool, context.who(), project_id)


async def work_projects(context: Context) -> list[ProjectView]:
    return await reads.projects(context.pool, context.who())


async def my_assignments(context: Context, status: AssignmentStatus | None) -> list[AssignmentView]:
    return await reads.my_assignments(context.pool, context.who(), status)


async def explain_assignment(context: Context, task_id: str, step_id: str) -> list[Explanation]:
    return await flows.explain_assignment(
        context.pool, context.who(), task_id, step_id, context.areas.tasks
    )


async def create_work_project(context: Context, draft: ProjectDraft) -> ProjectView:
    return await setup.create_project(context.pool, context.who(), draft)


async def create_work_tasks(
    context: Context, project_id: str, batch: Sequence[NewTask]
) -> list[TaskView]:
    return await setup.create_tasks(context.pool, context.who(), project_id, batch)


async def set_worker_profile(context: Context, draft: Profile) -> WorkerProfileView:
    return await setup.set_worker_profile(context.pool, context.who(), draft)


async def assign_task(context: Context, task_id: str, step_id: str) -> AssignmentView:
    return await flows.assign_task(
        context.pool, context.who(), task_id, step_id, context.areas.tasks
    )


async def claim_next_task(context: Context, project_id: str, step_id: str) -> AssignmentView:
    return await flows.claim_next(context.pool, context.who(), project_id, step_id)


async def move(
    context: Context, assignment_id: str, action: Action, reason: Any = None
) -> AssignmentView:
    return await flows.move(
        context.pool, context.who(), assignment_id, action, context.areas.tasks, reason=reason
    )


async def heartbeat(context: Context, project_id: str) -> Presence:
    return await flows.heartbeat(context.pool, context.who(), project_id, context.areas.tasks)


def my_assignment_events(
    context: Context,
) -> AsyncIterator[Snapshot[list[AssignmentView]] | Delta[list[AssignmentView]]]:
    return live.my_assignment_events(context.pool, context.hub, context.who())


def project_queue_events(
    context: Context, project_id: str
) -> AsyncIterator[Snapshot[QueueView] | Delta[QueueView]]:
    return live.project_queue_events(
        context.pool,
        context.hub,
        context.who(),
        project_id,
        context.areas.tasks.presence_seconds,
    )
