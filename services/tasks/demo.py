"""Demo data for `allot run`: a labelling project (annotate, then review), 200 tasks and 8
workers with mixed skills, and a worker token to claim work with in GraphiQL."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg

from db.pool import tenant_transaction
from services.core.principal import Principal, Role
from services.tasks import setup
from services.tasks.inputs import NewTask, Profile, ProjectDraft
from services.tasks.model import LoadBalancingStrategy
from services.tasks.reads import Q

WORKER = "demo-worker-1"
SKILLS = ("text", "audio", "image")
# 8 workers: every skill is held by several, and demo-worker-1 holds text and image.
PROFILES = (
    ("text", "image"),
    ("text",),
    ("audio",),
    ("text", "audio"),
    ("image",),
    ("text", "audio", "image"),
    ("audio", "image"),
    ("text",),
)


def tasks() -> list[NewTask]:
    """200 tasks to annotate, each needing one skill, priorities 0 to 3."""
    return [
        NewTask(
            "annotate",
            priority=i % 4,
            required_skills=(SKILLS[i % 3],),
            payload={"item": i + 1, "kind": SKILLS[i % 3]},
        )
        for i in range(200)
    ]


async def seed(
    pool: asyncpg.Pool, tenant: UUID, token: Callable[[str, list[Role]], str]
) -> list[str]:
    """Create the demo project if the tenant has none; print its id and a worker token."""
    admin = Principal(user_id="demo-admin", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    async with tenant_transaction(pool, tenant) as conn:
        empty = not await conn.fetchval(Q["any_project"])
    if empty:
        project = await setup.create_project(
            pool,
            admin,
            ProjectDraft(
                "Demo labelling",
                ("annotate", "review"),
                LoadBalancingStrategy.HYBRID,
                max_concurrent_per_user=3,
                cross_step_exclusions=(("annotate", "review"),),
                reservation_timeout_seconds=300,
            ),
        )
        await setup.create_tasks(pool, admin, str(project.id), tasks())
        for i, skills in enumerate(PROFILES):
            quality = round(0.55 + 0.05 * i, 2)
            await setup.set_worker_profile(
                pool, admin, Profile(f"demo-worker-{i + 1}", skills, quality, True)
            )
    async with tenant_transaction(pool, tenant) as conn:
        project_id = await conn.fetchval(Q["demo_project"])
    return [
        "",
        f"Tasks: a demo project (annotate, then review; 200 tasks, 8 workers): {project_id}",
        f"  {WORKER} (skills text and image) claims, accepts and submits with this token:",
        f'  worker: {{"Authorization": "Bearer {token(WORKER, [Role.WORKER])}"}}',
    ]
