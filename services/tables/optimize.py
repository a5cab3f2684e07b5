"""The evening optimizer (pure): one restaurant's bookings of a window in, the best table plan out.

Auto-assignment places one booking at a time on the best free candidate, so the order bookings
arrive in decides who gets a table: a party of two on the only four-top at 19:00 can turn away a
party of four at 19:30. :func:`optimize` looks at the whole window at once and, on OR-Tools
CP-SAT, chooses a table set (or none) for every booking that is not pinned, so that, in this
order of importance (lexicographic):

1. the seated covers (party sizes of the bookings with tables) are as many as possible;
2. then the empty seats (per seated booking, its tables' maximum capacities minus the party)
   are as few as possible;
3. then the moves (bookings that had tables and get another set, or none) are as few as
   possible. A booking whose tables must stay is pinned (staff pin the ones they promised).

The sets a booking may get are exactly what rules.validate accepts on an empty floor: active
tables of one zone, at most ``RulesConfig.max_combined_tables`` of them, that seat the party
(``sum(max) >= party``, ``sum(min) <= party``) with no table it does not need. They are
enumerated by candidates.rank_candidates with no allocations and no limit (:func:`table_sets`),
so the optimizer and the rules share one definition. A set is then dropped for a booking if one
of its tables is blocked during the booking: ``blocked`` (other staff's live holds, allocations
of bookings outside the window; the caller passes only those that count, e.g. no expired holds)
and the tables of the pinned bookings, which keep exactly their current tables. Two bookings
whose half-open ``[starts_at, ends_at)`` ranges overlap never share a table.

The model works on classes of tables, not on tables. Active tables with the same zone,
minimum and maximum capacity are interchangeable (the rules see nothing else of a table), so
they form one class, except that a table blocked during some free booking (by ``blocked`` or a
pinned booking) is a class of its own. A booking's table set becomes its class set, the
multiset ``{class: how many of its tables}``; the allowed sets give each booking its distinct
allowed class sets. Bookings without current tables that have the same party, range and class
sets are interchangeable too and form a group. Per group and class set an integer ``n`` (how
many of the group take it, ``sum <= group size``); per class and time point (the start of each
booking using the class and of each blocked range on it) the tables of the class taken by the
bookings running then, plus its blocked ranges running then, are at most the class's count.

Why this is exact. A table plan gives class loads within the counts, so no plan is lost.
Conversely, from class loads within the counts, :func:`_concrete` places the bookings in start
order, each on free tables of its classes (free: the last booking placed there has ended).
The bookings placed before ``b`` that still run at ``b``'s start are exactly those counted at
that time point, so a class with count ``m`` has at least ``m - load + (b's own k) >= k`` free
tables. A free table stays free for every later booking (they start no earlier), so any choice
works. A class of one blocked table is a single table: its load bound at every start (of a
booking or a blocked range) is exactly "no two of its ranges overlap" (in an interval graph
every maximal clique is the set of ranges running at some start). Pooled tables with their own
blocked times would not be exact (two two-tops, one blocked until 20:00 and one from 20:00,
leave one two-top free at every moment but none for 19:30-20:30), hence the singletons.

The order of importance is solved in stages, each proved before the next counts as proved:

A. the most covers alone (``maximize sum(party * n)``), within 85% of ``time_limit``;
B. with covers fixed at A's optimum (at least A's best if A was not proved), minimise the
   lexicographic weighted sum ``-W1 * covers + W2 * empty + keeps`` below, hinted with A's
   plan. ``keeps`` counts the movable bookings whose class set is not the one of their
   current (still allowed) tables, a lower bound on their moves (keeping needs the same
   class set); so B's optimum gives the fewest empty seats and a lower bound on the moves;
C. the concrete tables (:func:`_concrete`, each booking preferring its own current tables when
   its class set is theirs, then tables no later booking has now). If that has more moves
   than B's lower bound, CP-SAT on table sets (a boolean per booking and allowed set, at most
   one per booking; per table at most one booking among those running at each start) with
   covers and empty seats fixed to their values minimises the moves in the remaining time,
   hinted with the concrete plan. If not proved the plan is still valid, maybe not with the
   fewest moves, and not ``proven_optimal``.

The weights (proof): with ``M`` the bookings that can move (unpinned, with current tables) and
``E`` the largest empty seats the unpinned bookings can have (per booking the most empty seats
among its sets, summed), ``keeps`` lies in ``[0, M]`` and ``empty`` in ``[0, E]``. With
``W2 = M + 1`` and ``W1 = W2 * (E + 1)``: one seat less empty (``-W2``) outweighs every change
of ``keeps`` (at most ``M < W2``), and one cover more (``-W1``) outweighs every change of the
rest (``W2 * empty + keeps <= W2 * E + M < W1``). All terms are integers, so optimal for the
sum is lexicographically optimal; the weights stay far inside 64 bits for any evening.

The plan is the best (covers, empty seats, moves) of the stages' and of a hint that is always
feasible: the current sets that are still allowed (in booking order, dropping any that clash
with one already kept), then every booking still without tables on its first free set in rank
order (earliest start first); CP-SAT starts from it. ``proven_optimal`` only if every stage
that ran was proved; ``covers_bound`` is the best bound A or B proved. Only the search is
nondeterministic (its time limit and its parallel workers): the inputs are never changed and
nothing is read or written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol
from uuid import UUID

from ortools.sat.python import cp_model

from services.tables.candidates import rank_candidates
from services.tables.model import BookingStatus, table_sort_key
from services.tables.rules import DEFAULT_CONFIG, BookingInfo, RulesConfig, TableInfo

DEFAULT_TIME_LIMIT: Final = 5.0  # seconds
DEFAULT_WORKERS: Final = 2  # CP-SAT search workers: one per core of a small server
_COVERS_SHARE: Final = 0.85  # of the time limit at most for proving the covers (stage A)
_EVERY: Final = 10**9  # rank_candidates' limit that keeps every candidate
_ENUMERATION_START: Final = datetime(2000, 1, 1, tzinfo=UTC)  # any range: no allocations

_Set = tuple[UUID, ...]  # table ids, label order
_ClassSet = tuple[tuple[int, int], ...]  # ((class, how many of its tables), ...), class order


class Occupied(Protocol):
    """A table taken over a half-open range (rules.AllocationInfo is one)."""

    @property
    def table_id(self) -> UUID: ...

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Blocked:
    """A table the plan must leave alone over ``[starts_at, ends_at)``."""

    table_id: UUID
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class EveningBooking:
    """A booking of the window: ``party_size`` guests over ``[starts_at, ends_at)``.

    ``current`` are the tables it has now (empty: none); a ``pinned`` booking keeps exactly
    those (a pinned booking without tables stays without).
    """

    id: UUID
    party_size: int
    starts_at: datetime
    ends_at: datetime
    current: tuple[UUID, ...] = ()
    pinned: bool = False

    def __post_init__(self) -> None:
        if self.party_size < 1:
            raise ValueError(f"party_size must be at least 1, got {self.party_size}")
        if self.starts_at.utcoffset() is None or self.ends_at.utcoffset() is None:
            raise ValueError("a booking's times must be timezone-aware")
        if self.ends_at <= self.starts_at:
            raise ValueError("a booking must end after it starts")


@dataclass(frozen=True, slots=True)
class Move:
    """A booking that had tables and gets others (``to_tables`` empty: it loses them)."""

    booking_id: UUID
    from_tables: tuple[UUID, ...]
    to_tables: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class EveningPlan:
    """The optimizer's answer; the ``_before`` figures are those of the current assignment.

    ``tables`` holds every booking's table ids after the plan (empty: none), a set that does
    not change in the order it was given. ``covers_bound`` is the most covers any plan can
    seat, as far as CP-SAT proved (``covers_after`` when ``proven_optimal``).
    """

    tables: dict[UUID, tuple[UUID, ...]]
    covers_before: int
    covers_after: int
    empty_seats_before: int
    empty_seats_after: int
    moves: tuple[Move, ...]
    newly_seated: tuple[UUID, ...]
    proven_optimal: bool
    covers_bound: int
    solve_seconds: float


def table_sets(
    party: int, tables: Mapping[UUID, TableInfo], config: RulesConfig = DEFAULT_CONFIG
) -> list[tuple[TableInfo, ...]]:
    """Every table set rules.validate accepts for ``party`` on an empty floor, in rank order.

    ``tables`` are one restaurant's (else ValueError). The sets come from
    candidates.rank_candidates with no allocations and no limit, each in label order.
    """
    restaurants = {t.restaurant_id for t in tables.values()}
    if not restaurants:
        return []
    if len(restaurants) > 1:
        raise ValueError("the tables must be those of one restaurant")
    probe = BookingInfo(
        UUID(int=0),
        restaurants.pop(),
        party,
        _ENUMERATION_START,
        _ENUMERATION_START + timedelta(hours=1),
        BookingStatus.CONFIRMED,
    )
    ranked = rank_candidates(probe, tables, (), _ENUMERATION_START, config, limit=_EVERY)
    return [c.tables for c in ranked]


def optimize(
    tables: Mapping[UUID, TableInfo],
    bookings: Sequence[EveningBooking],
    blocked: Iterable[Occupied] = (),
    config: RulesConfig = DEFAULT_CONFIG,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = DEFAULT_WORKERS,
    seed: int = 0,
) -> EveningPlan:
    """The best plan for ``bookings`` on one restaurant's ``tables`` (see module docstring).

    ``blocked`` are the ranges the plan must avoid; ``time_limit`` (seconds) bounds the
    search, ``workers`` its parallel CP-SAT workers, ``seed`` its randomness. Raises ValueError
    for duplicate booking ids, current tables not in ``tables``, or a non-positive limit.
    """
    if time_limit <= 0 or workers < 1:
        raise ValueError("time_limit must be positive and workers at least 1")
    if len({b.id for b in bookings}) != len(bookings):
        raise ValueError("booking ids must be unique")
    for b in bookings:
        unknown = [t for t in b.current if t not in tables]
        if unknown:
            raise ValueError(f"booking {b.id} has tables that are not given: {unknown}")

    taken: dict[UUID, list[tuple[datetime, datetime]]] = {}
    for o in blocked:
        taken.setdefault(o.table_id, []).append((o.starts_at, o.ends_at))
    for b in bookings:
        if b.pinned:
            for t in b.current:
                taken.setdefault(t, []).append((b.starts_at, b.ends_at))

    free = [b for b in bookings if not b.pinned]
    by_party: dict[int, list[tuple[TableInfo, ...]]] = {}
    allowed: list[list[_Set]] = []  # per free booking, its sets, rank order
    for b in free:
        sets = by_party.get(b.party_size)
        if sets is None:
            sets = by_party[b.party_size] = table_sets(b.party_size, tables, config)
        busy = {
            t
            for t, ranges in taken.items()
            if any(s < b.ends_at and b.starts_at < e for s, e in ranges)
        }
        allowed.append([tuple(t.id for t in s) for s in sets if not any(t.id in busy for t in s)])

    seats = {t.id: t.max_capacity for t in tables.values()}
    began = time.perf_counter()
    hint = _hint(free, allowed)
    relevant = {
        t
        for t, ranges in taken.items()
        if any(s < b.ends_at and b.starts_at < e for s, e in ranges for b in free)
    }
    classes = _Classes(tables, relevant, taken)
    options = [classes.options(sets) for sets in allowed]
    keep = [
        classes.class_set(b.current)
        if b.current and any(frozenset(ids) == frozenset(b.current) for ids in sets)
        else None
        for b, sets in zip(free, allowed, strict=True)
    ]
    found, proven, bound, least_moves = _solve_classes(
        free, options, keep, classes, hint, time_limit, workers, seed
    )
    concrete = _concrete(free, options, keep, found, classes)
    best = min((hint, concrete), key=lambda c: _score(free, c, seats))
    covers, empty, moves = _score(free, best, seats)
    if moves > least_moves:
        left = time_limit - (time.perf_counter() - began)
        improved, moves_proven = (
            _solve_moves(free, allowed, seats, best, -covers, empty, left, workers, seed)
            if left > 0
            else (best, False)
        )
        if _score(free, improved, seats) <= _score(free, best, seats):
            best = improved
        proven = proven and moves_proven
    covers = -_score(free, best, seats)[0]
    bound = covers if proven else bound
    most = sum(b.party_size for b, sets in zip(free, allowed, strict=True) if sets)
    after = {b.id: ids for b, ids in zip(free, best, strict=True)}
    seconds = time.perf_counter() - began
    return _plan(bookings, after, seats, proven, max(covers, min(bound, most)), seconds)


def _overlap(a: EveningBooking, b: EveningBooking) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _hint(free: Sequence[EveningBooking], allowed: Sequence[Sequence[_Set]]) -> list[_Set]:
    """A feasible start (per free booking its set, () for none): the current sets still allowed
    and not clashing, then the first free set of each booking without one (earliest first)."""
    choice: list[_Set] = [()] * len(free)
    used: dict[UUID, list[EveningBooking]] = {}

    def fits(i: int, ids: _Set) -> bool:
        return not any(_overlap(free[i], o) for t in ids for o in used.get(t, ()))

    def take(i: int, ids: _Set) -> None:
        choice[i] = ids
        for t in ids:
            used.setdefault(t, []).append(free[i])

    for i, b in enumerate(free):
        current = frozenset(b.current)
        for ids in allowed[i]:
            if current and frozenset(ids) == current and fits(i, ids):
                take(i, ids)
                break
    for i in sorted(range(len(free)), key=lambda i: (free[i].starts_at, free[i].ends_at)):
        if not choice[i]:
            for ids in allowed[i]:
                if fits(i, ids):
                    take(i, ids)
                    break
    return choice


def _score(
    free: Sequence[EveningBooking], choice: Sequence[_Set], seats: Mapping[UUID, int]
) -> tuple[int, int, int]:
    """(-covers, empty seats, moves) of the free bookings under ``choice``: smaller is better."""
    covers = empty = moves = 0
    for b, ids in zip(free, choice, strict=True):
        if ids:
            covers += b.party_size
            empty += sum(seats[t] for t in ids) - b.party_size
        if b.current and frozenset(ids) != frozenset(b.current):
            moves += 1
    return -covers, empty, moves


class _Classes:
    """The active tables grouped into classes of interchangeable tables, in label order.

    A class is the tables of one (zone, min_capacity, max_capacity); a table in ``relevant``
    (blocked during some free booking) is a class of its own, with its blocked ranges.
    """

    def __init__(
        self,
        tables: Mapping[UUID, TableInfo],
        relevant: Iterable[UUID],
        taken: Mapping[UUID, Sequence[tuple[datetime, datetime]]],
    ) -> None:
        alone = set(relevant)
        index: dict[tuple[str, int, int, int], int] = {}
        self.members: list[list[TableInfo]] = []
        self.fixed: list[Sequence[tuple[datetime, datetime]]] = []
        self.of: dict[UUID, int] = {}
        for t in sorted((t for t in tables.values() if t.active), key=table_sort_key):
            key = (t.zone, t.min_capacity, t.max_capacity, t.id.int if t.id in alone else -1)
            c = index.setdefault(key, len(index))
            if c == len(self.members):
                self.members.append([])
                self.fixed.append(taken.get(t.id, ()) if t.id in alone else ())
            self.members[c].append(t)
            self.of[t.id] = c

    def class_set(self, ids: Iterable[UUID]) -> _ClassSet:
        counts: dict[int, int] = {}
        for t in ids:
            counts[self.of[t]] = counts.get(self.of[t], 0) + 1
        return tuple(sorted(counts.items()))

    def options(self, sets: Iterable[_Set]) -> list[_ClassSet]:
        """The distinct class sets of ``sets``, in the order they first occur."""
        return list(dict.fromkeys(self.class_set(ids) for ids in sets))

    def seats(self, cs: _ClassSet) -> int:
        return sum(self.members[c][0].max_capacity * k for c, k in cs)


def _weights(
    free: Sequence[EveningBooking], options: Sequence[Sequence[_ClassSet]], classes: _Classes
) -> tuple[int, int, int]:
    """(movable, W1, W2) of the lexicographic objective (see module docstring)."""
    movable = sum(1 for b in free if b.current)
    most_empty = sum(
        max((classes.seats(cs) - b.party_size for cs in sets), default=0)
        for b, sets in zip(free, options, strict=True)
    )
    w2 = movable + 1
    return movable, w2 * (most_empty + 1), w2


def _solver(time_limit: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver


def _run(solver: cp_model.CpSolver, model: cp_model.CpModel) -> int:
    status = solver.solve(model)
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model: {model.validate()}")
    return int(status)


def _solve_classes(
    free: Sequence[EveningBooking],
    options: Sequence[Sequence[_ClassSet]],
    keep: Sequence[_ClassSet | None],
    classes: _Classes,
    hint: Sequence[_Set],
    time_limit: float,
    workers: int,
    seed: int,
) -> tuple[list[int], bool, int, int]:
    """Stages A and B, CP-SAT on class sets (see module docstring): per free booking the index
    of its class set or -1, whether both stages were proved, the covers bound, and the fewest
    moves any best plan can have (B's ``keeps``; 0 if not proved)."""
    model = cp_model.CpModel()
    movable, w1, w2 = _weights(free, options, classes)
    groups: dict[object, list[int]] = {}  # interchangeable bookings (movable ones alone)
    for i, b in enumerate(free):
        key = (i,) if b.current else (b.party_size, b.starts_at, b.ends_at, tuple(options[i]))
        groups.setdefault(key, []).append(i)
    members = list(groups.values())
    n: list[list[cp_model.IntVar]] = []  # per group and class set, how many take it
    terms: list[cp_model.IntVar] = []
    coefficients: list[int] = []
    parties: list[int] = []
    uses: dict[int, dict[int, list[tuple[int, cp_model.IntVar]]]] = {}  # class -> group -> ..
    for g, group in enumerate(members):
        first = group[0]
        b, sets, size = free[first], options[first], len(group)
        hinted = [classes.class_set(hint[i]) for i in group if hint[i]]
        row = [model.new_int_var(0, size, f"n{g}_{k}") for k in range(len(sets))]
        n.append(row)
        if len(row) > 1:
            model.add(sum(row) <= size)
        for cs, var in zip(sets, row, strict=True):
            coefficient = -w1 * b.party_size + w2 * (classes.seats(cs) - b.party_size)
            if cs == keep[first]:
                coefficient -= 1  # it may keep its tables: at most the move in the offset
            terms.append(var)
            coefficients.append(coefficient)
            parties.append(b.party_size)
            model.add_hint(var, hinted.count(cs))
            for c, k in cs:
                uses.setdefault(c, {}).setdefault(g, []).append((k, var))
    for c, users in uses.items():
        count = len(classes.members[c])
        fixed = classes.fixed[c]
        most = {g: len(members[g]) * max(k for k, _ in pairs) for g, pairs in users.items()}
        span = {g: (free[members[g][0]].starts_at, free[members[g][0]].ends_at) for g in users}
        points = {s for s, _ in span.values()} | {s for s, _ in fixed}
        limits: dict[frozenset[int], int] = {}
        for at in points:
            running = frozenset(g for g, (s, e) in span.items() if s <= at < e)
            room = max(0, count - sum(1 for s, e in fixed if s <= at < e))
            if running and sum(most[g] for g in running) > room:
                limits[running] = min(limits.get(running, room), room)
        for running, room in limits.items():
            model.add(
                cp_model.LinearExpr.weighted_sum(
                    [v for g in sorted(running) for _, v in users[g]],
                    [k for g in sorted(running) for k, _ in users[g]],
                )
                <= room
            )
    # Stage A: the most covers alone (an easier proof than the weighted sum's).
    began = time.perf_counter()
    covers = cp_model.LinearExpr.weighted_sum(terms, parties)
    model.maximize(covers)
    solver = _solver(time_limit * _COVERS_SHARE, workers, seed)
    status = _run(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        hinted_choice = [
            sets.index(classes.class_set(h)) if h else -1
            for sets, h in zip(options, hint, strict=True)
        ]
        return hinted_choice, False, 2**62, 0
    values = [[solver.value(var) for var in row] for row in n]
    proven = status == cp_model.OPTIMAL
    bound = math.floor(solver.best_objective_bound + 1e-6)
    # Stage B: at least those covers, the lexicographic objective (so the fewest empty seats).
    left = time_limit - (time.perf_counter() - began)
    least_moves = 0
    if left > 0:
        seated = round(solver.objective_value)
        model.add(covers == seated if proven else covers >= seated)
        model.clear_hints()  # type: ignore[no-untyped-call]
        for row, row_values in zip(n, values, strict=True):
            for var, value in zip(row, row_values, strict=True):
                model.add_hint(var, value)
        model.minimize(cp_model.LinearExpr.weighted_sum(terms, coefficients) + movable)
        solver = _solver(left, workers, seed)
        status = _run(solver, model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = [[solver.value(var) for var in row] for row in n]
            bound = min(bound, _covers_bound(solver.best_objective_bound, w1))
        if proven and status == cp_model.OPTIMAL:
            least_moves = round(solver.objective_value) % w2
        else:
            proven = False
    else:
        proven = False
    found = [-1] * len(free)
    for group, row_values in zip(members, values, strict=True):
        taken = [k for k, value in enumerate(row_values) for _ in range(value)]
        for i, k in zip(group, taken, strict=False):
            found[i] = k
    return found, proven, bound, least_moves


def _concrete(
    free: Sequence[EveningBooking],
    options: Sequence[Sequence[_ClassSet]],
    keep: Sequence[_ClassSet | None],
    found: Sequence[int],
    classes: _Classes,
) -> list[_Set]:
    """Tables for the class sets ``found``, in start order, each booking taking free tables of
    its classes: its own current ones first, then those no later booking has now."""
    order = sorted(range(len(free)), key=lambda i: (free[i].starts_at, free[i].ends_at, i))
    wanted: dict[UUID, int] = {}
    for b in free:
        for table_id in b.current:
            wanted[table_id] = wanted.get(table_id, 0) + 1
    until: dict[UUID, datetime] = {}  # table -> end of the last booking placed on it
    out: list[_Set] = [()] * len(free)
    for i in order:
        b = free[i]
        for table_id in b.current:
            wanted[table_id] -= 1
        if found[i] < 0:
            continue
        cs = options[i][found[i]]
        mine = frozenset(b.current) if cs == keep[i] else frozenset()
        picked: list[TableInfo] = []
        for c, k in cs:
            ready = [t for t in classes.members[c] if until.get(t.id, b.starts_at) <= b.starts_at]
            ready.sort(key=lambda t: (t.id not in mine, wanted.get(t.id, 0) > 0))
            if len(ready) < k:
                raise RuntimeError("class loads within counts must leave free tables")
            picked.extend(ready[:k])
        for t in picked:
            until[t.id] = b.ends_at
        out[i] = tuple(t.id for t in sorted(picked, key=table_sort_key))
    return out


def _solve_moves(
    free: Sequence[EveningBooking],
    allowed: Sequence[Sequence[_Set]],
    seats: Mapping[UUID, int],
    hint: Sequence[_Set],
    covers: int,
    empty: int,
    time_limit: float,
    workers: int,
    seed: int,
) -> tuple[list[_Set], bool]:
    """Phase 2, CP-SAT on table sets: the fewest moves seating ``covers`` with ``empty`` empty
    seats, from the feasible ``hint``: (choice, proven optimal)."""
    model = cp_model.CpModel()
    x: list[list[cp_model.IntVar]] = []
    seated: list[tuple[int, cp_model.IntVar]] = []
    spare: list[tuple[int, cp_model.IntVar]] = []
    kept: list[cp_model.IntVar] = []
    uses: dict[UUID, list[tuple[int, cp_model.IntVar]]] = {}  # table -> (booking, y)
    for i, (b, sets) in enumerate(zip(free, allowed, strict=True)):
        current = frozenset(b.current)
        hinted = frozenset(hint[i])
        row = [model.new_bool_var(f"x{i}_{k}") for k in range(len(sets))]
        x.append(row)
        if len(row) > 1:
            model.add_at_most_one(row)
        on: dict[UUID, list[cp_model.IntVar]] = {}
        for ids, var in zip(sets, row, strict=True):
            seated.append((b.party_size, var))
            spare.append((sum(seats[t] for t in ids) - b.party_size, var))
            if current and frozenset(ids) == current:
                kept.append(var)
            model.add_hint(var, bool(hinted) and frozenset(ids) == hinted)
            for t in ids:
                on.setdefault(t, []).append(var)
        for t, vars_ in on.items():
            y = model.new_bool_var(f"y{i}_{t.hex}")
            model.add(y == sum(vars_))
            model.add_hint(y, t in hinted)
            uses.setdefault(t, []).append((i, y))
    for users in uses.values():
        cliques: set[frozenset[int]] = set()
        for i, _ in users:
            at = free[i].starts_at
            running = frozenset(j for j, _ in users if free[j].starts_at <= at < free[j].ends_at)
            if len(running) > 1:
                cliques.add(running)
        y_of = dict(users)
        for clique in cliques:
            model.add_at_most_one([y_of[j] for j in sorted(clique)])
    model.add(
        cp_model.LinearExpr.weighted_sum([v for _, v in seated], [p for p, _ in seated]) == covers
    )
    model.add(
        cp_model.LinearExpr.weighted_sum([v for _, v in spare], [e for e, _ in spare]) == empty
    )
    model.maximize(sum(kept))

    solver = _solver(time_limit, workers, seed)
    status = _run(solver, model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(hint), False
    choice = [
        next((ids for ids, v in zip(sets, row, strict=True) if solver.boolean_value(v)), ())
        for sets, row in zip(allowed, x, strict=True)
    ]
    return choice, status == cp_model.OPTIMAL


def _covers_bound(objective_bound: float, w1: int) -> int:
    """The covers no plan can exceed, from a lower bound on the (integer) objective.

    ``objective = -w1 * covers + r`` with ``0 <= r < w1``, so ``w1 * covers < w1 - bound``.
    """
    if not math.isfinite(objective_bound):
        return 2**62
    lowest = math.ceil(objective_bound - 1e-6)
    return (w1 - lowest - 1) // w1


def _plan(
    bookings: Sequence[EveningBooking],
    after: Mapping[UUID, tuple[UUID, ...]],
    seats: Mapping[UUID, int],
    proven: bool,
    free_bound: int,
    seconds: float,
) -> EveningPlan:
    """The plan's figures: ``after`` holds the free bookings' new sets, the pinned keep theirs."""
    tables: dict[UUID, tuple[UUID, ...]] = {}
    moves: list[Move] = []
    newly: list[UUID] = []
    covers = [0, 0]
    empty = [0, 0]
    pinned_covers = 0
    for b in bookings:
        new = b.current if b.pinned else after[b.id]
        if frozenset(new) == frozenset(b.current):
            new = b.current
        tables[b.id] = new
        for n, ids in enumerate((b.current, new)):
            if ids:
                covers[n] += b.party_size
                empty[n] += sum(seats[t] for t in ids) - b.party_size
        if b.pinned and b.current:
            pinned_covers += b.party_size
        if b.current and new != b.current:
            moves.append(Move(b.id, b.current, new))
        if new and not b.current:
            newly.append(b.id)
    return EveningPlan(
        tables=tables,
        covers_before=covers[0],
        covers_after=covers[1],
        empty_seats_before=empty[0],
        empty_seats_after=empty[1],
        moves=tuple(moves),
        newly_seated=tuple(newly),
        proven_optimal=proven,
        covers_bound=pinned_covers + free_bound,
        solve_seconds=seconds,
    )
