"""Giving tables to bookings: propose (and hold), confirm, cancel, auto-assign, status changes.

Each command is one transaction in four round trips: begin, lock what the decision depends on
and read it (store.lock_and_read), write the decision made by plan.py (pure) in one statement
(store.commit), commit; the triggers announce it. Every decision also re-validates the
PROPOSED sessions of other bookings whose tables it changes. `in_transaction` (with its retry)
is the one way these commands, and setup's, open a transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID, uuid4

import asyncpg

from db.pool import tenant_transaction
from db.sql import load
from services.core.ids import parse_id, require_id
from services.core.principal import Principal
from services.errors import InvalidInput, NotFound, Problems, StaleVersion
from services.tables import inputs, plan, reads, rules, store, workers
from services.tables.candidates import Candidate, rank_candidates
from services.tables.config import TablesConfig
from services.tables.errors import FloorChanged, InvalidBookingTransition, NoTablesAvailable
from services.tables.lookahead import prefer_room
from services.tables.model import (
    OPEN_SESSION_STATUSES,
    AllocationKind,
    AutoAssigned,
    BookingView,
    FloorMove,
    FloorPlanView,
    SessionStatus,
    SessionView,
    Violation,
    ViolationCode,
    sort_tables,
)
from services.tables.optimize import EveningBooking, EveningPlan, optimize
from services.tables.rules import (
    ASSIGNABLE_STATUSES,
    AllocationInfo,
    BookingInfo,
    TableInfo,
    require_owner,
    require_staff,
)

log = logging.getLogger(__name__)

Q = load("tables")

T = TypeVar("T")
ATTEMPTS = 4
AUTO_ASSIGN_CANDIDATES = 5
LOOKAHEAD_CANDIDATES = 8  # the free sets autoAssign weighs against the waiting bookings
LOOKAHEAD_BOOKINGS = 150  # the waiting bookings it weighs them against: the nearest in time


async def in_transaction(
    pool: asyncpg.Pool, tenant: UUID, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run `work` in one tenant transaction, again from the start if it lost a race.

    Within the lock order no flow can deadlock or overlap another's allocation; a deadlock or
    the exclusion constraint firing means a writer outside it (or a bug) got in between. A
    failed attempt wrote nothing, and the next one reads what that writer committed (so a
    taken table comes back as a TABLE_CONFLICT, not an error).
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with tenant_transaction(pool, tenant) as conn:
                return await work(conn)
        except (
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
            asyncpg.ExclusionViolationError,
        ) as exc:
            if attempt == ATTEMPTS:
                raise
            log.warning("tables transaction retried (attempt %d): %s", attempt, type(exc).__name__)
            await asyncio.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


async def _open(
    conn: asyncpg.Connection, booking_id: UUID, take: Sequence[UUID] = ()
) -> store.Locked:
    locked = await store.lock_and_read(conn, booking_id=booking_id, take=take)
    if locked is None:
        raise NotFound("booking not found")
    return locked


async def _open_session(conn: asyncpg.Connection, who: Principal, session_id: UUID) -> store.Locked:
    """The session's booking, for the session's owner (or an admin) only."""
    locked = await store.lock_and_read(conn, session_id=session_id, about=session_id)
    if locked is None:
        raise NotFound("assignment session not found")
    require_owner(who, locked.row["session_created_by"])
    return locked


# ------------------------------------------------------------------------ propose


async def propose_tables(
    pool: asyncpg.Pool,
    who: Principal,
    booking_id: str,
    table_ids: Sequence[str],
    config: TablesConfig,
) -> SessionView:
    """Propose tables for a booking: hold them all if the rules allow, else say why.

    The caller's open session for the booking is reused (or created). Its previous hold is
    released, the same tables again just extend the hold, and an empty list releases it. A
    clean proposal holds every table (all or none) until now + the hold TTL and the session is
    HELD; otherwise it is PROPOSED with its violations and holds nothing.
    """
    require_staff(who)
    problems = Problems()
    bid = parse_id(booking_id)
    if bid is None:
        problems.add("bookingId", "is not a valid id")
    requested: list[UUID] = []
    for raw in table_ids:
        parsed = parse_id(raw)
        if parsed is None:
            problems.add("tableIds", f"{raw[:40]!r} is not a valid id")
            break
        requested.append(parsed)
    requested = list(dict.fromkeys(requested))
    if len(requested) > inputs.MAX_PROPOSED_TABLES:
        problems.add("tableIds", f"propose at most {inputs.MAX_PROPOSED_TABLES} tables")
    problems.raise_if_any()
    assert bid is not None
    ttl = timedelta(seconds=config.hold_ttl_seconds)

    async def work(conn: asyncpg.Connection) -> SessionView:
        locked = await _open(conn, bid, requested)
        decided = plan.propose(locked.scope, who.user_id, requested, ttl, config.rules, uuid4())
        return store.session_view(locked, decided, await store.commit(conn, locked, decided))

    view = await in_transaction(pool, who.tenant_id, work)
    if view.status == SessionStatus.HELD:
        workers.hold_placed()
    return view


# ------------------------------------------------------------------------ confirm, cancel


async def confirm_assignment(
    pool: asyncpg.Pool,
    who: Principal,
    session_id: str,
    expected_version: int | None,
    config: TablesConfig,
) -> SessionView:
    """Turn a HELD session's holds into the booking's assignment, in one transaction.

    The booking is locked first, so when two staff confirm the same booking at once one wins
    and the other finds its session CANCELLED. An expired hold is marked EXPIRED (and that is
    committed) before SessionNotActive is returned.
    """
    require_staff(who)
    sid = require_id(session_id, "assignment session")

    async def work(conn: asyncpg.Connection) -> tuple[SessionView, Exception | None]:
        locked = await _open_session(conn, who, sid)
        decided = plan.confirm(locked.scope, sid, expected_version, config.rules)
        written = await store.commit(conn, locked, decided)
        return store.session_view(locked, decided, written), decided.refusal

    view, refusal = await in_transaction(pool, who.tenant_id, work)
    if refusal is not None:
        raise refusal
    return view


async def cancel_assignment_session(
    pool: asyncpg.Pool, who: Principal, session_id: str, config: TablesConfig
) -> SessionView:
    """Release the session's hold and close it (its owner or an admin)."""
    require_staff(who)
    sid = require_id(session_id, "assignment session")

    async def work(conn: asyncpg.Connection) -> SessionView:
        locked = await _open_session(conn, who, sid)
        decided = plan.cancel(locked.scope, sid, config.rules)
        return store.session_view(locked, decided, await store.commit(conn, locked, decided))

    return await in_transaction(pool, who.tenant_id, work)


# ------------------------------------------------------------------------ auto-assign


async def auto_assign(
    pool: asyncpg.Pool, who: Principal, booking_id: str, config: TablesConfig
) -> AutoAssigned:
    """Assign the best free table set to the booking, in one go.

    The best few free candidates are ranked on the whole restaurant and ordered by what they
    leave for the evening's bookings still without tables (lookahead.prefer_room), then their
    tables are locked and the first that still passes the rules is taken. Any earlier
    assignment of the booking is replaced and open sessions for it are cancelled.
    """
    require_staff(who)
    bid = require_id(booking_id, "booking")

    async def work(conn: asyncpg.Connection) -> AutoAssigned:
        # Rank on the whole restaurant without locks, then lock the booking and the best
        # candidates' tables together (in key order) and take the first that still fits.
        found = await reads.restaurant_state(conn, bid)
        if found is None:
            raise NotFound("booking not found")
        info, tables, allocations, now = found.booking, found.tables, found.allocations, found.now
        if info.status not in ASSIGNABLE_STATUSES:
            raise NoTablesAvailable(
                f"a {info.status} booking cannot be given tables", [_not_assignable(info.status)]
            )
        ranked = rank_candidates(
            info,
            tables,
            allocations,
            now,
            config.rules,
            limit=LOOKAHEAD_CANDIDATES,
            free_only=True,
        )
        if not ranked:
            raise _no_tables(info, tables, allocations, now, config)
        waiting = await conn.fetch(
            Q["waiting_bookings"], info.restaurant_id, found.row["during"], LOOKAHEAD_BOOKINGS
        )
        ranked = prefer_room(info, ranked, map(rules.booking_info, waiting), allocations, now)[
            :AUTO_ASSIGN_CANDIDATES
        ]
        locked = await _open(conn, bid, [t for c in ranked for t in c.table_ids])
        decided = plan.auto_assign(locked.scope, ranked, config.rules)
        if decided is None:  # every candidate was taken meanwhile (or the booking changed)
            fresh = [a for a in allocations if a.table_id not in locked.scope.tables]
            raise _no_tables(
                locked.scope.booking,
                tables,
                [*fresh, *locked.scope.allocations.values()],
                now,
                config,
            )
        view = store.booking_view(locked, decided, await store.commit(conn, locked, decided))
        return AutoAssigned(booking=view, tables=view.tables)

    return await in_transaction(pool, who.tenant_id, work)


def _not_assignable(status: str) -> Violation:
    return Violation(
        ViolationCode.BOOKING_NOT_ASSIGNABLE,
        f"Booking is {status}; only PENDING, CONFIRMED or SEATED bookings can be given tables",
        (),
    )


def _no_tables(
    info: BookingInfo,
    tables: dict[UUID, TableInfo],
    allocations: Sequence[AllocationInfo],
    now: datetime,
    config: TablesConfig,
) -> NoTablesAvailable:
    """Why nothing fits: no table set seats the party, or the best ones are taken (by whom)."""
    ranked: list[Candidate] = rank_candidates(
        info, tables, allocations, now, config.rules, limit=AUTO_ASSIGN_CANDIDATES
    )
    when = f"{info.starts_at:%H:%M}-{info.ends_at:%H:%M}"
    if not ranked:
        return NoTablesAvailable(
            f"no table or combination of tables seats a party of {info.party_size}",
            [
                Violation(
                    ViolationCode.CAPACITY_TOO_SMALL,
                    f"No active table, or combination of tables in one zone, seats a party of"
                    f" {info.party_size}",
                    (),
                )
            ],
        )
    seen: dict[tuple[str, str, tuple[UUID, ...], UUID | None], Violation] = {}
    for candidate in ranked:
        for v in candidate.violations:
            seen.setdefault((v.code, v.message, v.table_ids, v.conflicting_booking_id), v)
    return NoTablesAvailable(
        f"every table set that seats a party of {info.party_size} at {when} is taken;"
        f" the best {len(ranked)} {'candidate' if len(ranked) == 1 else 'candidates'}"
        " conflict with other bookings",
        list(seen.values()),
    )


# ------------------------------------------------------------------------ booking status


async def set_booking_status(
    pool: asyncpg.Pool,
    who: Principal,
    booking_id: str,
    status: str,
    expected_version: int | None,
    config: TablesConfig,
) -> BookingView:
    """Seat, complete, cancel or mark a no-show; cancelling releases the booking's tables."""
    require_staff(who)
    bid = require_id(booking_id, "booking")
    if status not in rules.TRANSITIONS:
        raise InvalidInput.one("status", f"unknown status {status!r}")

    async def work(conn: asyncpg.Connection) -> BookingView:
        locked = await _open(conn, bid)
        booking = locked.row
        if expected_version is not None and expected_version != booking["version"]:
            raise StaleVersion(
                "the booking changed since you last saw it; check it and try again",
                booking["version"],
            )
        current: str = booking["status"]
        if current == status:
            return (await reads.booking_views(conn, [bid]))[bid]
        if not rules.can_move(current, status):
            raise InvalidBookingTransition(rules.refusal(current, status), current, status)
        if rules.closes_sessions(status):
            decided = plan.set_status(locked.scope, status, config.rules)
            return store.booking_view(locked, decided, await store.commit(conn, locked, decided))
        await conn.execute(Q["set_booking_status"], bid, status)
        return (await reads.booking_views(conn, [bid]))[bid]

    return await in_transaction(pool, who.tenant_id, work)


# ------------------------------------------------------------------------ the evening


async def set_booking_pinned(
    pool: asyncpg.Pool, who: Principal, booking_id: str, pinned: bool
) -> BookingView:
    """Pin a booking to its tables (optimizeFloor never moves it), or let it move again."""
    require_staff(who)
    bid = require_id(booking_id, "booking")

    async def work(conn: asyncpg.Connection) -> BookingView:
        await conn.execute(Q["set_booking_pinned"], bid, pinned)
        found = (await reads.booking_views(conn, [bid])).get(bid)
        if found is None:
            raise NotFound("booking not found")
        return found

    return await in_transaction(pool, who.tenant_id, work)


async def optimize_floor(
    pool: asyncpg.Pool,
    who: Principal,
    restaurant_id: str,
    starts_at: datetime,
    ends_at: datetime,
    apply: bool,
    config: TablesConfig,
) -> FloorPlanView:
    """Re-plan the tables of every booking in the window that is not seated yet (nor over), to
    seat the most covers, then leave the fewest empty seats, then move the fewest bookings.

    Pinned and seated bookings keep their tables, and so does a booking someone is assigning
    right now (an open session); other staff's live holds and the tables of bookings outside
    the plan are respected; any other booking may get other tables, or lose them when that
    seats more covers. CP-SAT searches for ALLOT_OPTIMIZER_SECONDS off the event loop and the
    best plan found is kept. Without
    `apply` the answer is a preview; with it, the plan is written in one transaction (every
    changed booking's old tables released first, then the new ones taken, each through the
    rules and the exclusion constraint), or FloorChanged if the floor moved meanwhile in a way
    that breaks it.
    """
    require_staff(who)
    rid = require_id(restaurant_id, "restaurant")
    reads.check_window(starts_at, ends_at)
    async with tenant_transaction(pool, who.tenant_id) as conn:
        found = await reads.evening(conn, rid, starts_at, ends_at)
    if found is None:
        raise NotFound("restaurant not found")
    decided = await asyncio.to_thread(
        optimize,
        found.tables,
        found.bookings,
        found.blocked,
        config.rules,
        time_limit=config.optimizer_seconds,
    )
    moved = {m.booking_id for m in decided.moves} | set(decided.newly_seated)
    changed = [b for b in found.bookings if b.id in moved]
    if not (apply and changed):
        return _floor_plan(found, decided, found.views, applied=False)

    async def work(conn: asyncpg.Connection) -> dict[UUID, BookingView]:
        await conn.execute(
            Q["lock_evening"],
            [
                {"b": str(b.id), "t": [str(t) for t in {*b.current, *decided.tables[b.id]}]}
                for b in changed
            ],
        )
        order = sorted(changed, key=lambda b: b.id)
        for b in order:
            if b.current:
                locked = await _evening_booking(conn, b, decided.tables[b.id], found, b.current)
                await store.commit(conn, locked, plan.unassign(locked.scope, config.rules))
        for b in order:
            if not decided.tables[b.id]:
                continue  # it loses its tables: released above
            locked = await _evening_booking(conn, b, decided.tables[b.id], found, ())
            assigned = plan.assign(locked.scope, decided.tables[b.id], config.rules)
            await store.commit(conn, locked, assigned)
        return await reads.booking_views(conn, [b.id for b in changed])

    after = await in_transaction(pool, who.tenant_id, work)
    return _floor_plan(found, decided, {**found.views, **after}, applied=True)


async def _evening_booking(
    conn: asyncpg.Connection,
    booking: EveningBooking,
    to: Sequence[UUID],
    found: reads.Evening,
    holding: Sequence[UUID],
) -> store.Locked:
    """Lock and read a booking optimizeFloor changes; FloorChanged unless it is as the plan
    saw it: its status, no one assigning it, not pinned, and holding `holding` (its tables
    then, or none once they were released)."""
    locked = await store.lock_and_read(conn, booking_id=booking.id, take=to)
    was = found.views[booking.id]
    if locked is None:
        raise FloorChanged(f"the booking of {was.guest_name} is gone; run the optimizer again")
    scope = locked.scope
    now = {a.table_id for a in scope.of_booking(AllocationKind.ASSIGNMENT)}
    busy = any(s.status in OPEN_SESSION_STATUSES for s in scope.sessions.values())
    if scope.booking.status != was.status or locked.row["pinned"] or busy or now != set(holding):
        raise FloorChanged(
            f"the booking of {was.guest_name} changed since the plan was made; "
            "run the optimizer again"
        )
    return locked


def _floor_plan(
    found: reads.Evening,
    decided: EveningPlan,
    views: Mapping[UUID, BookingView],
    *,
    applied: bool,
) -> FloorPlanView:
    tables = found.table_views
    moves = tuple(
        FloorMove(
            views[m.booking_id],
            sort_tables(tables[t] for t in m.from_tables),
            sort_tables(tables[t] for t in m.to_tables),
        )
        for m in decided.moves
    )
    return FloorPlanView(
        moves=moves,
        newly_seated=tuple(views[b] for b in decided.newly_seated),
        covers_before=decided.covers_before,
        covers_after=decided.covers_after,
        empty_seats_before=decided.empty_seats_before,
        empty_seats_after=decided.empty_seats_after,
        proven_optimal=decided.proven_optimal,
        applied=applied,
    )
