"""Party commands, one transaction each: read, plan, commit; triggers notify.

An assign locks the party, reads its guests, pool and current plan, plans the whole party in
memory (plan.py, pure), and writes the plan in one statement that replaces the previous one;
the database checks the hard rules again at commit (party_check_plan), so a wrong plan never
lands and a failed one leaves the previous plan as it was. Two assigns at once queue on the
party's lock: exactly one plan is there after each, and a reader sees one plan or the other.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable

import asyncpg

from db.errors import translated
from db.pool import tenant_transaction
from services.core.ids import parse_id
from services.core.principal import Principal, Role
from services.errors import Problems
from services.party import inputs, store
from services.party.errors import CONSTRAINTS, no_such_party
from services.party.model import Assigned
from services.party.plan import PartyPlan, PlanRequest, plan_party
from services.party.reads import read_party

Planner = Callable[[PlanRequest, random.Random], PartyPlan]


async def assign_missions(
    pool: asyncpg.Pool,
    who: Principal,
    raw_id: str,
    *,
    per_participant: int = 3,
    min_types: int = 2,
    seed: int | None = None,
    planner: Planner = plan_party,
) -> Assigned:
    """Plan every guest's missions and replace the party's plan with it, or raise Infeasible
    (nothing written). `seed` makes the plan reproducible; without it the draw is secure."""
    who.require(Role.ADMIN)
    problems = Problems()
    inputs.plan_rules(problems, per_participant, min_types)
    problems.raise_if_any()
    party_id = parse_id(raw_id)
    rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
    async with translated(CONSTRAINTS), tenant_transaction(pool, who.tenant_id) as conn:
        party = await store.lock_party(conn, party_id) if party_id is not None else None
        if party is None:
            raise no_such_party()
        request = await store.plan_request(conn, party["id"], per_participant, min_types)
        plan = planner(request, rng)
        written = await store.write_plan(conn, party["id"], request, plan)
    return Assigned(await read_party(pool, who.tenant_id, party["id"]), written)
