"""Party benchmarks: planning and writing a whole party of 30, 1,000 and 10,000 guests.

For each size the pool is 20% larger than a plan needs, of all three types in the proportions
that let every guest get one of each (BOOK : PASSPHRASE : OBJECT missions = 1/2 : 1/3 : 1 per
guest). Measured:

1. plan: `plan_party` alone (pure, in this process), the median of a few runs;
2. assign: `flows.assign_missions` through the real service against PostgreSQL (lock, read the
   party, plan, one statement replacing the plan, the commit-time check, the answer), split
   into the planner's share and the rest (the write);
3. the soft goals of the plan that landed: the most missions any two guests share, and how
   many guests got three distinct types.

Targets: 10,000 guests planned in under 1 s and written in under 3 s; no two guests share
more than one mission when the pool allows it.

It starts its own PostgreSQL (embedded, deleted on exit, or uses DATABASE_URL with a scratch
database that it drops at the end).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._stats import ms  # noqa: E402
from db.pool import create_pool  # noqa: E402
from services.core.principal import Principal, Role  # noqa: E402
from services.party import flows, setup  # noqa: E402
from services.party.inputs import NewMission, NewParticipant  # noqa: E402
from services.party.model import MissionType  # noqa: E402
from services.party.plan import (  # noqa: E402
    PartyPlan,
    PlanRequest,
    distinct_types,
    plan_party,
    shared_most,
    violations,
)
from tests.support import dbs  # noqa: E402

SIZES = (30, 1_000, 10_000)
SPARE = 1.2  # the pool is 20% larger than a plan needs


def pool_for(n: int) -> list[NewMission]:
    """Missions for n guests with 20% to spare, of each type in the proportions of 1-1-1."""
    counts = {
        MissionType.BOOK: round(n / 2 * SPARE),
        MissionType.PASSPHRASE: round(n / 3 * SPARE),
        MissionType.OBJECT: round(n * SPARE),
    }
    return [
        NewMission(kind, f"{kind.value.title()} {i}", f"Mission {i} of type {kind.value}")
        for kind, count in counts.items()
        for i in range(count)
    ]


async def bench_size(dsn: str, n: int) -> None:
    tenant = uuid.uuid4()
    boss = Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))
    pool = await create_pool(dsn, min_size=1, max_size=4)
    try:
        began = time.perf_counter()
        party = await setup.create_party(pool, boss, f"Party of {n}")
        guests = [NewParticipant(f"guest-{i}", f"Guest {i}") for i in range(n)]
        await setup.add_participants(pool, boss, str(party.id), guests)
        await setup.add_missions(pool, boss, str(party.id), pool_for(n))
        set_up = time.perf_counter() - began

        requests: list[PlanRequest] = []
        plans: list[PartyPlan] = []
        plan_times: list[float] = []

        def timed(request: PlanRequest, rng: random.Random) -> PartyPlan:
            start = time.perf_counter()
            plan = plan_party(request, rng)
            plan_times.append(time.perf_counter() - start)
            requests.append(request)
            plans.append(plan)
            return plan

        totals = []
        landed = None
        for seed in range(3):
            start = time.perf_counter()
            landed = await flows.assign_missions(
                pool, boss, str(party.id), seed=seed, planner=timed
            )
            totals.append(time.perf_counter() - start)
        assert landed is not None
        request, plan = requests[-1], plans[-1]
        assert not violations(request, plan)
        pure = []
        for seed in range(3):
            start = time.perf_counter()
            plan_party(request, random.Random(seed))
            pure.append(time.perf_counter() - start)
        writes = [t - p for t, p in zip(totals, plan_times, strict=True)]
        three = sum(1 for v in distinct_types(request, plan).values() if v == 3)
        print(
            f"   n = {n:>6,}: {len(request.missions):>6,} missions, set up in {set_up:5.2f} s; "
            f"plan median {ms(statistics.median(pure))}; assign median "
            f"{ms(statistics.median(totals))} (plan {ms(statistics.median(plan_times))}, "
            f"write {ms(statistics.median(writes))}); {landed.assigned_slots:,} slots"
        )
        print(
            f"              most missions two guests share: {shared_most(plan)}; "
            f"guests with 3 distinct types: {three:,} of {n:,} ({three / n:.1%})"
        )
    finally:
        await pool.close()


async def main() -> None:
    began = time.perf_counter()
    print("party bench: plan and write a whole party, pool 20% larger than needed")
    async with dbs.scratch_database() as dsn:
        for n in SIZES:
            await bench_size(dsn, n)
    print("   targets: 10,000 guests planned < 1 s, written < 3 s; no two share > 1 mission")
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
