"""Table-assignment rules: validate() per rule, and the rules' inputs refusing what cannot be.

The search is tested against validate() in test_tables_candidates.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from services.tables.model import Violation, ViolationCode
from services.tables.rules import AllocationInfo, BookingInfo, RulesConfig, TableInfo
from services.tables.rules import validate as validate_
from tests.support.tables import (
    BOOKING_ID,
    END,
    NOW,
    OTHER_BOOKING,
    OTHER_RESTAURANT,
    OTHER_SESSION,
    RESTAURANT,
    SESSION,
    START,
    THIRD_BOOKING,
    alloc,
    booking,
    by_id,
    codes,
    new_id,
    table,
)


def validate(
    b: BookingInfo,
    proposal: Sequence[TableInfo | UUID],
    tables: Sequence[TableInfo],
    allocations: Sequence[AllocationInfo] = (),
    config: RulesConfig | None = None,
    ignore_session_id: UUID | None = None,
) -> list[Violation]:
    ids = [p.id if isinstance(p, TableInfo) else p for p in proposal]
    return validate_(
        b, ids, by_id(*tables), allocations, NOW, config or RulesConfig(), ignore_session_id
    )


# -------------------------------------------------------------------------------- validate: basics


def test_validate__empty_proposal_is_a_release_and_always_valid() -> None:
    t1 = table("T1")
    assert validate(booking(), [], [t1]) == []
    assert validate(booking(status="CANCELLED"), [], [t1], [alloc(t1)]) == []


def test_validate__fitting_free_single_table_has_no_violations() -> None:
    t1 = table("T1", 2, 4)
    assert validate(booking(4), [t1], [t1]) == []


@pytest.mark.parametrize("status", ["COMPLETED", "CANCELLED", "NO_SHOW"])
def test_validate__finished_or_cancelled_booking_is_not_assignable_without_table_ids(
    status: str,
) -> None:
    t1 = table("T1")
    violations = validate(booking(status=status), [t1], [t1])
    assert codes(violations) == [ViolationCode.BOOKING_NOT_ASSIGNABLE]
    assert violations[0].table_ids == ()
    assert status in violations[0].message


@pytest.mark.parametrize("status", ["PENDING", "CONFIRMED", "SEATED"])
def test_validate__pending_confirmed_and_seated_bookings_are_assignable(status: str) -> None:
    t1 = table("T1")
    assert validate(booking(status=status), [t1], [t1]) == []


def test_validate__duplicate_ids_are_collapsed_keeping_first_order() -> None:
    t1, t2 = table("T1", 1, 2), table("T2", 1, 2)
    violations = validate(booking(5), [t2, t1, t2, t1], [t1, t2])
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_SMALL]
    assert violations[0].table_ids == (t2.id, t1.id)
    assert validate(booking(4), [t1, t1, t2], [t1, t2]) == []


# ----------------------------------------------------------------------------------- TABLE_UNKNOWN


def test_validate__unknown_ids_share_one_violation_and_skip_other_checks() -> None:
    t1 = table("T1", 1, 4)
    ghost_a, ghost_b = new_id(), new_id()
    violations = validate(booking(4), [ghost_a, t1, ghost_b], [t1])
    assert codes(violations) == [ViolationCode.TABLE_UNKNOWN]
    assert violations[0].table_ids == (ghost_a, ghost_b)
    assert "2 proposed tables" in violations[0].message
    assert str(ghost_a) not in violations[0].message


def test_validate__only_unknown_ids_yield_only_table_unknown_not_capacity() -> None:
    assert codes(validate(booking(4), [new_id()], [])) == [ViolationCode.TABLE_UNKNOWN]


def test_validate__table_of_another_restaurant_is_unknown() -> None:
    foreign = table("X1", restaurant=OTHER_RESTAURANT)
    violations = validate(booking(2), [foreign], [foreign])
    assert codes(violations) == [ViolationCode.TABLE_UNKNOWN]
    assert violations[0].table_ids == (foreign.id,)


def test_validate__mapping_entry_under_a_different_key_is_unknown() -> None:
    t1 = table("T1")
    wrong_key = new_id()
    result = validate_(booking(2), [wrong_key], {wrong_key: t1}, [], NOW)
    assert codes(result) == [ViolationCode.TABLE_UNKNOWN]


# ---------------------------------------------------------------------------------- TABLE_INACTIVE


def test_validate__inactive_tables_are_named_in_one_violation() -> None:
    t1, t2, t3 = table("T1", 1, 2, active=False), table("T2", 1, 2), table("T3", 1, 2, active=False)
    violations = validate(booking(5), [t1, t2, t3], [t1, t2, t3])
    assert codes(violations) == [ViolationCode.TABLE_INACTIVE]
    assert violations[0].table_ids == (t1.id, t3.id)
    assert violations[0].message == "Tables T1, T3 are out of service"


def test_validate__active_table_has_no_inactive_violation() -> None:
    t1 = table("T1")
    assert ViolationCode.TABLE_INACTIVE not in codes(validate(booking(4), [t1], [t1]))


# --------------------------------------------------------------------------- TABLES_NOT_COMBINABLE


def test_validate__tables_in_two_zones_are_not_combinable_and_message_names_zones() -> None:
    t1, t2 = table("T1", 1, 2, zone="Main"), table("P1", 1, 2, zone="Patio")
    violations = validate(booking(4), [t1, t2], [t1, t2])
    assert codes(violations) == [ViolationCode.TABLES_NOT_COMBINABLE]
    assert violations[0].table_ids == (t1.id, t2.id)
    assert "Main: T1" in violations[0].message and "Patio: P1" in violations[0].message


def test_validate__more_tables_than_max_combined_are_not_combinable() -> None:
    ts = [table(f"T{i}", 1, 2) for i in range(1, 5)]
    violations = validate(booking(8), ts, ts, config=RulesConfig(max_combined_tables=3))
    assert codes(violations) == [ViolationCode.TABLES_NOT_COMBINABLE]
    assert "4 tables are proposed but at most 3" in violations[0].message


def test_validate__exactly_max_combined_tables_in_one_zone_are_combinable() -> None:
    ts = [table(f"T{i}", 1, 2) for i in range(1, 4)]
    assert validate(booking(6), ts, ts, config=RulesConfig(max_combined_tables=3)) == []


def test_validate__zone_and_count_problems_share_one_violation_mentioning_both() -> None:
    ts = [table("T1", 1, 2), table("T2", 1, 2), table("P1", 1, 2, zone="Patio")]
    violations = validate(booking(6), ts, ts, config=RulesConfig(max_combined_tables=2))
    assert codes(violations) == [ViolationCode.TABLES_NOT_COMBINABLE]
    assert "zones" in violations[0].message and "at most 2" in violations[0].message


# ---------------------------------------------------------------------------------------- capacity


def test_validate__capacity_too_small_names_all_known_tables_and_the_shortfall() -> None:
    t1, t2 = table("T1", 1, 2), table("T2", 1, 4)
    violations = validate(booking(8), [t1, t2], [t1, t2])
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_SMALL]
    assert violations[0].table_ids == (t1.id, t2.id)
    assert violations[0].message == "Tables T1, T2 seat 6; a party of 8 needs 2 more seats"


def test_validate__exact_fit_is_not_too_small() -> None:
    t1 = table("T1", 1, 6)
    assert validate(booking(6), [t1], [t1]) == []


def test_validate__single_table_whose_minimum_exceeds_party_is_too_large() -> None:
    t8 = table("T8", 6, 8)
    violations = validate(booking(4), [t8], [t8])
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_LARGE]
    assert violations[0].message == "Table T8 needs a party of at least 6; this party is 4"


def test_validate__single_table_whose_minimum_equals_party_is_fine() -> None:
    t8 = table("T8", 4, 8)
    assert validate(booking(4), [t8], [t8]) == []


def test_validate__combination_whose_minimum_sum_exceeds_party_is_too_large() -> None:
    t1, t2 = table("T1", 3, 3), table("T2", 3, 3)
    violations = validate(booking(5), [t1, t2], [t1, t2])
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_LARGE]
    assert violations[0].table_ids == (t1.id, t2.id)
    assert "at least 6 combined" in violations[0].message
    assert "minimum capacities" in violations[0].message


def test_validate__unneeded_table_is_too_large_with_explaining_message() -> None:
    t1, t3 = table("T1", 1, 4), table("T3", 1, 2)
    violations = validate(booking(4), [t1, t3], [t1, t3])
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_LARGE]
    assert violations[0].table_ids == (t3.id,)
    assert violations[0].message == "Table T3 is not needed: a party of 4 fits at T1 (4 seats)"


def test_validate__each_unneeded_table_gets_its_own_violation() -> None:
    ts = [table(f"T{i}", 1, 4) for i in range(1, 4)]
    violations = validate(booking(4), ts, ts)
    assert codes(violations) == [ViolationCode.CAPACITY_TOO_LARGE] * 3
    assert [v.table_ids for v in violations] == [(t.id,) for t in ts]
    assert violations[0].message == "Table T1 is not needed: a party of 4 fits at T2 + T3 (8 seats)"


def test_validate__minimal_combination_has_no_capacity_violation() -> None:
    t1, t2 = table("T1", 1, 4), table("T2", 1, 2)
    assert validate(booking(5), [t1, t2], [t1, t2]) == []


# ---------------------------------------------------------------------------------- TABLE_CONFLICT


def test_validate__overlapping_assignment_of_other_booking_is_conflict_naming_it() -> None:
    t1 = table("T1")
    a = alloc(t1, start=START + timedelta(hours=1), end=END + timedelta(hours=1))
    violations = validate(booking(4), [t1], [t1], [a])
    assert violations == [
        Violation(
            ViolationCode.TABLE_CONFLICT,
            "Table T1 is assigned to another booking (20:00-22:00 UTC)",
            (t1.id,),
            OTHER_BOOKING,
        )
    ]


def test_validate__overlapping_hold_of_other_booking_is_conflict_naming_it() -> None:
    t1 = table("T1")
    hold = alloc(t1, kind="HOLD", expires=NOW + timedelta(minutes=5), session=OTHER_SESSION)
    violations = validate(booking(4), [t1], [t1], [hold])
    assert codes(violations) == [ViolationCode.TABLE_CONFLICT]
    assert violations[0].conflicting_booking_id == OTHER_BOOKING
    assert violations[0].message == (
        "Table T1 is held for another booking (19:00-21:00 UTC; hold expires 18:05 UTC)"
    )


def test_validate__one_conflict_per_other_booking_naming_all_its_tables() -> None:
    t1, t2, t3 = table("T1", 1, 2), table("T2", 1, 2), table("T3", 1, 2)
    allocations = [alloc(t1), alloc(t3), alloc(t2, booking_id=THIRD_BOOKING)]
    violations = validate(booking(6), [t1, t2, t3], [t1, t2, t3], allocations)
    assert codes(violations) == [ViolationCode.TABLE_CONFLICT, ViolationCode.TABLE_CONFLICT]
    assert [(v.conflicting_booking_id, v.table_ids) for v in violations] == [
        (OTHER_BOOKING, (t1.id, t3.id)),
        (THIRD_BOOKING, (t2.id,)),
    ]
    assert violations[0].message == (
        "Tables T1, T3 are assigned to another booking (19:00-21:00 UTC)"
    )


def test_validate__booking_with_hold_and_assignment_says_which_is_which() -> None:
    t1, t2 = table("T1", 1, 2), table("T2", 1, 2)
    allocations = [alloc(t1), alloc(t2, kind="HOLD", expires=NOW + timedelta(minutes=10))]
    violations = validate(booking(4), [t1, t2], [t1, t2], allocations)
    assert len(violations) == 1
    assert violations[0].message == (
        "Another booking (19:00-21:00 UTC) has T1 assigned and T2 held; hold expires 18:10 UTC"
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [(END, END + timedelta(hours=1)), (START - timedelta(hours=1), START)],
    ids=["starts_when_booking_ends", "ends_when_booking_starts"],
)
def test_validate__touching_ranges_do_not_conflict(start: datetime, end: datetime) -> None:
    t1 = table("T1")
    assert validate(booking(4), [t1], [t1], [alloc(t1, start=start, end=end)]) == []


def test_validate__one_minute_overlap_conflicts() -> None:
    t1 = table("T1")
    a = alloc(t1, start=END - timedelta(minutes=1), end=END + timedelta(hours=1))
    assert codes(validate(booking(4), [t1], [t1], [a])) == [ViolationCode.TABLE_CONFLICT]


def test_validate__hold_expiring_now_or_earlier_is_ignored() -> None:
    t1 = table("T1")
    expired = [
        alloc(t1, kind="HOLD", expires=NOW),
        alloc(t1, kind="HOLD", expires=NOW - timedelta(minutes=1)),
    ]
    assert validate(booking(4), [t1], [t1], expired) == []


def test_validate__hold_expiring_after_now_or_never_conflicts() -> None:
    t1 = table("T1")
    live = alloc(t1, kind="HOLD", expires=NOW + timedelta(seconds=1))
    forever = alloc(t1, kind="HOLD", booking_id=THIRD_BOOKING, expires=None)
    assert (
        codes(validate(booking(4), [t1], [t1], [live, forever]))
        == [ViolationCode.TABLE_CONFLICT] * 2
    )


def test_validate__assignment_conflicts_even_with_a_past_expires_at() -> None:
    t1 = table("T1")
    a = alloc(t1, kind="ASSIGNMENT", expires=NOW - timedelta(hours=1))
    assert codes(validate(booking(4), [t1], [t1], [a])) == [ViolationCode.TABLE_CONFLICT]


def test_validate__own_booking_allocations_are_ignored() -> None:
    t1 = table("T1")
    own = [alloc(t1, booking_id=BOOKING_ID), alloc(t1, booking_id=BOOKING_ID, kind="HOLD")]
    assert validate(booking(4), [t1], [t1], own) == []


def test_validate__ignore_session_id_skips_only_that_sessions_allocations() -> None:
    t1 = table("T1")
    mine = alloc(t1, kind="HOLD", session=SESSION)
    theirs = alloc(t1, kind="HOLD", booking_id=THIRD_BOOKING, session=OTHER_SESSION)
    assert validate(booking(4), [t1], [t1], [mine], ignore_session_id=SESSION) == []
    assert codes(validate(booking(4), [t1], [t1], [mine])) == [ViolationCode.TABLE_CONFLICT]
    violations = validate(booking(4), [t1], [t1], [mine, theirs], ignore_session_id=SESSION)
    assert [v.conflicting_booking_id for v in violations] == [THIRD_BOOKING]


def test_validate__allocations_on_tables_not_proposed_are_ignored() -> None:
    t1, t2 = table("T1"), table("T2")
    assert validate(booking(4), [t1], [t1, t2], [alloc(t2)]) == []


def test_validate__accepts_a_one_shot_iterator_of_allocations() -> None:
    t1 = table("T1")
    result = validate_(booking(4), [t1.id], by_id(t1), iter([alloc(t1)]), NOW)
    assert codes(result) == [ViolationCode.TABLE_CONFLICT]


# ----------------------------------------------------------------------------- validate: all rules


def test_validate__reports_rules_in_fixed_order_and_messages_use_labels_not_uuids() -> None:
    t1 = table("T1", 5, 6, zone="Main", active=False)
    t2 = table("P2", 4, 4, zone="Patio")
    ghost = new_id()
    violations = validate(booking(2, status="NO_SHOW"), [t1, ghost, t2], [t1, t2], [alloc(t2)])
    assert codes(violations) == [
        ViolationCode.BOOKING_NOT_ASSIGNABLE,
        ViolationCode.TABLE_UNKNOWN,
        ViolationCode.TABLE_INACTIVE,
        ViolationCode.TABLES_NOT_COMBINABLE,
        ViolationCode.CAPACITY_TOO_LARGE,  # minimum sum 9 > 2
        ViolationCode.CAPACITY_TOO_LARGE,  # T1 not needed
        ViolationCode.CAPACITY_TOO_LARGE,  # P2 not needed
        ViolationCode.TABLE_CONFLICT,
    ]
    for v in violations:
        for uid in (t1.id, t2.id, ghost, OTHER_BOOKING, BOOKING_ID):
            assert str(uid) not in v.message
    assert all(v.conflicting_booking_id is None for v in violations[:-1])


# --------------------------------------------------------------------------------- data validation


def test_booking_rejects_naive_times_empty_ranges_and_bad_party() -> None:
    naive = datetime(2025, 6, 1, 19, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        BookingInfo(BOOKING_ID, RESTAURANT, 2, naive, naive + timedelta(hours=1), "PENDING")
    with pytest.raises(ValueError, match="end after"):
        BookingInfo(BOOKING_ID, RESTAURANT, 2, START, START, "PENDING")
    with pytest.raises(ValueError, match="party_size"):
        BookingInfo(BOOKING_ID, RESTAURANT, 0, START, END, "PENDING")
    with pytest.raises(ValueError, match="status"):
        BookingInfo(BOOKING_ID, RESTAURANT, 2, START, END, "WAITLIST")


def test_table_allocation_and_config_reject_impossible_values() -> None:
    with pytest.raises(ValueError):
        TableInfo(new_id(), RESTAURANT, "T1", "Main", 5, 4, True)
    with pytest.raises(ValueError):
        TableInfo(new_id(), RESTAURANT, "T1", "Main", 0, 0, True)
    with pytest.raises(ValueError, match="kind"):
        AllocationInfo(new_id(), new_id(), OTHER_BOOKING, "LOCK", START, END, None, None)
    with pytest.raises(ValueError):
        RulesConfig(max_combined_tables=0)
