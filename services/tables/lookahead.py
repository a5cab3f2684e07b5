"""autoAssign's look ahead (pure): of the free table sets that fit a booking, prefer the one that
leaves the most room for the evening's other bookings that still have no tables.

Greedy best fit takes, for the booking at hand, the set with the fewest empty seats, whatever
it leaves around it: a party booked for 18:30 on an empty table leaves 17:00-18:30, which no
two-hour booking can use, while another table of the same size would have had it start right
after a booking ending at 18:30. Each candidate is therefore priced as

    cost = empty seats + stranded seat-hours

where a candidate strands, on each of its tables, the free time it leaves just before and just
after the booking (up to the table's neighbouring allocations, or the first start and last end
of the waiting bookings) when no waiting booking the table could seat fits inside it, counted
in hours times the table's seats. A waiting booking is one of the restaurant that could be
given tables and has none yet. Among equal costs, the candidate that takes the fewest of the
tables the waiting bookings overlapping it could use comes first: for each, a candidate taking
`k` of its `n` single-table fits costs it `party * k / n` covers, or, when it needs a
combination, `party` times the share of its zone's usable seats the candidate takes; so the
only table an overlapping party could use is left to it when another set fits this one as well.
(Measured on seeded evenings, bench/tables_quality.py: that share weighed as covers against
empty seats made the plans worse, stranded time made them better; hence the order.) It is an
estimate, not a proof: it does not solve the evening (optimizeFloor does), but it is linear in
candidates x waiting bookings and allocations, and deterministic. Ties keep the ranking's order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from services.tables.candidates import Candidate
from services.tables.model import AllocationKind
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
    waiting = list(waiting)
    taken = [0.0 for _ in ranked]  # the waiting bookings' fits each candidate takes
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
                hits = sum(1 for t in candidate.table_ids if t in singles)
                taken[i] += party * hits / len(singles)
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
            taken[i] += party * min(1.0, share)
    cost = [c.empty_seats + _stranded(booking, c, waiting, allocations, now) for c in ranked]
    order = sorted(range(len(ranked)), key=lambda i: (cost[i], taken[i], i))
    return [ranked[i] for i in order]


def _stranded(
    booking: BookingInfo,
    candidate: Candidate,
    waiting: Sequence[BookingInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
) -> float:
    """Seat-hours the candidate strands: on each of its tables, the free time it leaves just
    before and just after the booking that no waiting booking the table could seat fits in."""
    others = [w for w in waiting if w.id != booking.id and w.status in ASSIGNABLE_STATUSES]
    first = min((w.starts_at for w in others), default=booking.starts_at)
    last = max((w.ends_at for w in others), default=booking.ends_at)
    hold = AllocationKind.HOLD
    stranded = 0.0
    for table in candidate.tables:
        before, after = min(first, booking.starts_at), max(last, booking.ends_at)
        for a in allocations:
            if a.table_id != table.id or a.booking_id == booking.id:
                continue
            if a.kind == hold and a.expires_at is not None and a.expires_at <= now:
                continue
            if a.ends_at <= booking.starts_at:
                before = max(before, a.ends_at)
            elif a.starts_at >= booking.ends_at:
                after = min(after, a.starts_at)
        for lo, hi in ((before, booking.starts_at), (booking.ends_at, after)):
            if hi <= lo:
                continue
            if not any(
                lo <= w.starts_at
                and w.ends_at <= hi
                and table.min_capacity <= w.party_size <= table.max_capacity
                for w in others
            ):
                stranded += (hi - lo).total_seconds() / 3600 * table.max_capacity
    return stranded


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
