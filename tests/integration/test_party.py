"""Party against real PostgreSQL: setup and its validation, whole-party plans and the rules the
database holds at commit, secrecy, tenancy, concurrent assigns and a failure half-way."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import replace

import asyncpg
import pytest

from db.errors import ConstraintViolation
from services.core.principal import Principal, Role
from services.errors import Forbidden, InvalidInput, NotFound
from services.party import flows, reads, setup
from services.party.errors import Infeasible
from services.party.inputs import NewMission, NewParticipant
from services.party.model import ROLES, MissionType, PartyView
from services.party.plan import PartyPlan, PlanRequest, plan_party

pytestmark = pytest.mark.integration


def admin(tenant: uuid.UUID) -> Principal:
    return Principal(user_id="boss", tenant_id=tenant, roles=frozenset({Role.ADMIN}))


def guest(tenant: uuid.UUID, user: str) -> Principal:
    return Principal(user_id=user, tenant_id=tenant, roles=frozenset({Role.PLAYER}))


def missions(books: int, passphrases: int, objects: int) -> list[NewMission]:
    counts = {MissionType.BOOK: books, MissionType.PASSPHRASE: passphrases}
    counts[MissionType.OBJECT] = objects
    return [
        NewMission(kind, f"{kind.value.title()} {i}", f"Do {kind.value.lower()} thing {i}")
        for kind, n in counts.items()
        for i in range(n)
    ]


async def party_of(
    pool: asyncpg.Pool, tenant: uuid.UUID, guests: int, pool_: tuple[int, int, int]
) -> PartyView:
    """A party with guests g0.. and a pool of (BOOK, PASSPHRASE, OBJECT) missions."""
    boss = admin(tenant)
    party = await setup.create_party(pool, boss, "Friday")
    if guests:
        people = [NewParticipant(f"g{i}", f"Guest {i}") for i in range(guests)]
        party = await setup.add_participants(pool, boss, str(party.id), people)
    if any(pool_):
        party = await setup.add_missions(pool, boss, str(party.id), missions(*pool_))
    return party


async def stored_slots(dsn: str, party_id: uuid.UUID) -> list[asyncpg.Record]:
    """The party's slots as the database holds them (read as the superuser: no RLS)."""
    conn = await asyncpg.connect(dsn)
    try:
        return list(
            await conn.fetch(
                "select s.mission_id, s.mission_type, s.slot, s.role, s.participant_id "
                "from party_slots s where s.party_id = $1 order by s.mission_id, s.slot",
                party_id,
            )
        )
    finally:
        await conn.close()


def assert_hard_rules(party: PartyView, slots: list[asyncpg.Record], k: int, m: int) -> None:
    """Every guest in exactly k missions of >= m types; used missions whole; no one twice."""
    by_mission: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for s in slots:
        by_mission[s["mission_id"]].append(s)
    types = {mi.id: mi.type for mi in party.missions}
    for mission_id, filled in by_mission.items():
        roles = ROLES[types[mission_id]]
        assert [s["role"] for s in filled] == [r.value for r in roles]
        holders = [s["participant_id"] for s in filled]
        assert len(set(holders)) == len(holders)
    per = Counter(s["participant_id"] for s in slots)
    kinds: dict[uuid.UUID, set[str]] = defaultdict(set)
    for s in slots:
        kinds[s["participant_id"]].add(s["mission_type"])
    assert {p.id for p in party.participants} == set(per)
    assert set(per.values()) == {k}
    assert min(len(v) for v in kinds.values()) >= m


# ---------------------------------------------------------------- setup


async def test_create_party__needs_an_admin_and_a_name(pool, tenant) -> None:
    with pytest.raises(Forbidden):
        await setup.create_party(pool, guest(tenant, "g0"), "Friday")
    for bad in ("", "   ", "x" * 101, "tab\tbed"):
        with pytest.raises(InvalidInput) as exc:
            await setup.create_party(pool, admin(tenant), bad)
        assert [p.field for p in exc.value.fields] == ["name"]
    party = await setup.create_party(pool, admin(tenant), "  Friday  ")
    assert (party.name, party.participants, party.missions) == ("Friday", (), ())
    assert party.assigned_at is None and party.version == 1


async def test_add_participants__bad_batches_name_each_field_and_write_nothing(
    pool, tenant
) -> None:
    party = await party_of(pool, tenant, 2, (0, 0, 0))
    boss = admin(tenant)
    cases = {
        ("participants",): [],
        ("participants[1].userId",): [NewParticipant("x", "X"), NewParticipant("x", "Y")],
        ("participants[0].displayName",): [NewParticipant("x", " ")],
        ("participants[0].userId",): [NewParticipant("g1", "Again")],
        ("participants[0].userId", "participants[1].displayName"): [
            NewParticipant("", "A"),
            NewParticipant("b", "line\nbreak"),
        ],
    }
    for fields, batch in cases.items():
        with pytest.raises(InvalidInput) as exc:
            await setup.add_participants(pool, boss, str(party.id), batch)
        assert tuple(p.field for p in exc.value.fields) == fields, batch
    after = await reads.get_party(pool, boss, str(party.id))
    assert after == party


async def test_add_participants__more_than_ten_thousand_is_refused_whole(pool, tenant) -> None:
    party = await party_of(pool, tenant, 9_999, (0, 0, 0))
    boss = admin(tenant)
    two = [NewParticipant("n1", "N1"), NewParticipant("n2", "N2")]
    with pytest.raises(InvalidInput) as exc:
        await setup.add_participants(pool, boss, str(party.id), two)
    assert [p.field for p in exc.value.fields] == ["participants"]
    assert "10,000" in exc.value.message
    one = await setup.add_participants(pool, boss, str(party.id), two[:1])
    assert len(one.participants) == 10_000


async def test_setup_of_an_unknown_or_foreign_party__names_party_id(pool, tenant) -> None:
    theirs = await party_of(pool, uuid.uuid4(), 1, (1, 0, 0))
    for raw in (str(uuid.uuid4()), "not-an-id", str(theirs.id)):
        with pytest.raises(InvalidInput) as exc:
            await setup.add_participants(pool, admin(tenant), raw, [NewParticipant("a", "A")])
        assert [p.field for p in exc.value.fields] == ["partyId"]
        with pytest.raises(InvalidInput) as exc:
            await setup.add_missions(pool, admin(tenant), raw, missions(1, 0, 0))
        assert [p.field for p in exc.value.fields] == ["partyId"]


async def test_add_missions__bad_fields_are_named_and_nothing_is_written(pool, tenant) -> None:
    party = await party_of(pool, tenant, 0, (1, 1, 1))
    batch = [
        NewMission(MissionType.OBJECT, "Fine", "ok"),
        NewMission(MissionType.BOOK, "", "x"),
        NewMission(MissionType.PASSPHRASE, "P", "  "),
    ]
    with pytest.raises(InvalidInput) as exc:
        await setup.add_missions(pool, admin(tenant), str(party.id), batch)
    assert [p.field for p in exc.value.fields] == ["missions[1].title", "missions[2].detail"]
    after = await reads.get_party(pool, admin(tenant), str(party.id))
    assert after == party
    assert [len(mi.slots) for mi in after.missions] == [2, 3, 1]
    assert all(s.participant is None for mi in after.missions for s in mi.slots)


# ---------------------------------------------------------------- assign


async def test_assign__every_guest_gets_three_missions_of_two_types_checked_in_the_database(
    pool, dsn, tenant
) -> None:
    party = await party_of(pool, tenant, 12, (8, 6, 14))
    result = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=1)
    assert result.assigned_slots == 36
    assert result.party.assigned_at is not None and result.party.version == party.version + 1
    slots = await stored_slots(dsn, party.id)
    assert len(slots) == 36
    assert_hard_rules(result.party, slots, 3, 2)
    # The answer shows what was stored.
    shown = {
        (mi.id, i, s.participant.id)
        for mi in result.party.missions
        for i, s in enumerate(mi.slots)
        if s.participant is not None
    }
    assert shown == {(s["mission_id"], s["slot"], s["participant_id"]) for s in slots}


async def test_assign__other_rules_and_seed_reproduce_the_same_plan(pool, dsn, tenant) -> None:
    a = await party_of(pool, tenant, 7, (6, 6, 6))
    b = await party_of(pool, tenant, 7, (6, 6, 6))
    plans = []
    for party in (a, b):
        done = await flows.assign_missions(
            pool, admin(tenant), str(party.id), per_participant=2, min_types=2, seed=42
        )
        assert_hard_rules(done.party, await stored_slots(dsn, party.id), 2, 2)
        where = {p.id: i for i, p in enumerate(done.party.participants)}
        plans.append(
            [
                [where[s.participant.id] if s.participant else None for s in mi.slots]
                for mi in done.party.missions
            ]
        )
    assert plans[0] == plans[1]


async def test_assign__infeasible_pool_says_why_and_keeps_the_previous_plan(
    pool, dsn, tenant
) -> None:
    party = await party_of(pool, tenant, 4, (2, 2, 2))
    first = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=3)
    before = await stored_slots(dsn, party.id)
    with pytest.raises(Infeasible) as exc:
        await flows.assign_missions(pool, admin(tenant), str(party.id), per_participant=5)
    assert exc.value.reasons and any(ch.isdigit() for ch in " ".join(exc.value.reasons))
    assert await stored_slots(dsn, party.id) == before
    assert await reads.get_party(pool, admin(tenant), str(party.id)) == first.party

    only_books = await party_of(pool, tenant, 4, (10, 0, 0))
    with pytest.raises(Infeasible) as exc:
        await flows.assign_missions(pool, admin(tenant), str(only_books.id))
    assert any("BOOK" in r for r in exc.value.reasons)


async def test_assign__bad_rules_name_the_field_and_unknown_party_is_not_found(
    pool, tenant
) -> None:
    party = await party_of(pool, tenant, 3, (3, 3, 3))
    with pytest.raises(InvalidInput) as exc:
        await flows.assign_missions(
            pool, admin(tenant), str(party.id), per_participant=0, min_types=4
        )
    assert [p.field for p in exc.value.fields] == ["missionsPerParticipant", "minDistinctTypes"]
    for raw in (str(uuid.uuid4()), "x"):
        with pytest.raises(NotFound):
            await flows.assign_missions(pool, admin(tenant), raw)
    with pytest.raises(NotFound):
        await flows.assign_missions(pool, admin(uuid.uuid4()), str(party.id))
    with pytest.raises(Forbidden):
        await flows.assign_missions(pool, guest(tenant, "g0"), str(party.id))


async def test_replan__replaces_the_whole_plan_and_spreads_the_pool(pool, dsn, tenant) -> None:
    party = await party_of(pool, tenant, 6, (9, 6, 18))  # twice what a plan needs
    first = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=5)
    again = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=5)
    slots = await stored_slots(dsn, party.id)
    assert_hard_rules(again.party, slots, 3, 2)
    assert again.party.version == first.party.version + 1

    def pairs(p: PartyView) -> set[tuple[uuid.UUID, uuid.UUID]]:
        return {(s.participant.id, mi.id) for mi in p.missions for s in mi.slots if s.participant}

    assert not pairs(first.party) & pairs(again.party), "a guest got a mission they had before"


async def test_adding_after_a_plan__leaves_it_until_the_next_assign(pool, dsn, tenant) -> None:
    party = await party_of(pool, tenant, 5, (6, 6, 6))
    done = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=9)
    before = await stored_slots(dsn, party.id)
    late = await setup.add_participants(
        pool, admin(tenant), str(party.id), [NewParticipant("late", "Late")]
    )
    more = await setup.add_missions(pool, admin(tenant), str(party.id), missions(1, 1, 1))
    assert await stored_slots(dsn, party.id) == before
    assert more.assigned_at == done.party.assigned_at and len(late.participants) == 6
    # The late guest is a guest, with no missions until the next assign.
    assert await reads.my_missions(pool, guest(tenant, "late"), str(party.id)) == []
    replanned = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=9)
    assert_hard_rules(replanned.party, await stored_slots(dsn, party.id), 3, 2)


# ---------------------------------------------------------------- who sees what


async def test_guests_see_every_mission_but_only_their_own_slots(pool, tenant) -> None:
    party = await party_of(pool, tenant, 6, (4, 3, 6))
    whole = (await flows.assign_missions(pool, admin(tenant), str(party.id), seed=2)).party
    for i, p in enumerate(whole.participants):
        who = guest(tenant, f"g{i}")
        seen = await reads.get_party(pool, who, str(party.id))
        assert [mi.id for mi in seen.missions] == [mi.id for mi in whole.missions]
        assert seen.participants == whole.participants
        holders = {s.participant for mi in seen.missions for s in mi.slots} - {None}
        assert holders == {p}
        mine = await reads.my_missions(pool, who, str(party.id))
        assert len(mine) == 3 and len({m.mission.type for m in mine}) >= 2
        for m in mine:
            full = next(mi for mi in whole.missions if mi.id == m.mission.id)
            assert m.role in {s.role for s in full.slots if s.participant == p}
            assert [s.participant for s in m.mission.slots if s.participant] == [p]


async def test_anyone_else_gets_not_found(pool, tenant) -> None:
    party = await party_of(pool, tenant, 3, (3, 3, 3))
    strangers = [
        guest(tenant, "not-invited"),
        guest(uuid.uuid4(), "g0"),  # the same user id in another tenant
        Principal(user_id="g0", tenant_id=tenant, roles=frozenset({Role.STAFF})),
        Principal(user_id="boss", tenant_id=uuid.uuid4(), roles=frozenset({Role.ADMIN})),
    ]
    for who in strangers:
        with pytest.raises(NotFound):
            await reads.get_party(pool, who, str(party.id))
        with pytest.raises(NotFound):
            await reads.my_missions(pool, who, str(party.id))
    with pytest.raises(NotFound):
        await reads.get_party(pool, admin(tenant), "nope")


# ---------------------------------------------------------------- atomicity and concurrency


def _broken(kind: str):
    """A planner whose plan breaks one hard rule, for the database to refuse at commit."""

    def planner(request: PlanRequest, rng: random.Random) -> PartyPlan:
        plan = plan_party(request, rng)
        slots = list(plan.slots)
        if kind == "half mission":
            victim = next(s for s in slots if s.slot == 1)
            slots.remove(victim)
        elif kind == "two missions":  # the first guest loses a whole one-slot mission
            victim = next(s for s in slots if s.role.value == "AGENT")
            slots.remove(victim)
        else:  # one guest in one mission twice
            first, second = next(
                (a, b) for a, b in itertools.pairwise(slots) if a.mission_id == b.mission_id
            )
            slots[slots.index(second)] = replace(second, participant_id=first.participant_id)
        return PartyPlan(tuple(slots))

    return planner


@pytest.mark.parametrize("kind", ["half mission", "two missions", "twice in one"])
async def test_a_plan_the_database_refuses__writes_nothing_and_keeps_the_old_one(
    pool, dsn, tenant, kind
) -> None:
    party = await party_of(pool, tenant, 6, (4, 3, 8))
    first = await flows.assign_missions(pool, admin(tenant), str(party.id), seed=1)
    before = await stored_slots(dsn, party.id)
    with pytest.raises(ConstraintViolation) as exc:
        await flows.assign_missions(
            pool, admin(tenant), str(party.id), seed=2, planner=_broken(kind)
        )
    assert exc.value.constraint.startswith("party_")
    assert await stored_slots(dsn, party.id) == before
    assert await reads.get_party(pool, admin(tenant), str(party.id)) == first.party


async def test_slots_written_by_hand__are_checked_at_commit_too(pool, dsn, tenant) -> None:
    party = await party_of(pool, tenant, 3, (0, 0, 3))
    conn = await asyncpg.connect(dsn)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                # a plan recorded for 3 guests, but only one of them gets a mission
                await conn.execute(
                    "update parties set assigned_at = now(), missions_per_participant = 1, "
                    "min_distinct_types = 1, planned_participants = 3 where id = $1",
                    party.id,
                )
                await conn.execute(
                    "insert into party_slots (tenant_id, party_id, mission_id, mission_type, "
                    "slot, role, participant_id) select p.tenant_id, p.id, m.id, m.type, 0, "
                    "'AGENT', pp.id from parties p join party_missions m on m.party_id = p.id "
                    "join party_participants pp on pp.party_id = p.id "
                    "where p.id = $1 and m.position = 0 and pp.position = 0",
                    party.id,
                )
    finally:
        await conn.close()
    assert await stored_slots(dsn, party.id) == []


async def test_two_assigns_at_once__leave_exactly_one_valid_plan(pool, dsn, tenant) -> None:
    party = await party_of(pool, tenant, 20, (15, 10, 30))
    results = await asyncio.gather(
        *(flows.assign_missions(pool, admin(tenant), str(party.id), seed=s) for s in range(4))
    )
    assert sorted(r.party.version for r in results) == [party.version + i for i in range(1, 5)]
    final = max(results, key=lambda r: r.party.version).party
    slots = await stored_slots(dsn, party.id)
    assert len(slots) == 60
    assert_hard_rules(final, slots, 3, 2)
    assert await reads.get_party(pool, admin(tenant), str(party.id)) == final


async def test_a_reader_during_replans__always_sees_one_whole_plan(pool, tenant) -> None:
    party = await party_of(pool, tenant, 15, (12, 8, 20))
    await flows.assign_missions(pool, admin(tenant), str(party.id), seed=0)
    stop = asyncio.Event()

    async def replan() -> None:
        for s in range(1, 8):
            await flows.assign_missions(pool, admin(tenant), str(party.id), seed=s)
        stop.set()

    async def read() -> int:
        reads_done = 0
        while not stop.is_set():
            seen = await reads.get_party(pool, admin(tenant), str(party.id))
            held = Counter(
                s.participant.id for mi in seen.missions for s in mi.slots if s.participant
            )
            assert set(held.values()) == {3} and len(held) == 15, seen.version
            for mi in seen.missions:
                filled = [s for s in mi.slots if s.participant]
                assert len(filled) in (0, len(mi.slots))
            reads_done += 1
        return reads_done

    _, done = await asyncio.gather(replan(), read())
    assert done > 0
