"""Giving tables to bookings: propose (and hold), confirm, cancel, auto-assign, status changes.

Each command is one transaction in four round trips: begin, lock what the decision depends on
and read it (scope.lock_and_read), write the decision made by plan.py (pure) in one statement
(scope.commit), commit; the triggers announce it. Every decision also re-validates the
PROPOSED sessions of other bookings whose tables it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from db.sql import load
from services.core.ids import parse_id, require_id
from services.core.principal import Principal
from services.errors import InvalidInput, NotFound, Problems, StaleVersion
from services.tables import expiry_signal, inputs, lifecycle, plan, scope, views
from services.tables.common import (
    allocation_infos,
    booking_info,
    in_transaction,
    require_owner,
    require_staff,
    table_infos_of_rows,
)
from services.tables.config import TablesConfig
from services.tables.errors import InvalidBookingTransition, NoTablesAvailable
from services.tables.rules import (
    ASSIGNABLE_STATUSES,
    BOOKING_NOT_ASSIGNABLE,
    CAPACITY_TOO_SMALL,
    AllocationInfo,
    BookingInfo,
    Candidate,
    TableInfo,
    Violation,
    rank_candidates,
)

Q = load("tables")

AUTO_ASSIGN_CANDIDATES = 5


async def _open(
    conn: asyncpg.Connection, booking_id: UUID, take: Sequence[UUID] = ()
) -> scope.Snapshot:
    snap = await scope.lock_and_read(conn, booking_id=booking_id, take=take)
    if snap is None:
        raise NotFound("booking not found")
    return snap


async def _open_session(
    conn: asyncpg.Connection, who: Principal, session_id: UUID
) -> scope.Snapshot:
    """The session's booking, for the session's owner (or an admin) only."""
    snap = await scope.lock_and_read(conn, session_id=session_id, about=session_id)
    if snap is None:
        raise NotFound("assignment session not found")
    require_owner(who, snap.row["session_created_by"])
    return snap


# ------------------------------------------------------------------------ propose


async def propose_tables(
    pool: asyncpg.Pool,
    who: Principal,
    booking_id: str,
    table_ids: Sequence[str],
    config: TablesConfig,
) -> views.SessionView:
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

    async def work(conn: asyncpg.Connection) -> views.SessionView:
        snap = await _open(conn, bid, requested)
        decided = plan.propose(snap.scope, who.user_id, requested, ttl, config.rules, uuid4())
        return scope.session_view(snap, decided, await scope.commit(conn, snap, decided))

    view = await in_transaction(pool, who.tenant_id, work)
    if view.status == plan.HELD:
        expiry_signal.hold_placed()
    return view


# ------------------------------------------------------------------------ confirm, cancel


async def confirm_assignment(
    pool: asyncpg.Pool,
    who: Principal,
    session_id: str,
    expected_version: int | None,
    config: TablesConfig,
) -> views.SessionView:
    """Turn a HELD session's holds into the booking's assignment, in one transaction.

    The booking is locked first, so when two staff confirm the same booking at once one wins
    and the other finds its session CANCELLED. An expired hold is marked EXPIRED (and that is
    committed) before SessionNotActive is returned.
    """
    require_staff(who)
    sid = require_id(session_id, "assignment session")

    async def work(conn: asyncpg.Connection) -> tuple[views.SessionView, Exception | None]:
        snap = await _open_session(conn, who, sid)
        decided = plan.confirm(snap.scope, sid, expected_version, config.rules)
        written = await scope.commit(conn, snap, decided)
        return scope.session_view(snap, decided, written), decided.refusal

    view, refusal = await in_transaction(pool, who.tenant_id, work)
    if refusal is not None:
        raise refusal
    return view


async def cancel_assignment_session(
    pool: asyncpg.Pool, who: Principal, session_id: str, config: TablesConfig
) -> views.SessionView:
    """Release the session's hold and close it (its owner or an admin)."""
    require_staff(who)
    sid = require_id(session_id, "assignment session")

    async def work(conn: asyncpg.Connection) -> views.SessionView:
        snap = await _open_session(conn, who, sid)
        decided = plan.cancel(snap.scope, sid, config.rules)
        return scope.session_view(snap, decided, await scope.commit(conn, snap, decided))

    return await in_transaction(pool, who.tenant_id, work)


# ------------------------------------------------------------------------ auto-assign


@dataclass(frozen=True, slots=True)
class AutoAssigned:
    """The booking after auto-assignment and the tables it got."""

    booking: views.BookingView
    tables: tuple[views.TableView, ...]


async def auto_assign(
    pool: asyncpg.Pool, who: Principal, booking_id: str, config: TablesConfig
) -> AutoAssigned:
    """Assign the best free table set (by the rules' ranking) to the booking, in one go.

    The best few candidates are ranked on the whole restaurant, then their tables are locked
    and the first that still passes the rules is taken. Any earlier assignment of the booking
    is replaced and open sessions for it are cancelled.
    """
    require_staff(who)
    bid = require_id(booking_id, "booking")

    async def work(conn: asyncpg.Connection) -> AutoAssigned:
        # Rank on the whole restaurant without locks, then lock the booking and the best
        # candidates' tables together (in key order) and take the first that still fits.
        booking = await conn.fetchrow(Q["booking_for_read"], bid)
        if booking is None:
            raise NotFound("booking not found")
        info = booking_info(booking)
        if info.status not in ASSIGNABLE_STATUSES:
            raise NoTablesAvailable(
                f"a {info.status} booking cannot be given tables", [_not_assignable(info.status)]
            )
        tables = table_infos_of_rows(
            await conn.fetch(Q["restaurant_tables"], booking["restaurant_id"])
        )
        allocations = allocation_infos(
            await conn.fetch(
                Q["live_allocations_of_restaurant"], booking["restaurant_id"], booking["during"]
            )
        )
        now = booking["now"]
        ranked = rank_candidates(
            info,
            tables,
            allocations,
            now,
            config.rules,
            limit=AUTO_ASSIGN_CANDIDATES,
            free_only=True,
        )
        if not ranked:
            raise _no_tables(info, tables, allocations, now, config)
        snap = await _open(conn, bid, [t for c in ranked for t in c.table_ids])
        decided = plan.auto_assign(snap.scope, ranked, config.rules)
        if decided is None:  # every candidate was taken meanwhile (or the booking changed)
            fresh = [a for a in allocations if a.table_id not in snap.scope.tables]
            raise _no_tables(
                snap.scope.booking,
                tables,
                [*fresh, *snap.scope.allocations.values()],
                now,
                config,
            )
        view = scope.booking_view(snap, decided, await scope.commit(conn, snap, decided))
        return AutoAssigned(booking=view, tables=view.tables)

    return await in_transaction(pool, who.tenant_id, work)


def _not_assignable(status: str) -> Violation:
    return Violation(
        BOOKING_NOT_ASSIGNABLE,
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
                    CAPACITY_TOO_SMALL,
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
) -> views.BookingView:
    """Seat, complete, cancel or mark a no-show; cancelling releases the booking's tables."""
    require_staff(who)
    bid = require_id(booking_id, "booking")
    if status not in lifecycle.TRANSITIONS:
        raise InvalidInput.one("status", f"unknown status {status!r}")

    async def work(conn: asyncpg.Connection) -> views.BookingView:
        snap = await _open(conn, bid)
        booking = snap.row
        if expected_version is not None and expected_version != booking["version"]:
            raise StaleVersion(
                "the booking changed since you last saw it; check it and try again",
                booking["version"],
            )
        current: str = booking["status"]
        if current == status:
            return (await views.bookings(conn, [bid]))[bid]
        if not lifecycle.can_move(current, status):
            raise InvalidBookingTransition(lifecycle.refusal(current, status), current, status)
        if lifecycle.closes_sessions(status):
            decided = plan.set_status(snap.scope, status, config.rules)
            return scope.booking_view(snap, decided, await scope.commit(conn, snap, decided))
        await conn.execute(Q["set_booking_status"], bid, status)
        return (await views.bookings(conn, [bid]))[bid]

    return await in_transaction(pool, who.tenant_id, work)
