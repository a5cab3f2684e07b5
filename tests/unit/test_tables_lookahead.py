"""autoAssign's look ahead (pure): of equally good free sets, the one that leaves the most
room for the evening's waiting bookings comes first."""

from __future__ import annotations

from datetime import timedelta

from services.tables.candidates import rank_candidates
from services.tables.lookahead import prefer_room
from services.tables.rules import BookingInfo
from tests.support.tables import END, NOW, RESTAURANT, START, alloc, by_id, new_id, table


def waiting(party: int, hours_later: float = 0.5) -> BookingInfo:
    start = START + timedelta(hours=hours_later)
    return BookingInfo(new_id(), RESTAURANT, party, start, start + timedelta(hours=2), "PENDING")


def best(party: int, tables, others, allocations=()) -> list[str]:
    me = BookingInfo(new_id(), RESTAURANT, party, START, END, "CONFIRMED")
    ranked = rank_candidates(me, by_id(*tables), allocations, NOW, limit=8, free_only=True)
    chosen = prefer_room(me, ranked, others, list(allocations), NOW)
    return [", ".join(t.label for t in c.tables) for c in chosen]


def test_prefer_room__leaves_a_waiting_partys_last_single_table() -> None:
    # Two 4-tops free for this party of 3 (19:00-21:00); B is taken from 21:00, so a party of
    # 4 waiting for 20:30-22:30 can only have A.
    a, b, c = table("A", 1, 4), table("B", 1, 4), table("C", 1, 2)
    taken = [alloc(b, start=START + timedelta(hours=2), end=START + timedelta(hours=4))]
    assert best(3, [a, b, c], [], taken)[0] == "A"
    assert best(3, [a, b, c], [waiting(4, hours_later=1.5)], taken)[0] == "B"
    # Waiting for 18:30-20:30 it could have either: the ranking's order stands.
    assert best(3, [a, b, c], [waiting(4, hours_later=-0.5)], taken)[0] == "A"


def test_prefer_room__a_later_booking_that_fits_after_it_costs_nothing() -> None:
    # The party of 4 waiting for 22:00-24:00 fits on A after this one (19:00-21:00) as well as
    # anywhere: neither 4-top strands time, so the ranking's order stands.
    a, b, c = table("A", 1, 4), table("B", 1, 4), table("C", 1, 2)
    taken = [alloc(b, start=START + timedelta(hours=2), end=START + timedelta(hours=4))]
    assert best(3, [a, b, c], [waiting(4, hours_later=3)], taken)[0] == "A"


def test_prefer_room__never_reorders_a_lone_candidate_and_is_stable() -> None:
    tables = [table("A", 1, 4), table("B", 1, 4)]
    assert best(4, tables[:1], [waiting(4)]) == ["A"]
    assert best(4, tables, [waiting(2, hours_later=5)]) == ["A", "B"]


def test_prefer_room__starts_where_a_booking_ends_rather_than_strand_the_time_before() -> None:
    # A party of 4 for 19:00-21:00: B is taken until 19:00, A is free all evening. Best fit
    # takes A (label order) and strands A's 17:30-19:00, so the party of 4 waiting for
    # 17:30-19:30 has no table; starting on B right after its booking leaves A to them.
    a, b = table("A", 1, 4), table("B", 1, 4)
    taken = [alloc(b, start=START - timedelta(hours=2), end=START)]
    assert best(4, [a, b], [], taken)[0] == "A"
    assert best(4, [a, b], [waiting(4, hours_later=-1.5)], taken)[0] == "B"
