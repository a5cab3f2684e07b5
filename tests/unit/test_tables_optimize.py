"""The evening optimizer: table_sets() against validate(), optimize() against a brute force.

Every plan is checked with rules.validate: each new set, with the blocked ranges, the pinned
bookings' tables and every other booking's new tables as allocations, must have no violation
(so the sets follow the rules and nothing overlaps). The brute force tries every assignment of
small evenings, each booking's sets found by validate() over every table subset, and must
agree with the optimizer's (covers, empty seats, moves).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import combinations, product
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tables.candidates import rank_candidates
from services.tables.model import AllocationKind
from services.tables.optimize import (
    Blocked,
    EveningBooking,
    EveningPlan,
    Move,
    optimize,
    table_sets,
)
from services.tables.rules import AllocationInfo, BookingInfo, RulesConfig, TableInfo, validate
from tests.support.tables import NOW, RESTAURANT, START, by_id, new_id, table

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None)
HOUR = timedelta(hours=1)


def evening_booking(
    party: int,
    start: int = 0,
    hours: int = 2,
    current: Sequence[TableInfo] = (),
    pinned: bool = False,
) -> EveningBooking:
    """A booking starting `start` hours after START."""
    begin = START + start * HOUR
    return EveningBooking(
        new_id(), party, begin, begin + hours * HOUR, tuple(t.id for t in current), pinned
    )


def blocked(t: TableInfo, start: int = 0, hours: int = 2) -> Blocked:
    return Blocked(t.id, START + start * HOUR, START + (start + hours) * HOUR)


def solve(
    tables: Sequence[TableInfo],
    bookings: Sequence[EveningBooking],
    blocks: Sequence[Blocked] = (),
    config: RulesConfig | None = None,
) -> EveningPlan:
    return optimize(
        by_id(*tables), bookings, blocks, config or RulesConfig(), time_limit=10, workers=1
    )


def info(b: EveningBooking) -> BookingInfo:
    return BookingInfo(b.id, RESTAURANT, b.party_size, b.starts_at, b.ends_at, "CONFIRMED")


def allocation(
    table_id: UUID, booking_id: UUID, starts: datetime, ends: datetime
) -> AllocationInfo:
    return AllocationInfo(
        new_id(), table_id, booking_id, AllocationKind.ASSIGNMENT, starts, ends, None, None
    )


def block_allocations(blocks: Sequence[Blocked]) -> list[AllocationInfo]:
    return [allocation(b.table_id, new_id(), b.starts_at, b.ends_at) for b in blocks]


def check(
    plan: EveningPlan,
    tables: Sequence[TableInfo],
    bookings: Sequence[EveningBooking],
    blocks: Sequence[Blocked] = (),
    config: RulesConfig | None = None,
) -> None:
    """The plan's sets pass validate() against everything else on the floor; its figures add
    up; pinned bookings keep their tables."""
    rules = config or RulesConfig()
    others = block_allocations(blocks) + [
        allocation(t, b.id, b.starts_at, b.ends_at) for b in bookings for t in plan.tables[b.id]
    ]
    assert set(plan.tables) == {b.id for b in bookings}
    seats = {t.id: t.max_capacity for t in tables}
    for b in bookings:
        new = plan.tables[b.id]
        if b.pinned:
            assert new == b.current
            continue
        assert validate(info(b), new, by_id(*tables), others, NOW, rules) == []
    seated = [b for b in bookings if plan.tables[b.id]]
    assert plan.covers_after == sum(b.party_size for b in seated)
    assert plan.empty_seats_after == sum(
        sum(seats[t] for t in plan.tables[b.id]) - b.party_size for b in seated
    )
    before = [b for b in bookings if b.current]
    assert plan.covers_before == sum(b.party_size for b in before)
    assert plan.moves == tuple(
        Move(b.id, b.current, plan.tables[b.id])
        for b in bookings
        if b.current and set(plan.tables[b.id]) != set(b.current)
    )
    assert plan.newly_seated == tuple(b.id for b in bookings if plan.tables[b.id] and not b.current)
    assert plan.covers_bound >= plan.covers_after


def brute_force(
    tables: Sequence[TableInfo],
    bookings: Sequence[EveningBooking],
    blocks: Sequence[Blocked] = (),
    config: RulesConfig | None = None,
) -> tuple[int, int, int]:
    """The best (covers, empty seats, moves) over every assignment, lexicographically."""
    rules = config or RulesConfig()
    fixed = block_allocations(blocks) + [
        allocation(t, b.id, b.starts_at, b.ends_at) for b in bookings if b.pinned for t in b.current
    ]
    seats = {t.id: t.max_capacity for t in tables}
    options: list[list[tuple[UUID, ...]]] = []
    for b in bookings:
        if b.pinned:
            options.append([b.current])
            continue
        sets: list[tuple[UUID, ...]] = [()]
        for n in range(1, rules.max_combined_tables + 1):
            for combo in combinations(tables, n):
                ids = tuple(t.id for t in combo)
                if not validate(info(b), ids, by_id(*tables), fixed, NOW, rules):
                    sets.append(ids)
        options.append(sets)
    best = (0, 0, 0)
    found = False
    for choice in product(*options):
        if any(
            set(choice[i]) & set(choice[j])
            and bookings[i].starts_at < bookings[j].ends_at
            and bookings[j].starts_at < bookings[i].ends_at
            for i, j in combinations(range(len(bookings)), 2)
            if not (bookings[i].pinned and bookings[j].pinned)
        ):
            continue
        covers = sum(b.party_size for b, ids in zip(bookings, choice, strict=True) if ids)
        empty = sum(
            sum(seats[t] for t in ids) - b.party_size
            for b, ids in zip(bookings, choice, strict=True)
            if ids
        )
        moves = sum(
            1
            for b, ids in zip(bookings, choice, strict=True)
            if b.current and set(ids) != set(b.current)
        )
        key = (-covers, empty, moves)
        if not found or key < (-best[0], best[1], best[2]):
            best, found = (covers, empty, moves), True
    return best


def figures(plan: EveningPlan) -> tuple[int, int, int]:
    return plan.covers_after, plan.empty_seats_after, len(plan.moves)


# ------------------------------------------------------------------------------- table_sets


@st.composite
def restaurants(draw: st.DrawFn) -> list[TableInfo]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        hi = draw(st.integers(1, 5))
        lo = draw(st.integers(0, hi))
        zone = draw(st.sampled_from(["Main", "Main", "Bar"]))
        out.append(table(f"T{i + 1}", lo, hi, zone, active=draw(st.booleans() | st.just(True))))
    return out


@PROPERTY
@given(restaurants(), st.integers(1, 12), st.integers(1, 3))
def test_table_sets__are_exactly_the_sets_validate_accepts(
    tables: list[TableInfo], party: int, most: int
) -> None:
    config = RulesConfig(max_combined_tables=most)
    probe = evening_booking(party)
    expected = {
        frozenset(t.id for t in combo)
        for n in range(1, len(tables) + 1)
        for combo in combinations(tables, n)
        if not validate(info(probe), [t.id for t in combo], by_id(*tables), (), NOW, config)
    }
    found = [frozenset(t.id for t in s) for s in table_sets(party, by_id(*tables), config)]
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_table_sets__follow_rank_order() -> None:
    tables = [table("T1", 1, 2), table("T2", 1, 2), table("T4", 1, 4), table("T6", 2, 6)]
    probe = info(evening_booking(4))
    ranked = rank_candidates(probe, by_id(*tables), (), NOW, limit=100)
    assert table_sets(4, by_id(*tables)) == [c.tables for c in ranked]


def test_table_sets__need_one_restaurant() -> None:
    other = table("X1", restaurant=UUID(int=0xB220))
    with pytest.raises(ValueError, match="one restaurant"):
        table_sets(2, by_id(table("T1"), other))
    assert table_sets(2, {}) == []


# --------------------------------------------------------------------------------- optimize


def test_optimize__recovers_covers_that_greedy_arrival_order_loses() -> None:
    """The long party of four came first: autoAssign gives it the only four-top and turns away
    two parties of four; the optimizer seats those two instead (8 covers, not 4)."""
    t4, t2 = table("T4", 1, 4), table("T2", 1, 2)
    long_one = evening_booking(4, 0, 4)
    early, late = evening_booking(4, 0, 2), evening_booking(4, 2, 2)
    bookings = [long_one, early, late]
    allocations: list[AllocationInfo] = []
    greedy = 0
    for b in bookings:
        best = rank_candidates(info(b), by_id(t4, t2), allocations, NOW, limit=1, free_only=True)
        if best:
            greedy += b.party_size
            allocations += [allocation(t.id, b.id, b.starts_at, b.ends_at) for t in best[0].tables]
    assert greedy == 4
    plan = solve([t4, t2], bookings)
    check(plan, [t4, t2], bookings)
    assert plan.proven_optimal
    assert plan.covers_after == 8
    assert plan.tables == {long_one.id: (), early.id: (t4.id,), late.id: (t4.id,)}
    assert plan.newly_seated == (early.id, late.id)


def test_optimize__moves_a_seated_party_to_seat_another() -> None:
    """A party of two on the four-top moves to the two-top so that a party of four sits."""
    t2, t4 = table("T2", 1, 2), table("T4", 1, 4)
    two = evening_booking(2, current=[t4])
    four = evening_booking(4, 1)
    plan = solve([t2, t4], [two, four])
    check(plan, [t2, t4], [two, four])
    assert (plan.covers_before, plan.covers_after) == (2, 6)
    assert (plan.empty_seats_before, plan.empty_seats_after) == (2, 0)
    assert plan.moves == (Move(two.id, (t4.id,), (t2.id,)),)
    assert plan.newly_seated == (four.id,)


def test_optimize__keeps_a_valid_plan_rather_than_move_for_nothing() -> None:
    a, b = table("A", 1, 4), table("B", 1, 4)
    first, second = evening_booking(3, current=[b]), evening_booking(3, current=[a])
    plan = solve([a, b], [first, second])
    assert plan.moves == ()
    assert plan.tables == {first.id: (b.id,), second.id: (a.id,)}
    assert plan.proven_optimal


def test_optimize__pinned_bookings_never_move() -> None:
    """Moving the pinned two off the four-top would seat the four; it stays."""
    t2, t4 = table("T2", 1, 2), table("T4", 1, 4)
    two = evening_booking(2, current=[t4], pinned=True)
    four = evening_booking(4, 1)
    bookings = [two, four]
    plan = solve([t2, t4], bookings)
    check(plan, [t2, t4], bookings)
    assert plan.tables == {two.id: (t4.id,), four.id: ()}
    assert plan.moves == ()
    assert plan.covers_after == 2


def test_optimize__blocked_ranges_are_avoided_half_open() -> None:
    t4 = table("T4", 1, 4)
    during, after = evening_booking(4, 1), evening_booking(4, 2)
    blocks = [blocked(t4, 0, 2)]  # [19:00, 21:00): the 20:00 booking clashes, the 21:00 one not
    plan = solve([t4], [during, after], blocks)
    check(plan, [t4], [during, after], blocks)
    assert plan.tables == {during.id: (), after.id: (t4.id,)}


def test_optimize__takes_allocations_as_blocked_ranges() -> None:
    t4 = table("T4", 1, 4)
    b = evening_booking(2)
    held = allocation(t4.id, new_id(), START, START + HOUR)
    plan = optimize(by_id(t4), [b], [held], time_limit=5, workers=1)
    assert plan.tables == {b.id: ()}


def test_optimize__a_current_set_that_breaks_the_rules_is_moved() -> None:
    """The party of two sits at a two-top and a four-top (one is not needed): it moves."""
    t2, t4 = table("T2", 1, 2), table("T4", 1, 4)
    b = evening_booking(2, current=[t2, t4])
    plan = solve([t2, t4], [b])
    check(plan, [t2, t4], [b])
    assert plan.tables == {b.id: (t2.id,)}
    assert plan.moves == (Move(b.id, (t2.id, t4.id), (t2.id,)),)
    assert (plan.empty_seats_before, plan.empty_seats_after) == (4, 0)


def test_optimize__combines_tables_of_one_zone_only() -> None:
    tables = [table("M1", 1, 2), table("B1", 1, 2, zone="Bar"), table("M2", 1, 2)]
    b = evening_booking(4)
    plan = solve(tables, [b])
    assert set(plan.tables[b.id]) == {tables[0].id, tables[2].id}


def test_optimize__refuses_inconsistent_input() -> None:
    t = table("T1")
    b = evening_booking(2)
    with pytest.raises(ValueError, match="unique"):
        solve([t], [b, b])
    with pytest.raises(ValueError, match="not given"):
        solve([], [evening_booking(2, current=[t])])
    with pytest.raises(ValueError, match="time_limit"):
        optimize(by_id(t), [b], time_limit=0)


# ------------------------------------------------------------------ against the brute force


def test_optimize__matches_the_brute_force_on_a_crowded_evening() -> None:
    tables = [
        table("S1", 1, 2),
        table("S2", 1, 2),
        table("M1", 2, 4),
        table("L1", 3, 6, zone="Bar"),
        table("S3", 1, 2, zone="Bar"),
    ]
    bookings = [
        evening_booking(2, 0, current=[tables[2]]),
        evening_booking(4, 0),
        evening_booking(6, 1),
        evening_booking(3, 1, current=[tables[3]]),
        evening_booking(2, 2, pinned=True, current=[tables[0]]),
        evening_booking(5, 2),
    ]
    blocks = [blocked(tables[1], 1, 1)]
    plan = solve(tables, bookings, blocks)
    check(plan, tables, bookings, blocks)
    assert plan.proven_optimal
    assert figures(plan) == brute_force(tables, bookings, blocks)


@st.composite
def evenings(
    draw: st.DrawFn,
) -> tuple[list[TableInfo], list[EveningBooking], list[Blocked], RulesConfig]:
    tables = draw(restaurants().filter(lambda ts: len(ts) <= 4))
    bookings = []
    for _ in range(draw(st.integers(1, 4))):
        current = draw(st.lists(st.sampled_from(tables), max_size=2, unique=True))
        bookings.append(
            evening_booking(
                draw(st.integers(1, 6)),
                draw(st.integers(0, 3)),
                draw(st.integers(1, 2)),
                current,
                pinned=bool(current) and draw(st.booleans()),
            )
        )
    blocks = [
        blocked(draw(st.sampled_from(tables)), draw(st.integers(0, 3)), draw(st.integers(1, 2)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    return tables, bookings, blocks, RulesConfig(max_combined_tables=draw(st.integers(1, 3)))


@PROPERTY
@given(evenings())
def test_optimize__is_optimal_and_valid_on_random_small_evenings(
    evening: tuple[list[TableInfo], list[EveningBooking], list[Blocked], RulesConfig],
) -> None:
    tables, bookings, blocks, config = evening
    plan = solve(tables, bookings, blocks, config)
    check(plan, tables, bookings, blocks, config)
    assert plan.proven_optimal
    assert plan.covers_bound == plan.covers_after
    assert figures(plan) == brute_force(tables, bookings, blocks, config)


def test_optimize__of_the_plans_seating_most_it_moves_fewest() -> None:
    """A and B both sat at T1 (they overlap), C at T2 overlaps B only. Six covers need B alone
    at one table and A with C at the other: B stays, A moves to C's T2 (one move, not two)."""
    t1, t2 = table("T1", 1, 2), table("T2", 1, 2)
    a = evening_booking(2, 0, 2, current=[t1])
    b = evening_booking(2, 1, 2, current=[t1])
    c = evening_booking(2, 2, 2, current=[t2])
    plan = solve([t1, t2], [a, b, c])
    check(plan, [t1, t2], [a, b, c])
    assert plan.tables == {a.id: (t2.id,), b.id: (t1.id,), c.id: (t2.id,)}
    assert plan.moves == (Move(a.id, (t1.id,), (t2.id,)),)
    assert figures(plan) == brute_force([t1, t2], [a, b, c]) == (6, 0, 1)


# ------------------------------------------------- identical tables (the class-level model)


@st.composite
def alike_evenings(
    draw: st.DrawFn,
) -> tuple[list[TableInfo], list[EveningBooking], list[Blocked], RulesConfig]:
    """Evenings whose tables come in few kinds, so most are interchangeable."""
    kinds = [(1, 2, "Main"), (2, 4, "Main"), (1, 2, "Bar")]
    tables = [
        table(f"T{i + 1}", *draw(st.sampled_from(kinds[: draw(st.integers(1, 3))])))
        for i in range(draw(st.integers(2, 4)))
    ]
    bookings = []
    for _ in range(draw(st.integers(2, 4))):
        current = draw(st.lists(st.sampled_from(tables), max_size=2, unique=True))
        bookings.append(
            evening_booking(
                draw(st.integers(1, 6)),
                draw(st.integers(0, 2)),
                draw(st.integers(1, 3)),
                current,
                pinned=bool(current) and draw(st.booleans()),
            )
        )
    blocks = [
        blocked(draw(st.sampled_from(tables)), draw(st.integers(0, 3)), draw(st.integers(1, 2)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    return tables, bookings, blocks, RulesConfig(max_combined_tables=draw(st.integers(1, 3)))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(alike_evenings())
def test_optimize__is_optimal_and_valid_with_identical_tables(
    evening: tuple[list[TableInfo], list[EveningBooking], list[Blocked], RulesConfig],
) -> None:
    tables, bookings, blocks, config = evening
    plan = solve(tables, bookings, blocks, config)
    check(plan, tables, bookings, blocks, config)
    assert plan.proven_optimal
    assert plan.covers_bound == plan.covers_after
    assert figures(plan) == brute_force(tables, bookings, blocks, config)


def test_optimize__identical_tables_blocked_at_different_times_are_not_pooled() -> None:
    """A free two-top at every moment is not a free two-top all along: A is blocked until
    20:00 and B from 20:00, so the 19:30 booking fits neither (while a count of two-tops in use
    would allow it)."""
    a, b = table("A", 1, 2), table("B", 1, 2)
    half = evening_booking(2, 0, 2)
    x = EveningBooking(new_id(), 2, half.starts_at + HOUR / 2, half.ends_at + HOUR / 2)
    blocks = [Blocked(a.id, START, START + HOUR), Blocked(b.id, START + HOUR, START + 3 * HOUR)]
    plan = solve([a, b], [x], blocks)
    check(plan, [a, b], [x], blocks)
    assert plan.tables == {x.id: ()}
    assert plan.proven_optimal
    assert figures(plan) == brute_force([a, b], [x], blocks) == (0, 0, 0)


def test_optimize__pinned_bookings_take_their_own_identical_table() -> None:
    """Pinned on A 19:00-20:00 and on B 20:00-21:00: at every moment two of the three two-tops
    are free, but only C is free all along, so one of the two 19:00-21:00 parties sits (the
    bigger) and the pinned ones are on their own tables, not on any of the class."""
    a, b, c = table("A", 1, 2), table("B", 1, 2), table("C", 1, 2)
    pinned_a = evening_booking(2, 0, 1, current=[a], pinned=True)
    pinned_b = evening_booking(2, 1, 1, current=[b], pinned=True)
    first, second = evening_booking(2, 0, 2), evening_booking(1, 0, 2)
    bookings = [pinned_a, pinned_b, first, second]
    plan = solve([a, b, c], bookings)
    check(plan, [a, b, c], bookings)
    assert plan.proven_optimal
    assert plan.tables[first.id] == (c.id,)
    assert plan.tables[second.id] == ()
    assert figures(plan) == brute_force([a, b, c], bookings) == (6, 0, 0)


def test_optimize__an_inactive_twin_is_not_a_table() -> None:
    on, off = table("A", 1, 2), table("B", 1, 2, active=False)
    first, second = evening_booking(2, 0, 2), evening_booking(2, 1, 2)
    plan = solve([on, off], [first, second])
    check(plan, [on, off], [first, second])
    assert plan.covers_after == 2
    assert plan.proven_optimal


def test_optimize__keeps_bookings_on_their_identical_tables() -> None:
    """Six identical two-tops, each booking already on one: the plan moves nobody, though any
    permutation of the tables would seat the same."""
    tables = [table(f"T{i}", 1, 2) for i in range(1, 7)]
    bookings = [
        evening_booking(2, i % 3, 2, current=[t]) for i, t in enumerate(reversed(tables))
    ] + [evening_booking(2, 3, 2)]
    plan = solve(tables, bookings)
    check(plan, tables, bookings)
    assert plan.proven_optimal
    assert plan.moves == ()
    assert plan.covers_after == 14


def test_optimize__proves_a_large_evening_of_identical_tables() -> None:
    """Twenty tables of three kinds and eighty bookings: the class-level model proves it."""
    kinds = [(1, 2)] * 8 + [(2, 4)] * 8 + [(3, 6)] * 4
    tables = [table(f"T{i}", lo, hi) for i, (lo, hi) in enumerate(kinds, start=1)]
    bookings = [evening_booking(1 + (7 * i) % 8, i % 5, 2) for i in range(80)]
    plan = optimize(by_id(*tables), bookings, time_limit=10, workers=1)
    check(plan, tables, bookings)
    assert plan.proven_optimal
    assert plan.covers_bound == plan.covers_after


def test_optimize__places_identical_tables_for_the_fewest_moves() -> None:
    """P (new, first) fits either two-top; placing by start order alone would put it on T1,
    which Q has, and then move Q and R. The plan puts P on T2 and moves nobody."""
    t1, t2 = table("T1", 1, 2), table("T2", 1, 2)
    p = evening_booking(2, 0, 2)
    q = evening_booking(2, 1, 2, current=[t1])
    r = evening_booking(2, 2, 2, current=[t2])
    plan = solve([t1, t2], [p, q, r])
    check(plan, [t1, t2], [p, q, r])
    assert plan.proven_optimal
    assert plan.tables == {p.id: (t2.id,), q.id: (t1.id,), r.id: (t2.id,)}
    assert figures(plan) == brute_force([t1, t2], [p, q, r]) == (6, 0, 0)
