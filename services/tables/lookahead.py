"""autoAssign's look ahead (pure): of the free table sets that fit a booking, prefer the one that
leaves the most room for the evening's other bookings that still have no tables.

Greedy best-fit takes, for the booking at hand, the set with the fewest empty seats, whatever
it costs the bookings that come after: a party of 2 takes the only table an overlapping party of
8 could use, or a 4-top that two later parties of 3 were counting on. Each candidate is
therefore priced as

    cost = empty seats + the covers it is expected to cost the waiting bookings

where a waiting booking is one of the restaurant that has no tables yet, is assignable, and
overlaps the booking in time. For each, the tables that could seat it are the active tables of
its restaurant free over its time with ``min_capacity <= party``; those that seat it alone
(``max_capacity >= party``) are its *singles*. A candidate that takes ``k`` of a waiting
booking's ``n`` singles costs it ``party * k / n`` covers (all of them when it takes its last
one); for a booking with no single, which needs a combination, it costs ``party`` times the
share of its zone's usable seats the candidate takes. This is an estimate, not a proof: it
does not solve the evening (optimizeFloor does), but it is linear in tables x waiting bookings
and keeps autoAssign fast and deterministic. Ties keep the ranking's order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from services.tables.candidates import Candidate
from services.tables.rules import (
    ASSIGNABLE_STATUSES,
    AllocationInfo,
    BookingInfo,
    TableInfo,
    relevant_allocations,
)


def prefer_room(
    booking: BookingInfo,
    ranked: Sequence[Candidate],
    waiting: Iterable[BookingInfo],
    tables: Mapping[UUID, TableInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
) -> list[Candidate]:
    """`ranked` (free candidates, best first) ordered by cost, cheapest first (stable)."""
    if len(ranked) < 2:
        return list(ranked)
    costs = [float(c.empty_seats) for c in ranked]
    for other in waiting:
        if (
            other.id == booking.id
            or other.status not in ASSIGNABLE_STATUSES
            or other.restaurant_id != booking.restaurant_id
            or not (other.starts_at < booking.ends_at and booking.starts_at < other.ends_at)
        ):
            continue
        usable = _usable_tables(other, tables, allocations, now)
        if not usable:
            continue  # nothing can seat it anyway: no candidate costs it anything
        party = other.party_size
        singles = {t.id for t in usable if t.max_capacity >= party}
        if singles:
            for i, candidate in enumerate(ranked):
                taken = sum(1 for t in candidate.table_ids if t in singles)
                costs[i] += party * taken / len(singles)
            continue
        seats: dict[str, int] = defaultdict(int)
        for t in usable:
            seats[t.zone] += t.max_capacity
        ids = {t.id for t in usable}
        for i, candidate in enumerate(ranked):
            zone = candidate.tables[0].zone
            if seats[zone] < party:
                continue  # the zone cannot seat it anyway
            share = sum(t.max_capacity for t in candidate.tables if t.id in ids) / seats[zone]
            costs[i] += party * min(1.0, share)
    order = sorted(range(len(ranked)), key=lambda i: (costs[i], i))
    return [ranked[i] for i in order]


def _usable_tables(
    booking: BookingInfo,
    tables: Mapping[UUID, TableInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
) -> list[TableInfo]:
    """The tables that could be part of a set for `booking` on the floor as it is."""
    eligible = {
        table_id: t
        for table_id, t in tables.items()
        if t.active
        and t.restaurant_id == booking.restaurant_id
        and t.min_capacity <= booking.party_size
    }
    taken = relevant_allocations(booking, allocations, now, None, eligible)
    return [t for table_id, t in eligible.items() if table_id not in taken]
