"""The candidate search: rank_candidates() ranking, and properties.

The property tests generate small restaurants and compare rank_candidates() with a brute force
over every table set built on validate(), so the pruned search can never miss or misrank.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from services.tables.candidates import Candidate, rank_candidates
from services.tables.model import ViolationCode, table_sort_key
from services.tables.rules import AllocationInfo, BookingInfo, RulesConfig, TableInfo
from services.tables.rules import validate as validate_
from tests.support.tables import (
    BOOKING_ID,
    NOW,
    OTHER_RESTAURANT,
    OTHER_SESSION,
    RESTAURANT,
    SESSION,
    alloc,
    booking,
    by_id,
    codes,
    new_id,
    table,
)

# --------------------------------------------------------------------------------- rank_candidates


def rank(
    b: BookingInfo,
    tables: Sequence[TableInfo],
    allocations: Sequence[AllocationInfo] = (),
    *,
    config: RulesConfig | None = None,
    limit: int = 5,
    free_only: bool = False,
    ignore_session_id: UUID | None = None,
) -> list[Candidate]:
    return rank_candidates(
        b,
        by_id(*tables),
        allocations,
        NOW,
        config or RulesConfig(),
        limit=limit,
        free_only=free_only,
        ignore_session_id=ignore_session_id,
    )


def labels(candidates: Sequence[Candidate]) -> list[list[str]]:
    return [[t.label for t in c.tables] for c in candidates]


def test_rank__exact_single_table_ranks_first_with_full_score_and_reason() -> None:
    t4, t6 = table("T4", 1, 4), table("T6", 1, 6)
    result = rank(booking(4), [t6, t4])
    assert labels(result) == [["T4"], ["T6"]]
    assert result[0].score == 1.0
    assert result[0].empty_seats == 0
    assert result[0].reason == "Single table T4 seats 4 for a party of 4; free"
    assert result[1].reason == "Single table T6 seats 6 for a party of 4, 2 empty seats; free"


def test_rank__fewer_empty_seats_beat_fewer_tables() -> None:
    t1, t2, t6 = table("T1", 1, 2), table("T2", 1, 2), table("T6", 1, 6)
    result = rank(booking(4), [t1, t2, t6])
    assert labels(result) == [["T1", "T2"], ["T6"]]
    assert result[0].reason == "Tables T1 + T2 (Main) seat 4 for a party of 4; free"


def test_rank__on_equal_empty_seats_fewer_tables_win() -> None:
    t1, t2, t4 = table("T1", 1, 2), table("T2", 1, 2), table("T4", 1, 4)
    assert labels(rank(booking(4), [t1, t2, t4])) == [["T4"], ["T1", "T2"]]


def test_rank__free_before_conflicting_and_conflicts_carried_as_violations() -> None:
    busy, free = table("T1", 1, 4), table("T2", 1, 4)
    result = rank(booking(4), [busy, free], [alloc(busy)])
    assert labels(result) == [["T2"], ["T1"]]
    assert result[0].violations == ()
    assert codes(result[1].violations) == [ViolationCode.TABLE_CONFLICT]
    assert result[1].reason.endswith("conflicts with 1 other booking")
    assert result[0].score > result[1].score


def test_rank__free_only_drops_conflicting_candidates() -> None:
    busy, free = table("T1", 1, 4), table("T2", 1, 6)
    assert labels(rank(booking(4), [busy, free], [alloc(busy)], free_only=True)) == [["T2"]]


def test_rank__ties_are_broken_by_natural_label_order() -> None:
    ts = [table(label, 1, 4) for label in ("T10", "T2", "t3", "T1")]
    assert labels(rank(booking(4), ts)) == [["T1"], ["T2"], ["t3"], ["T10"]]


def test_rank__combines_only_within_one_zone_and_up_to_max_combined() -> None:
    main = [table(f"M{i}", 1, 2) for i in range(1, 4)]
    patio = [table("P1", 1, 2, zone="Patio")]
    assert labels(rank(booking(6), main + patio)) == [["M1", "M2", "M3"]]
    assert rank(booking(6), main + patio, config=RulesConfig(max_combined_tables=2)) == []


def test_rank__combination_with_an_empty_seat_is_offered_when_nothing_fits_exactly() -> None:
    t1, t2 = table("T1", 1, 2), table("T2", 1, 2)
    result = rank(booking(3), [t1, t2])
    assert labels(result) == [["T1", "T2"]]
    assert result[0].empty_seats == 1


def test_rank__skips_combinations_whose_actual_minimums_exceed_the_party() -> None:
    # Class minimum is 0 (T3), but T1 + T2 together need 6 guests: only pairs with T3 fit 5.
    t1, t2, t3 = table("T1", 3, 3), table("T2", 3, 3), table("T3", 0, 3)
    result = rank(booking(5), [t1, t2, t3])
    assert labels(result) == [["T1", "T3"], ["T2", "T3"]]
    assert all(c.violations == () for c in result)


def test_rank__offers_no_non_minimal_combinations() -> None:
    t4, t2 = table("T4", 1, 4), table("T2", 1, 2)
    assert labels(rank(booking(4), [t4, t2])) == [["T4"]]


def test_rank__skips_inactive_tables_foreign_tables_and_tables_with_too_high_minimum() -> None:
    ts = [
        table("T1", 1, 4, active=False),
        table("T2", 5, 8),
        table("T3", 1, 4, restaurant=OTHER_RESTAURANT),
        table("T4", 1, 5),
    ]
    assert labels(rank(booking(4), ts)) == [["T4"]]


def test_rank__booking_that_cannot_be_assigned_has_no_candidates() -> None:
    assert rank(booking(2, status="CANCELLED"), [table("T1")]) == []


def test_rank__limit_caps_the_list_and_zero_limit_returns_nothing() -> None:
    ts = [table(f"T{i}", 1, 4) for i in range(1, 9)]
    assert len(rank(booking(4), ts, limit=3)) == 3
    assert rank(booking(4), ts, limit=0) == []


def test_rank__ignore_session_id_makes_own_session_hold_free() -> None:
    t1 = table("T1", 1, 4)
    hold = alloc(t1, kind="HOLD", session=SESSION)
    assert rank(booking(4), [t1], [hold], free_only=True) == []
    result = rank(booking(4), [t1], [hold], free_only=True, ignore_session_id=SESSION)
    assert labels(result) == [["T1"]]


def test_table_sort_key__orders_numbers_naturally_and_ignores_case() -> None:
    ts = [table(label) for label in ("T10", "b1", "T2", "A", "t2")]
    assert [t.label for t in sorted(ts, key=table_sort_key)] == ["A", "b1", "T2", "t2", "T10"]


# -------------------------------------------------------------------------------------- properties

BASE = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
OTHERS = [UUID(int=0x100 + i) for i in range(5)]
SESSIONS = [None, SESSION, OTHER_SESSION]


@st.composite
def scenarios(
    draw: st.DrawFn, max_tables: int = 30
) -> tuple[BookingInfo, dict[UUID, TableInfo], list[AllocationInfo], RulesConfig, UUID | None]:
    zones = [f"Z{i}" for i in range(draw(st.integers(1, 4)))]
    n = draw(st.integers(1, max_tables))
    numbers = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n, unique=True))
    tables: dict[UUID, TableInfo] = {}
    for i, number in enumerate(numbers):
        hi = draw(st.sampled_from([1, 2, 2, 2, 3, 4, 4, 5, 6, 8]))
        lo = min(hi, draw(st.sampled_from([0, 1, 1, 2, hi // 2, hi])))
        tid = UUID(int=0x7000 + i)
        tables[tid] = TableInfo(
            tid,
            RESTAURANT if draw(st.integers(0, 19)) else OTHER_RESTAURANT,
            draw(st.sampled_from(["T", "t", "Bar "])) + str(number),
            draw(st.sampled_from(zones)),
            lo,
            hi,
            draw(st.integers(0, 6)) > 0,
        )
    start = BASE + QUARTER * draw(st.integers(0, 12))
    b = BookingInfo(
        BOOKING_ID,
        RESTAURANT,
        draw(st.integers(1, 10)),
        start,
        start + QUARTER * draw(st.integers(1, 12)),
        draw(st.sampled_from(["CONFIRMED", "PENDING", "SEATED", "CONFIRMED"] * 2 + ["NO_SHOW"])),
    )
    now = BASE + QUARTER * 4
    allocations: list[AllocationInfo] = []
    table_ids = list(tables)
    for i in range(draw(st.integers(0, 2 * n))):
        a_start = BASE + QUARTER * draw(st.integers(0, 20))
        kind = draw(st.sampled_from(["HOLD", "ASSIGNMENT"]))
        allocations.append(
            AllocationInfo(
                UUID(int=0x9000 + i),
                draw(st.sampled_from(table_ids)),
                draw(st.sampled_from([BOOKING_ID, *OTHERS])),
                kind,
                a_start,
                a_start + QUARTER * draw(st.integers(1, 12)),
                draw(st.sampled_from([None, now - QUARTER, now, now + QUARTER])),
                draw(st.sampled_from(SESSIONS)),
            )
        )
    config = RulesConfig(draw(st.sampled_from([1, 2, 3, 3, 4])))
    return b, tables, allocations, config, draw(st.sampled_from(SESSIONS))


Scenario = tuple[BookingInfo, dict[UUID, TableInfo], list[AllocationInfo], RulesConfig, UUID | None]
PROPERTY = settings(max_examples=150)
NOW_P = BASE + QUARTER * 4


RankKey = tuple[int, int, bool, tuple[tuple[tuple[str | int, ...], str, int], ...]]


def rank_key(c: Candidate) -> tuple[int, int, bool]:
    return (c.empty_seats, len(c.tables), bool(c.violations))


@PROPERTY
@given(scenarios(), st.booleans(), st.integers(1, 8))
def test_property__every_candidate_carries_exactly_what_validate_returns(
    scenario: Scenario, free_only: bool, limit: int
) -> None:
    b, tables, allocations, config, ignore = scenario
    for c in rank_candidates(b, tables, allocations, NOW_P, config, limit, free_only, ignore):
        assert validate_(b, c.table_ids, tables, allocations, NOW_P, config, ignore) == list(
            c.violations
        )
        assert set(codes(c.violations)) <= {ViolationCode.TABLE_CONFLICT}


@PROPERTY
@given(scenarios(), st.integers(1, 8))
def test_property__free_only_candidates_have_no_violations(scenario: Scenario, limit: int) -> None:
    b, tables, allocations, config, ignore = scenario
    result = rank_candidates(b, tables, allocations, NOW_P, config, limit, True, ignore)
    assert len(result) <= limit
    assert all(c.violations == () for c in result)


@PROPERTY
@given(scenarios(), st.booleans(), st.integers(1, 8))
def test_property__ranking_is_sorted_by_empty_seats_table_count_then_conflicts_and_scores_fall(
    scenario: Scenario, free_only: bool, limit: int
) -> None:
    b, tables, allocations, config, ignore = scenario
    result = rank_candidates(b, tables, allocations, NOW_P, config, limit, free_only, ignore)
    keys = [rank_key(c) for c in result]
    assert keys == sorted(keys)
    scores = [c.score for c in result]
    assert all(0.0 < s <= 1.0 for s in scores)
    for i in range(1, len(result)):
        if keys[i - 1] < keys[i]:
            assert scores[i - 1] > scores[i]
        else:
            assert scores[i - 1] == scores[i]
    for c in result:
        assert c.empty_seats == sum(t.max_capacity for t in c.tables) - b.party_size
        assert list(c.tables) == sorted(c.tables, key=table_sort_key)
        assert len({t.zone for t in c.tables}) == 1


def brute_force(
    b: BookingInfo,
    tables: dict[UUID, TableInfo],
    allocations: list[AllocationInfo],
    config: RulesConfig,
    ignore: UUID | None,
    free_only: bool,
) -> list[tuple[RankKey, tuple[UUID, ...]]]:
    """Every table set that validate() accepts (conflicts allowed unless free_only), ranked."""
    found: list[tuple[RankKey, tuple[UUID, ...]]] = []
    ordered = sorted(tables.values(), key=table_sort_key)
    for n in range(1, config.max_combined_tables + 1):
        for combo in combinations(ordered, n):
            ids = tuple(t.id for t in combo)
            violations = validate_(b, ids, tables, allocations, NOW_P, config, ignore)
            if any(v.code != ViolationCode.TABLE_CONFLICT for v in violations):
                continue
            if free_only and violations:
                continue
            empty = sum(t.max_capacity for t in combo) - b.party_size
            key = (empty, n, bool(violations), tuple(table_sort_key(t) for t in combo))
            found.append((key, ids))
    found.sort(key=lambda item: item[0])
    return found


@PROPERTY
@given(scenarios(max_tables=10), st.booleans(), st.integers(1, 6))
def test_property__rank_candidates_never_misses_a_better_candidate_than_brute_force(
    scenario: Scenario, free_only: bool, limit: int
) -> None:
    b, tables, allocations, config, ignore = scenario
    result = rank_candidates(b, tables, allocations, NOW_P, config, limit, free_only, ignore)
    if b.status == "NO_SHOW":
        assert result == []
        return
    everything = brute_force(b, tables, allocations, config, ignore, free_only)
    returned = {c.table_ids for c in result}
    worst = max((rank_key(c) for c in result), default=None)
    for key, ids in everything:
        # (d): every valid set is returned, or `limit` no-worse candidates were returned instead.
        assert ids in returned or (len(result) == limit and worst is not None and worst <= key[:3])
    # Stronger: the list is exactly the brute-force ranking's head, labels included.
    assert [c.table_ids for c in result] == [ids for _, ids in everything[:limit]]


@PROPERTY
@given(scenarios(), st.data())
def test_property__validate_never_repeats_a_code_for_the_same_tables(
    scenario: Scenario, data: st.DataObject
) -> None:
    b, tables, allocations, config, ignore = scenario
    pool = [*tables, UUID(int=0xDEAD), UUID(int=0xBEEF)]
    proposal = data.draw(st.lists(st.sampled_from(pool), max_size=8))
    violations = validate_(b, proposal, tables, allocations, NOW_P, config, ignore)
    seen = [(v.code, v.table_ids, v.conflicting_booking_id) for v in violations]
    assert len(seen) == len(set(seen))
    for v in violations:
        assert (v.conflicting_booking_id is not None) == (v.code == ViolationCode.TABLE_CONFLICT)
        assert v.code == ViolationCode.BOOKING_NOT_ASSIGNABLE or v.table_ids
        assert set(v.table_ids) <= set(proposal)
    if not proposal:
        assert violations == []


@PROPERTY
@given(scenarios(), st.booleans(), st.randoms(use_true_random=False))
def test_property__result_does_not_depend_on_input_order(
    scenario: Scenario, free_only: bool, rnd: random.Random
) -> None:
    b, tables, allocations, config, ignore = scenario
    shuffled_tables = list(tables.items())
    rnd.shuffle(shuffled_tables)
    shuffled_allocations = list(allocations)
    rnd.shuffle(shuffled_allocations)
    first = rank_candidates(b, tables, allocations, NOW_P, config, 5, free_only, ignore)
    again = rank_candidates(
        b, dict(shuffled_tables), shuffled_allocations, NOW_P, config, 5, free_only, ignore
    )
    assert first == again


# ---------------------------------------------------------------------------------- large instance


def large_restaurant(seed: int) -> tuple[dict[UUID, TableInfo], list[AllocationInfo]]:
    """200 tables in 5 zones; 2,000 bookings, 10 per table, from 10:00-12:45 until 21:00-24:00."""
    rng = random.Random(seed)
    shapes = [(1, 2), (1, 2), (2, 4), (2, 4), (2, 4), (3, 6), (4, 8), (6, 10)]
    tables: dict[UUID, TableInfo] = {}
    for z, zone in enumerate(["Main", "Patio", "Bar", "Terrace", "Garden"]):
        for i in range(40):
            lo, hi = rng.choice(shapes)
            tid = uuid.UUID(int=rng.getrandbits(128))
            tables[tid] = TableInfo(tid, RESTAURANT, f"{zone[0]}{i + 1}", zone, lo, hi, z + i > 0)
    day = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    allocations: list[AllocationInfo] = []
    for tid in tables:
        start = day + QUARTER * rng.randrange(0, 12)
        for _ in range(10):
            end = start + QUARTER * rng.choice([3, 4, 5])
            kind = "HOLD" if rng.random() < 0.05 else "ASSIGNMENT"
            expires = day + timedelta(hours=8) + QUARTER * rng.randrange(-2, 3)
            allocations.append(
                AllocationInfo(
                    uuid.UUID(int=rng.getrandbits(128)),
                    tid,
                    uuid.UUID(int=rng.getrandbits(128)),
                    kind,
                    start,
                    end,
                    expires if kind == "HOLD" else None,
                    None,
                )
            )
            start = end + QUARTER * rng.randrange(0, 2)
    return tables, allocations


def reference_ranking(
    b: BookingInfo,
    tables: dict[UUID, TableInfo],
    allocations: list[AllocationInfo],
    now: datetime,
    max_combined: int,
    free_only: bool,
    limit: int,
) -> list[tuple[UUID, ...]]:
    """Independent exhaustive ranking (no validate(), no pruning) for the large instance."""
    found: list[tuple[RankKey, tuple[UUID, ...]]] = []
    busy = {
        a.table_id
        for a in allocations
        if a.booking_id != b.id
        and a.starts_at < b.ends_at
        and b.starts_at < a.ends_at
        and not (a.kind == "HOLD" and a.expires_at is not None and a.expires_at <= now)
    }
    zones: dict[str, list[TableInfo]] = {}
    for t in sorted(tables.values(), key=table_sort_key):
        if t.active and t.restaurant_id == b.restaurant_id and t.min_capacity <= b.party_size:
            zones.setdefault(t.zone, []).append(t)
    for zone_tables in zones.values():
        for n in range(1, max_combined + 1):
            for combo in combinations(zone_tables, n):
                seats = sum(t.max_capacity for t in combo)
                if seats < b.party_size or sum(t.min_capacity for t in combo) > b.party_size:
                    continue
                if seats - min(t.max_capacity for t in combo) >= b.party_size:
                    continue
                conflict = any(t.id in busy for t in combo)
                if free_only and conflict:
                    continue
                key = (seats - b.party_size, n, conflict, tuple(table_sort_key(t) for t in combo))
                found.append((key, tuple(t.id for t in combo)))
    found.sort(key=lambda item: item[0])
    return [ids for _, ids in found[:limit]]


def test_rank__large_restaurant_with_2000_bookings_matches_exhaustive_search() -> None:
    tables, allocations = large_restaurant(seed=7)
    assert len(tables) == 200 and len({a.booking_id for a in allocations}) == 2000
    now = datetime(2025, 6, 1, 18, 0, tzinfo=UTC)
    cases = [  # (party, start, free_only): scarce, packed and quiet moments of the evening
        (2, (19, 0), True),
        (4, (20, 30), True),
        (7, (19, 0), False),
        (11, (20, 30), False),
        (16, (20, 30), True),
        (16, (21, 30), False),
    ]
    for party, (hour, minute), free_only in cases:
        start = datetime(2025, 6, 1, hour, minute, tzinfo=UTC)
        b = BookingInfo(new_id(), RESTAURANT, party, start, start + timedelta(hours=2), "PENDING")
        result = rank_candidates(b, tables, allocations, now, RulesConfig(), 8, free_only)
        expected = reference_ranking(b, tables, allocations, now, 3, free_only, 8)
        assert result, (party, hour, minute)
        assert [c.table_ids for c in result] == expected
        for c in result:
            assert validate_(b, c.table_ids, tables, allocations, now) == list(c.violations)
