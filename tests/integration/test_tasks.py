"""Tasks against real PostgreSQL: setup and its validation, strategies, claims, the state
machine, reservations, explanations, tenancy, and the rules under real concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.tasks import flows, reads, setup
from services.tasks.config import TasksConfig
from services.tasks.errors import (
    DuplicateAssignment,
    InvalidTransition,
    NoEligibleAssignee,
    NoTaskAvailable,
)
from services.tasks.inputs import NewTask, Profile, ProjectDraft
from services.tasks.model import AssignmentStatus, LoadBalancingStrategy, ProjectView, TaskStatus
from services.tasks.rules import Action
from services.tasks.workers import ReservationExpirer, expire_due

pytestmark = pytest.mark.integration

CONFIG = TasksConfig(presence_seconds=60)


def admin(tenant: uuid.UUID) -> Principal:
    return Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))


def worker(tenant: uuid.UUID, user: str) -> Principal:
    return Principal(user_id=user, tenant_id=tenant, roles=frozenset({Role.WORKER}))


async def project_of(
    pool: asyncpg.Pool,
    tenant: uuid.UUID,
    strategy: LoadBalancingStrategy = LoadBalancingStrategy.CAPACITY_BASED,
    **config: object,
) -> ProjectView:
    draft = ProjectDraft(
        "Labelling",
        ("annotate", "review"),
        strategy,
        cross_step_exclusions=(("annotate", "review"),),
        **config,  # type: ignore[arg-type]
    )
    return await setup.create_project(pool, admin(tenant), draft)


async def tasks_of(
    pool: asyncpg.Pool, tenant: uuid.UUID, project: ProjectView, n: int, **kw: object
) -> list[str]:
    made = await setup.create_tasks(
        pool,
        admin(tenant),
        str(project.id),
        [NewTask("annotate", **kw) for _ in range(n)],  # type: ignore[arg-type]
    )
    return [str(t.id) for t in made]


async def workers_of(
    pool: asyncpg.Pool, tenant: uuid.UUID, profiles: Mapping[str, tuple[tuple[str, ...], float]]
) -> None:
    for user, (skills, quality) in profiles.items():
        await setup.set_worker_profile(pool, admin(tenant), Profile(user, skills, quality, True))


async def online(pool: asyncpg.Pool, tenant: uuid.UUID, project: ProjectView, *users: str) -> None:
    for user in users:
        await flows.heartbeat(pool, worker(tenant, user), str(project.id), CONFIG)


async def superuser_fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


# ---------------------------------------------------------------- setup


async def test_create_project__bad_rules_name_each_field_and_write_nothing(
    pool, dsn, tenant
) -> None:
    draft = ProjectDraft(
        "",
        ("annotate", "annotate", "9bad"),
        LoadBalancingStrategy.HYBRID,
        max_concurrent_per_user=0,
        cross_step_exclusions=(("annotate", "qa"),),
        cooldown_minutes=-1,
        reservation_timeout_seconds=0,
        hybrid_weight=1.5,
    )
    with pytest.raises(InvalidInput) as exc:
        await setup.create_project(pool, admin(tenant), draft)
    assert [p.field for p in exc.value.fields] == [
        "name",
        "steps[1]",
        "steps[2]",
        "config.crossStepExclusions[0]",
        "config.maxConcurrentPerUser",
        "config.cooldownMinutes",
        "config.reservationTimeoutSeconds",
        "config.hybridWeight",
    ]
    assert not await superuser_fetch(dsn, "select 1 from work_projects")
    with pytest.raises(Forbidden):
        await setup.create_project(pool, worker(tenant, "w"), draft)


async def test_create_tasks__unknown_steps_bad_priorities_empty_skills_are_named(
    pool, dsn, tenant
) -> None:
    project = await project_of(pool, tenant)
    batch = [
        NewTask("annotate"),
        NewTask("qa"),
        NewTask("review", priority=10_000_000),
        NewTask("annotate", required_skills=("audio", " ")),
    ]
    with pytest.raises(InvalidInput) as exc:
        await setup.create_tasks(pool, admin(tenant), str(project.id), batch)
    assert [p.field for p in exc.value.fields] == [
        "tasks[1].stepId",
        "tasks[2].priority",
        "tasks[3].requiredSkills[1]",
    ]
    assert not await superuser_fetch(dsn, "select 1 from work_tasks")
    with pytest.raises(InvalidInput) as exc:
        await setup.create_tasks(pool, admin(uuid.uuid4()), str(project.id), batch[:1])
    assert [p.field for p in exc.value.fields] == ["projectId"]
    made = await setup.create_tasks(
        pool, admin(tenant), str(project.id), [NewTask("annotate", 5, ("audio",), {"n": 1})]
    )
    assert (made[0].status, made[0].priority, made[0].payload) == (TaskStatus.OPEN, 5, {"n": 1})


# ---------------------------------------------------------------- strategies


async def test_assign_task__each_strategy_picks_its_worker(pool, tenant) -> None:
    people = {"ann": (("text",), 0.5), "bob": (("text",), 0.9), "cat": (("text",), 0.7)}
    await workers_of(pool, tenant, people)
    expected = {
        LoadBalancingStrategy.PERFORMANCE_WEIGHTED: "bob",
        LoadBalancingStrategy.CAPACITY_BASED: "cat",  # ann and bob hold one each already
        LoadBalancingStrategy.HYBRID: "cat",
    }
    for strategy, winner in expected.items():
        project = await project_of(pool, tenant, strategy, max_concurrent_per_user=2)
        await online(pool, tenant, project, *people)
        ids = await tasks_of(pool, tenant, project, 3)
        for user in ("ann", "bob"):  # one active assignment each
            await flows.claim_next(pool, worker(tenant, user), str(project.id), "annotate")
        chosen = await flows.assign_task(pool, admin(tenant), ids[2], "annotate", CONFIG)
        assert chosen.user_id == winner, strategy
        assert chosen.status is AssignmentStatus.ASSIGNED and chosen.expires_at is not None


async def test_round_robin__cycles_through_the_eligible_in_user_order(pool, tenant) -> None:
    await workers_of(
        pool,
        tenant,
        {
            "ann": (("text",), 0.1),
            "bob": (("text",), 0.1),
            "cat": (("audio",), 0.1),
            "dan": (("text",), 0.1),
        },
    )
    project = await project_of(pool, tenant, LoadBalancingStrategy.ROUND_ROBIN)
    await online(pool, tenant, project, "ann", "bob", "cat", "dan")
    ids = await tasks_of(pool, tenant, project, 7, required_skills=("text",))
    chosen = [
        (await flows.assign_task(pool, admin(tenant), i, "annotate", CONFIG)).user_id for i in ids
    ]
    assert chosen == ["ann", "bob", "dan", "ann", "bob", "dan", "ann"]  # cat lacks the skill


async def test_assign_task__needs_presence_and_says_why_nobody_may(pool, tenant) -> None:
    await workers_of(pool, tenant, {"ann": (("text",), 0.9), "bob": ((), 0.9)})
    project = await project_of(pool, tenant)
    (task,) = await tasks_of(pool, tenant, project, 1, required_skills=("text",))
    with pytest.raises(NoEligibleAssignee) as exc:
        await flows.assign_task(pool, admin(tenant), task, "annotate", CONFIG)
    why = {c.user_id: c.reasons for c in exc.value.candidates}
    assert why == {
        "ann": ("not online (no recent heartbeat)",),
        "bob": ("missing skill: text", "not online (no recent heartbeat)"),
    }
    await online(pool, tenant, project, "ann")
    assert (await flows.assign_task(pool, admin(tenant), task, "annotate", CONFIG)).user_id == "ann"
    with pytest.raises(DuplicateAssignment) as dup:
        await flows.assign_task(pool, admin(tenant), task, "annotate", CONFIG)
    assert dup.value.existing.user_id == "ann"


# ---------------------------------------------------------------- claims and the state machine


async def test_a_task_through_both_steps__moves_on_and_is_done(pool, tenant) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5), "bob": ((), 0.5)})
    project = await project_of(pool, tenant)
    (task,) = await tasks_of(pool, tenant, project, 1)
    ann, bob = worker(tenant, "ann"), worker(tenant, "bob")
    mine = await flows.claim_next(pool, ann, str(project.id), "annotate")
    for action, status in (
        (Action.ACCEPT, AssignmentStatus.ACCEPTED),
        (Action.START, AssignmentStatus.IN_PROGRESS),
        (Action.SUBMIT, AssignmentStatus.SUBMITTED),
    ):
        moved = await flows.move(pool, ann, str(mine.id), action, CONFIG)
        assert moved.status is status
    assert (moved.task.step_id, moved.task.status) == ("review", TaskStatus.OPEN)
    with pytest.raises(NoTaskAvailable):  # the annotator may not review it
        await flows.claim_next(pool, ann, str(project.id), "review")
    review = await flows.claim_next(pool, bob, str(project.id), "review")
    assert review.task.id == mine.task.id
    for action in (Action.ACCEPT, Action.START, Action.SUBMIT):
        done = await flows.move(pool, bob, str(review.id), action, CONFIG)
    assert (done.task.step_id, done.task.status) == ("review", TaskStatus.DONE)
    assert str(done.task.id) == task


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ((), Action.START),
        ((), Action.SUBMIT),
        ((Action.ACCEPT,), Action.ACCEPT),
        ((Action.ACCEPT,), Action.SUBMIT),
        ((Action.ACCEPT, Action.START), Action.ACCEPT),
        ((Action.ACCEPT, Action.START, Action.SUBMIT), Action.REJECT),
        ((Action.ACCEPT, Action.START, Action.SUBMIT), Action.REASSIGN),
        ((Action.REJECT,), Action.ACCEPT),
        ((Action.EXPIRE,), Action.START),
    ],
)
async def test_invalid_transitions__say_from_where_and_change_nothing(
    pool, tenant, path, action
) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant)
    await tasks_of(pool, tenant, project, 1)
    ann = worker(tenant, "ann")
    mine = await flows.claim_next(pool, ann, str(project.id), "annotate")
    before = mine
    for step in path:
        before = await flows.move(pool, ann, str(mine.id), step, CONFIG, reason="no")
    with pytest.raises(InvalidTransition) as exc:
        await flows.move(pool, ann, str(mine.id), action, CONFIG, reason="no")
    assert exc.value.from_ is before.status
    (now,) = [a for a in await reads.my_assignments(pool, ann, None) if a.id == mine.id]
    assert (now.status, now.updated_at) == (before.status, before.updated_at)


async def test_reject_then_claim_again__gives_another_task_never_the_same(pool, tenant) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant)
    await tasks_of(pool, tenant, project, 2)
    ann = worker(tenant, "ann")
    first = await flows.claim_next(pool, ann, str(project.id), "annotate")
    with pytest.raises(InvalidInput) as exc:
        await flows.move(pool, ann, str(first.id), Action.REJECT, CONFIG, reason=" ")
    assert [p.field for p in exc.value.fields] == ["reason"]
    rejected = await flows.move(
        pool, ann, str(first.id), Action.REJECT, CONFIG, reason={"why": "unclear audio"}
    )
    assert rejected.reject_reason == {"why": "unclear audio"}
    assert rejected.task.status is TaskStatus.OPEN
    second = await flows.claim_next(pool, ann, str(project.id), "annotate")
    assert second.task.id != first.task.id
    await flows.move(pool, ann, str(second.id), Action.REJECT, CONFIG, reason="no")
    with pytest.raises(NoTaskAvailable):
        await flows.claim_next(pool, ann, str(project.id), "annotate")


async def test_release__reassigns_to_the_next_best_or_returns_to_the_pool_cooling(
    pool, tenant
) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.9), "bob": ((), 0.5)})
    project = await project_of(
        pool, tenant, LoadBalancingStrategy.PERFORMANCE_WEIGHTED, cooldown_minutes=10
    )
    await online(pool, tenant, project, "ann", "bob")
    (task,) = await tasks_of(pool, tenant, project, 1)
    given = await flows.assign_task(pool, admin(tenant), task, "annotate", CONFIG)
    assert given.user_id == "ann"
    released = await flows.move(pool, admin(tenant), str(given.id), Action.REASSIGN, CONFIG)
    assert released.status is AssignmentStatus.REASSIGNED
    (bobs,) = await reads.my_assignments(pool, worker(tenant, "bob"), None)
    assert (str(bobs.task.id), bobs.status, bobs.task.cooldown_until) == (
        task,
        AssignmentStatus.ASSIGNED,
        None,
    )
    with pytest.raises(Forbidden):
        await flows.move(pool, worker(tenant, "ann"), str(bobs.id), Action.ACCEPT, CONFIG)
    expired = await flows.move(pool, worker(tenant, "bob"), str(bobs.id), Action.EXPIRE, CONFIG)
    assert expired.status is AssignmentStatus.EXPIRED
    assert expired.task.status is TaskStatus.OPEN and expired.task.cooldown_until is not None
    explained = await flows.explain_assignment(pool, admin(tenant), task, "annotate", CONFIG)
    assert {c.user_id: c.reasons for c in explained} == {
        "ann": ("already had this task at annotate (reassigned)", explained[0].reasons[-1]),
        "bob": ("already had this task at annotate (expired)", explained[1].reasons[-1]),
    }
    assert all(c.reasons[-1].startswith("task is cooling down until") for c in explained)


async def test_explain__every_exclusion_in_words_and_the_score_of_the_eligible(
    pool, tenant
) -> None:
    await workers_of(
        pool,
        tenant,
        {
            "ann": (("text",), 0.9),
            "bob": ((), 0.9),
            "cat": (("text",), 0.2),
            "dan": (("text",), 0.5),
        },
    )
    await setup.set_worker_profile(pool, admin(tenant), Profile("eve", ("text",), 0.9, False))
    project = await project_of(pool, tenant, max_concurrent_per_user=1)
    await online(pool, tenant, project, "ann", "bob", "cat")
    first, second = await tasks_of(pool, tenant, project, 2, required_skills=("text",))
    cat = await flows.claim_next(pool, worker(tenant, "cat"), str(project.id), "annotate")
    explained = await flows.explain_assignment(pool, admin(tenant), second, "annotate", CONFIG)
    by_user = {c.user_id: c for c in explained}
    assert [c.user_id for c in explained if c.eligible] == ["ann"]
    assert by_user["ann"].score is not None
    assert by_user["bob"].reasons == ("missing skill: text",)
    assert by_user["cat"].reasons == ("at 1 of 1 active assignments",)
    assert by_user["dan"].reasons == ("not online (no recent heartbeat)",)
    assert by_user["eve"].reasons == ("profile is inactive", "not online (no recent heartbeat)")
    assert (
        await flows.assign_task(pool, admin(tenant), second, "annotate", CONFIG)
    ).user_id == "ann"
    # The annotator of a task may not review it.
    cats = worker(tenant, "cat")
    for action in (Action.ACCEPT, Action.START, Action.SUBMIT):
        await flows.move(pool, cats, str(cat.id), action, CONFIG)
    review = await flows.explain_assignment(pool, admin(tenant), str(cat.task.id), "review", CONFIG)
    assert "annotated this task; may not review it" in {c.user_id: c for c in review}["cat"].reasons
    assert str(cat.task.id) == first


# ---------------------------------------------------------------- reservations


async def test_a_reservation_not_accepted__expires_on_time_and_the_task_returns(
    pool, dsn, tenant
) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant, reservation_timeout_seconds=1)
    await tasks_of(pool, tenant, project, 1)
    ann = worker(tenant, "ann")
    expirer = await ReservationExpirer.start(dsn)
    try:
        mine = await flows.claim_next(pool, ann, str(project.id), "annotate")
        assert mine.expires_at is not None
        deadline = mine.expires_at
        while True:
            (now,) = await reads.my_assignments(pool, ann, None)
            if now.status is AssignmentStatus.EXPIRED:
                break
            assert datetime.now(UTC) < deadline + timedelta(seconds=1.5), "not expired on time"
            await asyncio.sleep(0.05)
        assert now.updated_at - deadline < timedelta(seconds=1)
        assert now.task.status is TaskStatus.OPEN
    finally:
        await expirer.stop()
    with pytest.raises(InvalidTransition) as exc:
        await flows.move(pool, ann, str(mine.id), Action.ACCEPT, CONFIG)
    assert exc.value.from_ is AssignmentStatus.EXPIRED


async def test_reservations_due_while_no_server_ran__expire_at_start(pool, dsn, tenant) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant)
    await tasks_of(pool, tenant, project, 3)
    ann = worker(tenant, "ann")
    claimed = [await flows.claim_next(pool, ann, str(project.id), "annotate") for _ in range(3)]
    await flows.move(pool, ann, str(claimed[2].id), Action.ACCEPT, CONFIG)
    conn = await asyncpg.connect(dsn)
    try:  # the server was down while their deadlines passed
        await conn.execute(
            "update task_assignments set expires_at = now() - interval '1 minute' "
            "where status = 'ASSIGNED'"
        )
    finally:
        await conn.close()
    expirer = await ReservationExpirer.start(dsn)
    await expirer.stop()
    statuses = Counter(a.status for a in await reads.my_assignments(pool, ann, None))
    assert statuses == {AssignmentStatus.EXPIRED: 2, AssignmentStatus.ACCEPTED: 1}


async def test_accepting_a_reservation_that_ran_out__expires_it_and_refuses(
    pool, dsn, tenant
) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant)
    await tasks_of(pool, tenant, project, 1)
    ann = worker(tenant, "ann")
    mine = await flows.claim_next(pool, ann, str(project.id), "annotate")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("update task_assignments set expires_at = now() - interval '1 second'")
    finally:
        await conn.close()
    with pytest.raises(InvalidTransition) as exc:
        await flows.move(pool, ann, str(mine.id), Action.ACCEPT, CONFIG)
    assert exc.value.from_ is AssignmentStatus.EXPIRED
    (now,) = await reads.my_assignments(pool, ann, None)
    assert now.status is AssignmentStatus.EXPIRED and now.task.status is TaskStatus.OPEN
    system = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        assert await expire_due(system) == 0  # nothing left for the expirer
    finally:
        await system.close()


# ---------------------------------------------------------------- tenancy


async def test_another_tenant__finds_nothing_of_this_one(pool, tenant) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant)
    (task,) = await tasks_of(pool, tenant, project, 1)
    mine = await flows.claim_next(pool, worker(tenant, "ann"), str(project.id), "annotate")
    other = uuid.uuid4()
    with pytest.raises(NotFound):
        await reads.get_project(pool, admin(other), str(project.id))
    with pytest.raises(NotFound):
        await flows.assign_task(pool, admin(other), task, "annotate", CONFIG)
    with pytest.raises(NotFound):
        await flows.explain_assignment(pool, admin(other), task, "annotate", CONFIG)
    with pytest.raises(NotFound):
        await flows.claim_next(pool, worker(other, "ann"), str(project.id), "annotate")
    with pytest.raises(NotFound):
        await flows.move(pool, worker(other, "ann"), str(mine.id), Action.ACCEPT, CONFIG)
    with pytest.raises(NotFound):
        await flows.heartbeat(pool, worker(other, "ann"), str(project.id), CONFIG)
    assert await reads.my_assignments(pool, worker(other, "ann"), None) == []


# ---------------------------------------------------------------- concurrency


async def test_100_workers_claiming_1000_tasks_at_once__never_share_a_task(
    pool, dsn, tenant
) -> None:
    await workers_of(pool, tenant, {f"w{i:03}": ((), 0.5) for i in range(100)})
    project = await project_of(pool, tenant)
    await tasks_of(pool, tenant, project, 1000)
    claimed: list[str] = []

    async def claim_all(user: str) -> None:
        who = worker(tenant, user)
        while True:
            try:
                got = await flows.claim_next(pool, who, str(project.id), "annotate")
            except NoTaskAvailable:
                return
            assert got.user_id == user and got.status is AssignmentStatus.ASSIGNED
            claimed.append(str(got.task.id))

    await asyncio.gather(*(claim_all(f"w{i:03}") for i in range(100)))
    assert len(claimed) == 1000 and len(set(claimed)) == 1000
    twice = await superuser_fetch(
        dsn,
        "select task_id from task_assignments group by task_id, step_id having count(*) > 1",
    )
    assert twice == []


async def test_one_worker_firing_20_claims_at_once__never_exceeds_max_concurrent(
    pool, dsn, tenant
) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5)})
    project = await project_of(pool, tenant, max_concurrent_per_user=3)
    await tasks_of(pool, tenant, project, 30)
    ann = worker(tenant, "ann")
    results = await asyncio.gather(
        *(flows.claim_next(pool, ann, str(project.id), "annotate") for _ in range(20)),
        return_exceptions=True,
    )
    got = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, NoTaskAvailable)]
    assert len(got) == 3 and len(refused) == 17, results
    assert all("at 3 of 3" in r.message for r in refused)


async def test_cross_step_exclusion_under_a_race__the_annotator_never_reviews(pool, tenant) -> None:
    await workers_of(pool, tenant, {"ann": ((), 0.5), "bob": ((), 0.5)})
    for _ in range(5):
        project = await project_of(pool, tenant)
        await tasks_of(pool, tenant, project, 1)
        ann = worker(tenant, "ann")
        mine = await flows.claim_next(pool, ann, str(project.id), "annotate")
        for action in (Action.ACCEPT, Action.START, Action.SUBMIT):
            await flows.move(pool, ann, str(mine.id), action, CONFIG)
        results = await asyncio.gather(
            flows.claim_next(pool, ann, str(project.id), "review"),
            flows.claim_next(pool, worker(tenant, "bob"), str(project.id), "review"),
            return_exceptions=True,
        )
        assert isinstance(results[0], NoTaskAvailable), results
        assert not isinstance(results[1], BaseException) and results[1].user_id == "bob"


async def test_two_processes_expirers_at_once__expire_each_reservation_exactly_once(
    pool, dsn, tenant
) -> None:
    await workers_of(pool, tenant, {f"w{i}": ((), 0.5) for i in range(30)})
    project = await project_of(pool, tenant, reservation_timeout_seconds=1)
    await tasks_of(pool, tenant, project, 30)
    for i in range(30):
        await flows.claim_next(pool, worker(tenant, f"w{i}"), str(project.id), "annotate")
    expirers = await asyncio.gather(ReservationExpirer.start(dsn), ReservationExpirer.start(dsn))
    try:
        for _ in range(100):
            rows = await superuser_fetch(dsn, "select status, version from task_assignments")
            if all(r["status"] == "EXPIRED" for r in rows):
                break
            await asyncio.sleep(0.05)
    finally:
        await asyncio.gather(*(e.stop() for e in expirers))
    assert len(rows) == 30 and {(r["status"], r["version"]) for r in rows} == {("EXPIRED", 2)}
    tasks = await superuser_fetch(dsn, "select status, version from work_tasks")
    assert {(t["status"], t["version"]) for t in tasks} == {("OPEN", 3)}  # taken, then freed once
