"""Tasks commands, one transaction each: read, decide (rules.py, pure), commit; triggers notify.

What concurrent requests could race is decided under row locks, in the writing transaction:

* assignTask locks the task, reads every worker as assignment sees them, ranks the eligible
  (rules.explain: the same functions explainAssignment shows), then locks the chosen worker's
  profile and checks them again before writing, so their count of active assignments is
  current; ROUND_ROBIN also locks the project step's cursor.
* claimNextTask locks the caller's profile first (a worker's claims queue there, so max
  concurrent holds however many they fire at once), then takes the best task it may with
  FOR UPDATE SKIP LOCKED: concurrent workers take different tasks and never wait on each other.
  The task's history is read under its lock, so a cross-step exclusion cannot be raced.
* Every move of an assignment locks it and goes through rules.transition.

One active assignment per task and step, and nobody twice on a task and step, are constraints
as well; a violation becomes DuplicateAssignment, never a generic error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.errors import ConstraintViolation, translated
from db.pool import tenant_transaction
from db.rows import Row
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput
from services.tasks import inputs, reads, rules, store
from services.tasks.config import TasksConfig
from services.tasks.errors import (
    CONSTRAINTS,
    DuplicateAssignment,
    InvalidTransition,
    NoEligibleAssignee,
    NoTaskAvailable,
    no_such_assignment,
    no_such_project,
    no_such_task,
)
from services.tasks.model import (
    AssignmentStatus,
    AssignmentView,
    Explanation,
    LoadBalancingStrategy,
    Presence,
    ProjectView,
    TaskStatus,
)
from services.tasks.rules import Action

_ATTEMPTS = 3  # a chosen worker who changed under their lock: choose again, this often


def _now() -> datetime:
    return datetime.now(UTC)


def _step(project: ProjectView, step_id: str) -> str:
    """The step, if the project has it; InvalidInput naming `stepId` otherwise."""
    if step_id not in project.steps:
        raise InvalidInput.one(
            "stepId", f"unknown step {step_id!r} (the steps are {list(project.steps)})"
        )
    return step_id


async def _duplicate(conn: asyncpg.Connection, task_id: UUID, step_id: str) -> None:
    """DuplicateAssignment if the task already has an active assignment at the step."""
    existing = await conn.fetchval(reads.Q["active_assignment_of_task"], task_id, step_id)
    if existing is not None:
        raise DuplicateAssignment(
            "the task already has an active assignment at this step",
            await reads.assignment(conn, existing),
        )


async def _explained(
    conn: asyncpg.Connection,
    project: ProjectView,
    task: Row,
    config: TasksConfig,
    cursor: str | None,
) -> tuple[list[Explanation], rules.TaskScope]:
    """Every worker's case for the task at its step (rules.explain), and the task's scope."""
    scope = await store.task_scope(conn, task)
    workers = await store.workers(conn, project.id, config.presence_seconds)
    explained = rules.explain(
        workers, scope, project.config, _now(), cursor=cursor, need_presence=True
    )
    return explained, scope


async def _assign_best(
    conn: asyncpg.Connection, project: ProjectView, task: Row, config: TasksConfig
) -> tuple[AssignmentView | None, list[Explanation]]:
    """Reserve the task at its step for the best eligible worker under the project's strategy;
    (None, why) when nobody may take it."""
    step = task["step_id"]
    round_robin = project.config.strategy is LoadBalancingStrategy.ROUND_ROBIN
    cursor = await conn.fetchval(reads.Q["lock_cursor"], project.id, step) if round_robin else None
    for _ in range(_ATTEMPTS):
        scope = await store.task_scope(conn, task)
        workers = await store.workers(conn, project.id, config.presence_seconds)
        now = _now()
        # rules.choose over the eligible is what rules.explain ranks first; the words are
        # only built when nobody may take the task.
        eligible = [
            w
            for w in workers
            if not rules.exclusions(w, scope, project.config, now, need_presence=True)
        ]
        best = rules.choose(eligible, project.config, cursor=cursor)
        if best is None:
            return None, rules.explain(workers, scope, project.config, now, cursor=cursor)
        await conn.execute(reads.Q["lock_profile"], best.user_id)
        locked = await store.worker(conn, project.id, best.user_id, config.presence_seconds)
        if locked is None or rules.exclusions(
            locked, scope, project.config, _now(), need_presence=True
        ):
            continue  # they changed before their lock: choose again from a fresh read
        assigned = await store.insert_assignment(conn, project, task["id"], step, best.user_id)
        if round_robin:
            await conn.execute(reads.Q["set_cursor"], project.id, step, best.user_id)
        return assigned, []
    return None, []


async def assign_task(
    pool: asyncpg.Pool, who: Principal, raw_task_id: str, step_id: str, config: TasksConfig
) -> AssignmentView:
    """Push the task at its step to the best eligible worker (admins)."""
    who.require(Role.ADMIN)
    task_id = parse_id(raw_task_id)
    if task_id is None:
        raise no_such_task()
    try:
        async with translated(CONSTRAINTS), tenant_transaction(pool, who.tenant_id) as conn:
            task = await conn.fetchrow(reads.Q["lock_task"], task_id)
            if task is None:
                raise no_such_task()
            project = await reads.project(conn, task["project_id"])
            assert project is not None
            _step(project, step_id)
            await _duplicate(conn, task_id, step_id)
            if task["status"] == TaskStatus.DONE or task["step_id"] != step_id:
                where = "done" if task["status"] == TaskStatus.DONE else f"at {task['step_id']}"
                raise InvalidInput.one("stepId", f"the task is {where}, not waiting at {step_id}")
            assigned, explained = await _assign_best(conn, project, task, config)
            if assigned is None:
                raise NoEligibleAssignee(
                    f"no worker may take this task at {step_id} now", explained
                )
            return assigned
    except ConstraintViolation as rule:  # a racing claim took it first (the lock prevents it)
        async with tenant_transaction(pool, who.tenant_id) as conn:
            await _duplicate(conn, task_id, step_id)
            latest = await conn.fetchval(reads.Q["latest_assignment_of_task"], task_id)
            raise DuplicateAssignment(rule.message, await reads.assignment(conn, latest)) from rule


async def explain_assignment(
    pool: asyncpg.Pool, who: Principal, raw_task_id: str, step_id: str, config: TasksConfig
) -> list[Explanation]:
    """Every worker with a profile, eligible or not for the task at the step, and why: what
    assignTask would decide now (admins)."""
    who.require(Role.ADMIN)
    task_id = parse_id(raw_task_id)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        task = await conn.fetchrow(reads.Q["task"], task_id) if task_id is not None else None
        if task is None:
            raise no_such_task()
        project = await reads.project(conn, task["project_id"])
        assert project is not None
        _step(project, step_id)
        cursor = await conn.fetchval(reads.Q["cursor"], project.id, step_id)
        at_step = dict(task) | {"step_id": step_id}
        explained, _ = await _explained(conn, project, at_step, config, cursor)
    return explained


async def claim_next(
    pool: asyncpg.Pool, who: Principal, raw_project_id: str, step_id: str
) -> AssignmentView:
    """The best task at the step the caller may take, reserved for them (workers)."""
    who.require(Role.WORKER)
    async with translated(CONSTRAINTS), tenant_transaction(pool, who.tenant_id) as conn:
        project = await reads.project(conn, parse_id(raw_project_id))
        if project is None:
            raise no_such_project()
        _step(project, step_id)
        profile = await conn.fetchrow(reads.Q["lock_claimer"], project.id, who.user_id)
        if profile is None:
            raise NoTaskAvailable("you have no worker profile yet: an admin sets one")
        if not profile["active"]:
            raise NoTaskAvailable("your worker profile is inactive")
        me = await store.worker(conn, project.id, who.user_id, 0.0)  # read after the lock
        assert me is not None
        limit = project.config.max_concurrent_per_user
        if limit is not None and me.active_assignments >= limit:
            raise NoTaskAvailable(
                f"you are at {me.active_assignments} of {limit} active assignments"
            )
        paired = [
            b if a == step_id else a
            for a, b in project.config.cross_step_exclusions
            if step_id in (a, b)
        ]
        skip: list[UUID] = []
        for _ in range(_ATTEMPTS):
            task = await conn.fetchrow(
                *reads.Q.bind(
                    "claim_candidate",
                    project_id=project.id,
                    step_id=step_id,
                    skills=list(me.skills),
                    skip=skip,
                    user_id=who.user_id,
                    excluding_steps=paired,
                )
            )
            if task is None:
                break
            scope = store.scope_of(task, task["history"])
            if rules.exclusions(me, scope, project.config, _now(), need_presence=False):
                skip.append(task["id"])  # the query and the rules disagree: trust the rules
                continue
            return await store.insert_assignment(conn, project, task["id"], step_id, who.user_id)
    raise NoTaskAvailable(f"no open task at {step_id} that you may take right now")


async def heartbeat(
    pool: asyncpg.Pool, who: Principal, raw_project_id: str, config: TasksConfig
) -> Presence:
    """Record that the caller is online for the project (workers). A worker coming online, or
    last announced more than half the presence window ago, is announced on the project's
    queue topic, so live boards show them while they keep heartbeating."""
    who.require(Role.WORKER)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        project = await reads.project(conn, parse_id(raw_project_id))
        if project is None:
            raise no_such_project()
        row = await conn.fetchrow(
            reads.Q["heartbeat"], project.id, who.user_id, config.presence_seconds / 2
        )
        assert row is not None
        if row["announce"]:
            await conn.execute(reads.Q["announce_presence"], project.id)
    return Presence(row["project_id"], row["last_seen_at"])


async def move(
    pool: asyncpg.Pool,
    who: Principal,
    raw_id: str,
    action: Action,
    config: TasksConfig,
    *,
    reason: Any = None,
) -> AssignmentView:
    """Move an assignment (accept, start, submit, reject, or release as EXPIRE or REASSIGN).

    Only its worker moves it; an admin may also release it. A reservation that has run out is
    expired here and then (the expiry committed) the move is refused, as the expirer would have.
    """
    who.require(Role.WORKER, Role.ADMIN)
    if action is Action.REJECT:
        reason = inputs.reject_reason(reason)
    assignment_id = parse_id(raw_id)
    if assignment_id is None:
        raise no_such_assignment()
    refused: InvalidTransition | None = None
    async with translated(CONSTRAINTS), tenant_transaction(pool, who.tenant_id) as conn:
        row = await conn.fetchrow(reads.Q["lock_assignment"], assignment_id)
        if row is None:
            raise no_such_assignment()
        releasing = action in (Action.EXPIRE, Action.REASSIGN)
        if row["user_id"] != who.user_id and not (releasing and who.has(Role.ADMIN)):
            raise Forbidden("that assignment is another worker's")
        current = AssignmentStatus(row["status"])
        if current is AssignmentStatus.ASSIGNED and row["reservation_over"] and not releasing:
            await _release(conn, row, AssignmentStatus.EXPIRED)
            refused = InvalidTransition(
                "the reservation ran out before it was accepted", AssignmentStatus.EXPIRED
            )
        else:
            to = rules.transition(current, action)
            project = await reads.project(conn, row["project_id"])
            assert project is not None
            if action is Action.SUBMIT:
                await conn.execute(reads.Q["move_assignment"], row["id"], to.value, None)
                following = rules.next_step(project.steps, row["step_id"])
                await conn.execute(reads.Q["task_advanced"], row["task_id"], following)
            elif action is Action.REJECT:
                await conn.execute(reads.Q["move_assignment"], row["id"], to.value, reason)
                await conn.execute(reads.Q["task_freed"], row["task_id"], 0)
            elif releasing:
                await _release(conn, row, to, project, config)
            else:
                await conn.execute(reads.Q["move_assignment"], row["id"], to.value, None)
        view = await reads.assignment(conn, assignment_id)
    if refused is not None:
        raise refused
    return view


async def _release(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    to: AssignmentStatus,
    project: ProjectView | None = None,
    config: TasksConfig | None = None,
) -> None:
    """End an active assignment as EXPIRED or REASSIGNED; a REASSIGNED task goes to the next
    best worker in the same transaction (a handover: no cooldown), else back to the pool,
    cooling down when the project says so."""
    if project is None:
        project = await reads.project(conn, row["project_id"])
        assert project is not None
    await conn.execute(reads.Q["move_assignment"], row["id"], to.value, None)
    if to is AssignmentStatus.REASSIGNED and config is not None:
        task = await conn.fetchrow(reads.Q["lock_task"], row["task_id"])
        assert task is not None
        handover = dict(task) | {"cooldown_until": None}
        given, _ = await _assign_best(conn, project, handover, config)
        if given is not None:
            return
    await conn.execute(reads.Q["task_freed"], row["task_id"], project.config.cooldown_minutes)
