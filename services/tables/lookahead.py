"""autoAssign's look ahead (pure): of the free table sets that fit a booking, prefer the one that
leaves the most room for the evening's other bookings that still have no tables.

Greedy best fit takes, for the booking at hand, the set with the fewest empty seats, whatever
it leaves around it: a party booked for 18:30 on an empty table leaves 17:00-18:30, which no
two-hour booking can use, while another table of the same size would have had it start right
after a booking ending at 18:30. Each candidate is therefore priced as

    cost = empty seats + stranded seat-hours

where a candidate strands, on each of its tables, the free time it leaves just before and just
after the booking (up to the table's neighbouring allocations, or the first start and last end
of the waiting bookings) when no waiting booking the table could seat alone fits inside it,
counted in hours times the table's seats. A waiting booking is one of the restaurant that could
be given tables and has none yet. Among equal costs, the candidate whose tables could seat
alone the fewest covers of the waiting bookings overlapping this one comes first: the only
table an overlapping party could use is left to it when another set fits this one as well.
(Measured on seeded evenings, bench/tables_quality.py: those covers weighed against empty seats
made the plans worse, stranded time made them better; hence the order.)

It is an estimate, not a proof: it does not solve the evening (optimizeFloor does). It reads
only the candidates' tables' allocations, and the waiting bookings sorted once by start, so it
stays fast and deterministic. Ties keep the ranking's order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from services.tables.candidates import Candidate
from services.tables.model import AllocationKind
from services.tables.rules import ASSIGNABLE_STATUSES, AllocationInfo, BookingInfo, TableInfo

_Busy = list[tuple[datetime, datetime]]


def prefer_room(
    booking: BookingInfo,
    ranked: Sequence[Candidate],
    waiting: Iterable[BookingInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
) -> list[Candidate]:
    """`ranked` (free candidates, best first) ordered by cost, cheapest first (stable)."""
    if len(ranked) < 2:
        return list(ranked)
    others = sorted(
        (
            w
            for w in waiting
            if w.id != booking.id
            and w.status in ASSIGNABLE_STATUSES
            and w.restaurant_id == booking.restaurant_id
        ),
        key=lambda w: w.starts_at,
    )
    busy = _busy({t.id for c in ranked for t in c.tables}, booking, allocations, now)
    first = min([booking.starts_at, *(w.starts_at for w in others[:1])])
    last = max([booking.ends_at, *(w.ends_at for w in others)])
    starts = [w.starts_at for w in others]
    overlapping = [
        w for w in others if w.starts_at < booking.ends_at and booking.starts_at < w.ends_at
    ]
    cost: list[float] = []
    taken: list[int] = []
    for candidate in ranked:
        stranded = 0.0
        could = 0
        for table in candidate.tables:
            spans = busy.get(table.id, [])
            before = max([first, *(e for _, e in spans if e <= booking.starts_at)])
            after = min([last, *(s for s, _ in spans if s >= booking.ends_at)])
            for lo, hi in ((before, booking.starts_at), (booking.ends_at, after)):
                if hi > lo and not _fits(others, starts, lo, hi, table):
                    stranded += (hi - lo).total_seconds() / 3600 * table.max_capacity
            could += sum(
                w.party_size
                for w in overlapping
                if table.min_capacity <= w.party_size <= table.max_capacity
                and not any(s < w.ends_at and w.starts_at < e for s, e in spans)
            )
        cost.append(candidate.empty_seats + stranded)
        taken.append(could)
    order = sorted(range(len(ranked)), key=lambda i: (cost[i], taken[i], i))
    return [ranked[i] for i in order]


def _busy(
    table_ids: set[UUID], booking: BookingInfo, allocations: Sequence[AllocationInfo], now: datetime
) -> dict[UUID, _Busy]:
    """Per table of `table_ids`: the live allocations of other bookings, as time ranges."""
    hold = AllocationKind.HOLD
    out: dict[UUID, _Busy] = {}
    for a in allocations:
        if (
            a.table_id in table_ids
            and a.booking_id != booking.id
            and not (a.kind == hold and a.expires_at is not None and a.expires_at <= now)
        ):
            out.setdefault(a.table_id, []).append((a.starts_at, a.ends_at))
    return out


def _fits(
    others: Sequence[BookingInfo],
    starts: Sequence[datetime],
    lo: datetime,
    hi: datetime,
    table: TableInfo,
) -> bool:
    """Whether a waiting booking the table seats alone lies within [lo, hi)."""
    for i in range(bisect_left(starts, lo), len(others)):
        w = others[i]
        if w.starts_at >= hi:
            return False
        if w.ends_at <= hi and table.min_capacity <= w.party_size <= table.max_capacity:
            return True
    return False
