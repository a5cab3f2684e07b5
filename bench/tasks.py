"""Tasks benchmarks: claims under load, and assignment with 1,000 workers, over the real server.

1. Claims: a project (steps annotate, review; CAPACITY_BASED; at most 1,000 active per
   worker; reservations of an hour) with 10,000 open tasks at `annotate` and 100 worker
   profiles. 100 worker clients (each on its own keep-alive connection, with its own token)
   loop `claimNextTask` as fast as they can until it answers NoTaskAvailable. Measured with
   one server process and with two (uvicorn --workers 2) on the same database, a fresh
   project and tasks for each: claims per second (claims / wall time), p50 and p99 claim
   latency, and, counted afterwards in the database, the claims and any task claimed twice
   at a step (there must be none, and 10,000 claims).
2. Assignment with 1,000 workers: a HYBRID project, 1,000 worker profiles with mixed skills
   and quality scores, every one present (a fresh presence row before each phase); one admin
   client, sequentially: 200 `assignTask` calls on distinct tasks, then 200
   `explainAssignment` queries on other distinct tasks (each after 10 warm-up calls).

Targets: 1,000 claims/s with two server processes, no duplicate claims; assignTask p50 under
20 ms with 1,000 workers.

The projects, tasks and profiles are set up in this process through the service layer (no
server involved); the measured calls go over HTTP to uvicorn server processes. It starts its
own PostgreSQL (embedded, deleted on exit, or uses DATABASE_URL with a scratch database that
it drops at the end).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._http import GraphQLClient  # noqa: E402
from bench._stats import ms, pct  # noqa: E402
from db.pool import create_pool  # noqa: E402
from server.auth import issue_token  # noqa: E402
from services.core.principal import Principal, Role  # noqa: E402
from services.tasks import setup  # noqa: E402
from services.tasks.inputs import NewTask, Profile, ProjectDraft  # noqa: E402
from services.tasks.model import LoadBalancingStrategy  # noqa: E402
from tests.support import dbs  # noqa: E402
from tests.support.server import TEST_SECRET, serve_subprocess  # noqa: E402

STEP = "annotate"
CLAIM_TASKS = 10_000
CLAIM_WORKERS = 100
PROCESSES = (1, 2)
ASSIGN_WORKERS = 1_000
CALLS = 200
WARM_UP = 10
SKILLS = ("en", "fr", "de", "es", "audio", "image", "video", "medical")

CLAIM = """mutation($p: ID!) { claimNextTask(input: {projectId: $p, stepId: "annotate"}) {
  __typename ... on AssignmentPayload { assignment { id } } ... on Error { message } } }"""
ASSIGN = """mutation($t: ID!) { assignTask(input: {taskId: $t, stepId: "annotate"}) {
  __typename ... on AssignmentPayload { assignment { id userId } } ... on Error { message } } }"""
EXPLAIN = """query($t: ID!) { explainAssignment(taskId: $t, stepId: "annotate") {
  userId eligible score reasons } }"""

PRESENT = """insert into worker_presence (tenant_id, project_id, user_id)
select $1, $2, u from unnest($3::text[]) as u
on conflict (project_id, user_id) do update set last_seen_at = now()"""
DUPLICATES = """select task_id, step_id, count(*) from task_assignments where project_id = $1
group by 1, 2 having count(*) > 1"""


def admin_of(tenant: uuid.UUID) -> Principal:
    return Principal(user_id="admin", tenant_id=tenant, roles=frozenset({Role.ADMIN}))


def token(tenant: uuid.UUID, user: str, role: Role) -> str:
    return issue_token(TEST_SECRET, tenant=tenant, user=user, roles=[role])


async def new_project(
    pool: asyncpg.Pool,
    boss: Principal,
    name: str,
    strategy: LoadBalancingStrategy,
    max_concurrent: int,
    tasks: list[NewTask],
) -> tuple[str, list[str]]:
    """A project at steps annotate, review with `tasks`; its id and the tasks' ids."""
    project = await setup.create_project(
        pool,
        boss,
        ProjectDraft(
            name,
            ["annotate", "review"],
            strategy,
            max_concurrent_per_user=max_concurrent,
            reservation_timeout_seconds=3600,
        ),
    )
    ids: list[str] = []
    for start in range(0, len(tasks), 10_000):
        made = await setup.create_tasks(pool, boss, str(project.id), tasks[start : start + 10_000])
        ids += [str(t.id) for t in made]
    return str(project.id), ids


# ---------------------------------------------------------------- 1. claims


@dataclass
class ClaimRun:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def cpu_of(processes: list[psutil.Process]) -> float:
    """The processes' CPU time so far (user + system), in seconds."""
    return sum(t.user + t.system for t in (p.cpu_times() for p in processes))


def busy() -> float:
    """The machine's CPU time so far, all cores, not idle or waiting for I/O."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


async def claim_loop(client: GraphQLClient, project_id: str, run: ClaimRun) -> None:
    """Claim until NoTaskAvailable (or an error, recorded)."""
    while True:
        start = time.perf_counter()
        try:
            answer = (await client.call(CLAIM, {"p": project_id}))["claimNextTask"]
        except (RuntimeError, OSError, asyncio.IncompleteReadError) as error:
            run.errors.append(f"{type(error).__name__}: {error}")
            return
        took = time.perf_counter() - start
        kind = answer["__typename"]
        if kind == "NoTaskAvailable":
            return
        if kind != "AssignmentPayload":
            run.errors.append(f"claimNextTask answered {answer}")
            return
        run.latencies.append(took)


async def bench_claims(dsn: str, pool: asyncpg.Pool, processes: int) -> None:
    tenant = uuid.uuid4()
    boss = admin_of(tenant)
    began = time.perf_counter()
    project_id, _ = await new_project(
        pool,
        boss,
        f"Claims with {processes} processes",
        LoadBalancingStrategy.CAPACITY_BASED,
        1_000,
        [NewTask(STEP) for _ in range(CLAIM_TASKS)],
    )
    users = [f"w{i}" for i in range(CLAIM_WORKERS)]
    for user in users:
        await setup.set_worker_profile(pool, boss, Profile(user, (), None, True))
    set_up = time.perf_counter() - began

    with serve_subprocess(dsn, workers=processes) as server:
        assert server.pid is not None
        master = psutil.Process(server.pid)
        servers = [master, *master.children(recursive=True)]
        clients = [GraphQLClient(server.base_url, token(tenant, u, Role.WORKER)) for u in users]
        run = ClaimRun()
        try:
            cpu = (time.process_time(), cpu_of(servers), busy())
            start = time.perf_counter()
            await asyncio.gather(*(claim_loop(c, project_id, run) for c in clients))
            wall = time.perf_counter() - start
            client_cpu = time.process_time() - cpu[0]
            server_cpu = cpu_of(servers) - cpu[1]
            machine_cpu = busy() - cpu[2]
        finally:
            for c in clients:
                await c.close()

    conn = await asyncpg.connect(dsn)
    try:
        duplicates = await conn.fetch(DUPLICATES, uuid.UUID(project_id))
        in_db = await conn.fetchval(
            "select count(*) from task_assignments where project_id = $1", uuid.UUID(project_id)
        )
        still_open = await conn.fetchval(
            "select count(*) from work_tasks where project_id = $1 and status = 'OPEN'",
            uuid.UUID(project_id),
        )
    finally:
        await conn.close()

    claims = len(run.latencies)
    noun = "process" if processes == 1 else "processes"
    print(f"   {processes} server {noun} (set up in {set_up:.1f} s):")
    if claims:
        print(
            f"      {claims:,} claims in {wall:.2f} s: {claims / wall:,.0f} claims/s; "
            f"latency p50 {ms(statistics.median(run.latencies))}  "
            f"p99 {ms(pct(run.latencies, 99))}  max {ms(max(run.latencies))}"
        )
    print(
        f"      in the database: {in_db:,} assignments (expected {CLAIM_TASKS:,}), "
        f"{len(duplicates)} task-steps claimed more than once, {still_open:,} tasks still open"
    )
    print(
        f"      CPU in the run: {machine_cpu:.1f} s busy of {psutil.cpu_count()} cores x "
        f"{wall:.1f} s; clients {client_cpu:.1f} s, server processes {server_cpu:.1f} s, "
        f"the rest (PostgreSQL, ...) {machine_cpu - client_cpu - server_cpu:.1f} s"
    )
    if run.errors:
        print(f"      {len(run.errors)} workers stopped on an error; the first: {run.errors[0]}")


# ---------------------------------------------------------------- 2. assignment


def worker_profiles(rng: random.Random) -> list[Profile]:
    """1,000 workers with 1 to 4 skills each and a quality score (a tenth without one)."""
    out = []
    for i in range(ASSIGN_WORKERS):
        skills = tuple(rng.sample(SKILLS, rng.randint(1, 4)))
        quality = None if rng.random() < 0.1 else round(rng.uniform(0.3, 1.0), 3)
        out.append(Profile(f"w{i}", skills, quality, True))
    return out


def skilled_tasks(rng: random.Random, n: int) -> list[NewTask]:
    """Tasks needing no skill, one or two of SKILLS, at mixed priorities."""
    return [
        NewTask(STEP, rng.randint(0, 10), tuple(rng.sample(SKILLS, rng.choice((0, 1, 1, 2)))))
        for _ in range(n)
    ]


async def timed(
    client: GraphQLClient, query: str, task_ids: list[str]
) -> tuple[list[float], list[dict[str, Any]]]:
    """Each call in turn: its time and its answer."""
    times, answers = [], []
    for task_id in task_ids:
        start = time.perf_counter()
        answers.append(await client.call(query, {"t": task_id}))
        times.append(time.perf_counter() - start)
    return times, answers


def line(name: str, times: list[float]) -> str:
    return (
        f"   {name}: p50 {ms(statistics.median(times))}  p90 {ms(pct(times, 90))}  "
        f"p99 {ms(pct(times, 99))}  max {ms(max(times))}  ({len(times)} calls)"
    )


async def bench_assign(dsn: str, pool: asyncpg.Pool) -> None:
    print(
        f"2. assignment with {ASSIGN_WORKERS:,} present workers (HYBRID, mixed skills and "
        f"quality), one admin client, sequential, after {WARM_UP} warm-up calls each"
    )
    rng = random.Random(2024)
    tenant = uuid.uuid4()
    boss = admin_of(tenant)
    began = time.perf_counter()
    per_phase = WARM_UP + CALLS
    project_id, task_ids = await new_project(
        pool,
        boss,
        "Assignment",
        LoadBalancingStrategy.HYBRID,
        10,
        skilled_tasks(rng, 2 * per_phase),
    )
    profiles = worker_profiles(rng)
    for profile in profiles:
        await setup.set_worker_profile(pool, boss, profile)
    users = [p.user_id for p in profiles]
    set_up = time.perf_counter() - began
    print(f"   set up in {set_up:.1f} s: {len(task_ids)} tasks, {len(users):,} worker profiles")

    conn = await asyncpg.connect(dsn)
    try:
        with serve_subprocess(dsn) as server:
            client = GraphQLClient(server.base_url, token(tenant, "admin", Role.ADMIN))
            try:
                assign_ids, explain_ids = task_ids[:per_phase], task_ids[per_phase:]
                await conn.execute(PRESENT, tenant, uuid.UUID(project_id), users)
                await timed(client, ASSIGN, assign_ids[:WARM_UP])
                assign_times, assigned = await timed(client, ASSIGN, assign_ids[WARM_UP:])
                await conn.execute(PRESENT, tenant, uuid.UUID(project_id), users)
                await timed(client, EXPLAIN, explain_ids[:WARM_UP])
                explain_times, explained = await timed(client, EXPLAIN, explain_ids[WARM_UP:])
            finally:
                await client.close()
    finally:
        await conn.close()

    outcomes = Counter(a["assignTask"]["__typename"] for a in assigned)
    chosen = Counter(
        a["assignTask"]["assignment"]["userId"]
        for a in assigned
        if a["assignTask"]["__typename"] == "AssignmentPayload"
    )
    print(line("assignTask", assign_times))
    print(
        f"      answers: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}; "
        f"{len(chosen)} distinct workers chosen"
    )
    odd = [
        a["assignTask"] for a in assigned if a["assignTask"]["__typename"] != "AssignmentPayload"
    ]
    if odd:
        print(f"      the first other answer: {odd[0]}")
    print(line("explainAssignment", explain_times))
    sizes = [len(e["explainAssignment"]) for e in explained]
    eligible = [sum(1 for c in e["explainAssignment"] if c["eligible"]) for e in explained]
    print(
        f"      candidates per answer: {min(sizes):,} to {max(sizes):,}; eligible: median "
        f"{statistics.median(eligible):,.0f} (from {min(eligible):,} to {max(eligible):,})"
    )


async def main() -> None:
    began = time.perf_counter()
    print("tasks bench")
    async with dbs.scratch_database() as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            print(
                f"1. claimNextTask: {CLAIM_WORKERS} workers claiming as fast as they can "
                f"until none is left, {CLAIM_TASKS:,} tasks (CAPACITY_BASED)"
            )
            for processes in PROCESSES:
                await bench_claims(dsn, pool, processes)
            print("   target: 1,000 claims/s with two processes; 0 duplicates, 10,000 claims")
            await bench_assign(dsn, pool)
            print(f"   target: assignTask p50 < 20 ms with {ASSIGN_WORKERS:,} workers")
        finally:
            await pool.close()
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
