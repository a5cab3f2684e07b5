"""Tasks setup, for the tenant's admins, one transaction each: create a project, add a batch
of tasks (checked whole, written in one statement), set a worker's profile."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.core.tenants import ensure_tenant
from services.errors import InvalidInput
from services.tasks import inputs, reads
from services.tasks.inputs import NewTask, Profile, ProjectDraft
from services.tasks.model import ProjectView, TaskView, WorkerProfileView
from services.tasks.reads import Q


async def create_project(pool: asyncpg.Pool, who: Principal, draft: ProjectDraft) -> ProjectView:
    """A new project with its steps and rules, or InvalidInput naming every bad field."""
    who.require(Role.ADMIN)
    new = inputs.project(draft)
    config = new.config
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        project_id: UUID = await conn.fetchval(
            *Q.bind(
                "insert_project",
                project_name=new.name,
                steps=list(new.steps),
                strategy=config.strategy.value,
                max_concurrent_per_user=config.max_concurrent_per_user,
                cross_step_exclusions=[list(p) for p in config.cross_step_exclusions],
                cooldown_minutes=config.cooldown_minutes,
                reservation_timeout_seconds=config.reservation_timeout_seconds,
                hybrid_weight=config.hybrid_weight,
            )
        )
        found = await reads.project(conn, project_id)
    assert found is not None
    return found


async def create_tasks(
    pool: asyncpg.Pool, who: Principal, raw_project_id: str, batch: Sequence[NewTask]
) -> list[TaskView]:
    """Add tasks to a project, all or none, in one statement; in input order (which is also
    their age order for claims)."""
    who.require(Role.ADMIN)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        project = await reads.project(conn, parse_id(raw_project_id))
        if project is None:
            raise InvalidInput.one("projectId", "no such work project")
        clean = inputs.tasks(batch, project.steps)
        ids = await conn.fetch(
            *Q.bind(
                "insert_tasks",
                project_id=project.id,
                step_ids=[t.step_id for t in clean],
                priorities=[t.priority for t in clean],
                skills=[list(t.required_skills) for t in clean],
                payloads=[t.payload for t in clean],
            )
        )
        rows = await conn.fetch(Q["tasks_by_id"], [r["id"] for r in ids])
    by_id = {r["id"]: reads.task_of_row(r) for r in rows}
    return [by_id[r["id"]] for r in ids]


async def set_worker_profile(
    pool: asyncpg.Pool, who: Principal, draft: Profile
) -> WorkerProfileView:
    """Create or replace a worker's profile (skills, quality score, active) for the tenant."""
    who.require(Role.ADMIN)
    profile = inputs.profile(draft)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        await ensure_tenant(conn)
        row = await conn.fetchrow(
            Q["upsert_profile"],
            profile.user_id,
            list(profile.skills),
            profile.quality_score,
            profile.active,
        )
    assert row is not None
    return WorkerProfileView(
        row["user_id"], tuple(row["skills"]), row["quality_score"], row["active"]
    )
