"""Finding table sets for a booking (pure): the best candidates, ranked, never approximate.

Suggestions and auto-assignment go through :func:`rank_candidates`. Every candidate carries
exactly the violations rules.validate returns for its tables (from the same helpers), so the
search and the rules can never disagree.

Search (``rank_candidates``). Candidates are ranked by the key
``(empty seats, table count, conflicting?, table labels)``, where labels compare in natural order
(``T2`` before ``T10``, see model.table_sort_key) table by table. The result is exactly the
first ``limit`` candidates of that order; nothing is approximate. How it stays fast:

1. One pass over the allocations keeps, per table, the allocations that conflict with this
   booking (other booking, overlapping, hold not expired, not the ignored session). Everything
   after that is independent of the number of allocations.
2. Only active tables of the restaurant with ``min_capacity <= party`` can be part of any
   candidate (with non-negative minimums, a combination's minimum sum bounds each member).
   With ``free_only`` the conflicting tables are dropped as well.
3. A candidate is valid exactly when its tables sit in one zone, ``n <= max_combined_tables``,
   ``sum(max) >= party``, ``sum(min) <= party`` and it is minimal, i.e.
   ``sum(max) - smallest max < party``. So with ``e = sum(max) - party`` empty seats every member
   has ``max > e``: validity depends on the maximum *capacities* (plus the minimums). The rank
   levels ``(e, n)`` are therefore visited in order, skipping the provably empty ones: two or
   more tables need ``n * (e + 1) <= party + e`` (so ``e <= party - 2``), and a single table
   only occurs at ``e = max_capacity - party``.
4. Per level and zone, the tables are grouped by maximum capacity and the capacity multisets
   (e.g. ``{4, 2, 2}``) of exactly ``n`` tables seating exactly ``party + e`` are enumerated in
   descending capacity order. That is tiny and prunes hard: capacities ``<= e`` are never used,
   a class's table count bounds its multiplicity, the class's smallest ``min_capacity`` bounds
   the minimum sum, and once the current capacity times the open slots cannot reach the target,
   smaller capacities cannot either.
5. Each (zone, multiset) group lazily yields its table sets in label order: a depth-first search
   over the zone's label-sorted tables, picking positions in increasing order and needing a
   given count per capacity class. A branch stops as soon as the rest of the zone cannot supply
   the remaining counts, or the minimum-capacity sum (this table's minimum plus the smallest
   possible remaining ones) would exceed the party. The groups of a level are merged with
   ``heapq.merge``: first on free tables only, then, unless ``free_only``, on all tables keeping
   the sets with a conflict. Because levels are visited in key order, the search stops as soon
   as ``limit`` candidates are taken; every later candidate is provably no better. Only those
   candidates are materialised, and their violations come from the same helper ``validate``
   uses, fed from the per-table conflict lists of step 1.

Cost: O(allocations + tables log tables) for the set-up plus, per visited level, O(groups x
zone size) to start the searches and about O(limit x n x zone size) to draw the candidates.
For 200 tables in 5 zones with 2,000 allocations the median is about a millisecond.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from operator import itemgetter
from uuid import UUID

from services.tables.model import LabelKey, Violation, table_sort_key
from services.tables.rules import (
    ASSIGNABLE_STATUSES,
    DEFAULT_CONFIG,
    AllocationInfo,
    BookingInfo,
    RulesConfig,
    TableInfo,
    conflict_violations,
    labels,
    plural,
    relevant_allocations,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A table set that fits a booking, with its rank data and what ``validate`` says about it."""

    tables: tuple[TableInfo, ...]
    empty_seats: int
    score: float
    reason: str
    violations: tuple[Violation, ...]

    @property
    def table_ids(self) -> tuple[UUID, ...]:
        """The ids of ``tables``, in the same (label) order."""
        return tuple(t.id for t in self.tables)


_Item = tuple[LabelKey, TableInfo]
_Combo = tuple[tuple[LabelKey, ...], tuple[TableInfo, ...]]
_Multiset = tuple[tuple[int, int], ...]  # ((max capacity, how many), ...), capacity descending
_Class = tuple[int, int, int]  # (max capacity, table count, smallest min_capacity)


def rank_candidates(
    booking: BookingInfo,
    tables: Mapping[UUID, TableInfo],
    allocations: Iterable[AllocationInfo],
    now: datetime,
    config: RulesConfig = DEFAULT_CONFIG,
    limit: int = 5,
    free_only: bool = False,
    ignore_session_id: UUID | None = None,
) -> list[Candidate]:
    """Return the best ``limit`` table sets for ``booking``, best first (see module docstring).

    Candidates are single tables or minimal same-zone combinations of active tables that seat
    the party, ranked by empty seats, table count, free before conflicting, then labels. Their
    ``violations`` are what :func:`validate` returns (only ``TABLE_CONFLICT`` is possible);
    ``free_only`` drops conflicting ones. A booking that cannot be assigned has no candidates.
    """
    if limit <= 0 or booking.status not in ASSIGNABLE_STATUSES:
        return []
    party = booking.party_size
    max_tables = config.max_combined_tables
    eligible: dict[UUID, TableInfo] = {
        table_id: t
        for table_id, t in tables.items()
        if t.active
        and t.id == table_id
        and t.restaurant_id == booking.restaurant_id
        and t.min_capacity <= party
    }
    relevant = relevant_allocations(booking, allocations, now, ignore_session_id, eligible)
    if free_only:
        for table_id in relevant:
            del eligible[table_id]
    if not eligible:
        return []

    zone_items: dict[str, list[_Item]] = {}
    for t in eligible.values():
        zone_items.setdefault(t.zone, []).append((table_sort_key(t), t))
    zone_classes: dict[str, list[_Class]] = {}
    for zone, items in zone_items.items():
        items.sort(key=itemgetter(0))
        zone_classes[zone] = _capacity_classes(items)
    busy = {table_id.int for table_id in relevant}
    free_items = {
        zone: [item for item in items if item[1].id.int not in busy]
        for zone, items in zone_items.items()
    }

    # Levels (e, n) in rank order. Every member of a minimal set seats more than e guests, so
    # n >= 2 tables need n * (e + 1) <= party + e (hence e <= party - 2); single tables only
    # occur at e = capacity - party. Other levels are provably empty and skipped.
    capacities = {cap for classes in zone_classes.values() for cap, _, _ in classes}
    single_levels = {cap - party for cap in capacities if cap >= party}
    combined_levels = range(min(party - 2, max(capacities) - 1) + 1) if max_tables > 1 else ()
    levels = sorted(single_levels.union(combined_levels))
    chosen: list[tuple[tuple[TableInfo, ...], int, bool]] = []
    for empty, n in ((e, n) for e in levels for n in range(1, max_tables + 1)):
        if n * (empty + 1) > party + empty:
            continue
        level = [
            (zone, multiset)
            for zone, classes in zone_classes.items()
            for multiset in _multisets(classes, party + empty, n, empty, party)
        ]
        if not level:
            continue
        need = limit - len(chosen)
        free_streams = [_combos(free_items[zone], ms, party) for zone, ms in level]
        for _, combo in islice(heapq.merge(*free_streams, key=itemgetter(0)), need):
            chosen.append((combo, empty, False))
        if not free_only and len(chosen) < limit:
            need = limit - len(chosen)
            all_streams = [_combos(zone_items[zone], ms, party) for zone, ms in level]
            conflicting = (
                combo
                for _, combo in heapq.merge(*all_streams, key=itemgetter(0))
                if any(t.id.int in busy for t in combo)
            )
            for combo in islice(conflicting, need):
                chosen.append((combo, empty, True))
        if len(chosen) >= limit:
            break  # every later level ranks below what we have
    return [
        _candidate(booking, combo, e, conflicted, relevant, max_tables)
        for combo, e, conflicted in chosen
    ]


def _capacity_classes(items: Sequence[_Item]) -> list[_Class]:
    """Group a zone's tables by maximum capacity, largest first."""
    classes: dict[int, list[int]] = {}  # max capacity -> [count, smallest min_capacity]
    for _, t in items:
        entry = classes.get(t.max_capacity)
        if entry is None:
            classes[t.max_capacity] = [1, t.min_capacity]
        else:
            entry[0] += 1
            entry[1] = min(entry[1], t.min_capacity)
    return [(cap, count, low) for cap, (count, low) in sorted(classes.items(), reverse=True)]


def _multisets(
    classes: Sequence[_Class], seats: int, parts: int, empty: int, party: int
) -> list[_Multiset]:
    """Capacity multisets of ``parts`` tables seating exactly ``seats`` (step 3).

    Every capacity must exceed ``empty`` (minimality), each class bounds its multiplicity, and
    the class minimums bound the minimum-capacity sum by ``party``.
    """
    found: list[_Multiset] = []
    chosen: list[tuple[int, int]] = []
    floor = empty + 1

    def walk(start: int, rest: int, left: int, min_sum: int) -> None:
        for i in range(start, len(classes)):
            cap, count, low = classes[i]
            if cap < floor or cap * left < rest:
                return  # capacities only get smaller from here
            for k in range(1, min(count, left) + 1):
                rest_k, left_k, min_k = rest - cap * k, left - k, min_sum + low * k
                if min_k > party or rest_k < left_k * floor:
                    break  # more copies only make both worse
                chosen.append((cap, k))
                if left_k == 0:
                    if rest_k == 0:
                        found.append(tuple(chosen))
                else:
                    walk(i + 1, rest_k, left_k, min_k)
                chosen.pop()

    walk(0, seats, parts, 0)
    return found


def _combos(
    zone_items: Sequence[_Item], multiset: tuple[tuple[int, int], ...], party: int
) -> Iterator[_Combo]:
    """Yield the combinations of ``zone_items`` with ``multiset`` capacities, in label order.

    Depth-first over the label-sorted tables, picking in increasing position, so combinations
    come out in lexicographic label order. A branch stops once the remaining tables cannot
    supply the remaining count of some capacity or the minimum-capacity sum would exceed the
    party.
    """
    cls_of = {cap: i for i, (cap, _) in enumerate(multiset)}
    items = [item for item in zone_items if item[1].max_capacity in cls_of]
    n_cls = len(multiset)
    size = len(items)
    cls = [cls_of[t.max_capacity] for _, t in items]
    mins = [t.min_capacity for _, t in items]
    no_min = party + 1
    suffix_count: list[list[int]] = [[0] * n_cls for _ in range(size + 1)]
    suffix_min: list[list[int]] = [[no_min] * n_cls for _ in range(size + 1)]
    for i in range(size - 1, -1, -1):
        counts = suffix_count[i + 1][:]
        lows = suffix_min[i + 1][:]
        counts[cls[i]] += 1
        lows[cls[i]] = min(lows[cls[i]], mins[i])
        suffix_count[i] = counts
        suffix_min[i] = lows
    remaining = [count for _, count in multiset]
    total = sum(remaining)
    picked: list[int] = []

    def search(start: int, min_sum: int) -> Iterator[_Combo]:
        if len(picked) == total:
            chosen = [items[j] for j in picked]
            yield tuple(item[0] for item in chosen), tuple(item[1] for item in chosen)
            return
        for j in range(start, size):
            counts = suffix_count[j]
            lows = suffix_min[j]
            bound = min_sum
            for c in range(n_cls):
                left = remaining[c]
                if left:
                    if counts[c] < left:
                        return  # later suffixes are smaller still
                    bound += left * lows[c]
            if bound > party:
                return  # suffix minimums only grow
            c = cls[j]
            if not remaining[c] or bound - lows[c] + mins[j] > party:
                continue  # class already complete / this table's minimum is too high
            remaining[c] -= 1
            picked.append(j)
            yield from search(j + 1, min_sum + mins[j])
            picked.pop()
            remaining[c] += 1

    return search(0, 0)


def _candidate(
    booking: BookingInfo,
    combo: tuple[TableInfo, ...],
    empty: int,
    conflicted: bool,
    relevant: Mapping[UUID, list[AllocationInfo]],
    max_tables: int,
) -> Candidate:
    violations = tuple(conflict_violations(booking, combo, relevant))
    n = len(combo)
    party = booking.party_size
    # Strictly decreasing along the rank order: the fraction stays below one empty seat.
    score = 1.0 / (1.0 + empty + (n - 1 + (0.5 if conflicted else 0.0)) / max_tables)
    seats = party + empty
    if n == 1:
        head = f"Single table {combo[0].label} seats {seats}"
    else:
        head = f"Tables {labels(combo, ' + ')} ({combo[0].zone}) seat {seats}"
    spare = f", {empty} empty {plural(empty, 'seat', 'seats')}" if empty else ""
    if violations:
        status = (
            f"conflicts with {len(violations)} other"
            f" {plural(len(violations), 'booking', 'bookings')}"
        )
    else:
        status = "free"
    return Candidate(
        tables=combo,
        empty_seats=empty,
        score=score,
        reason=f"{head} for a party of {party}{spare}; {status}",
        violations=violations,
    )
