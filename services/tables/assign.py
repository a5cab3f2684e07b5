"""Giving tables to bookings: propose (and hold), confirm, cancel, auto-assign, status changes.

Each flow is one transaction: lock what the decision depends on (see common.py for the lock
order), let the rules decide, write the whole outcome set-based, and let triggers announce it.
Whenever allocations on a table change, the PROPOSED sessions proposing that table for an
overlapping booking are re-validated in the same transaction (common.revalidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from db.errors import ExclusionViolation, translated
from db.sql import load
from services.core.principal import Principal
from services.errors import AllotError, InvalidInput, NotFound, Problems, StaleVersion
from services.tables import errors as _errors  # noqa: F401 - registers constraint meanings
from services.tables import expiry_signal, inputs, lifecycle, views
from services.tables.common import (
    Changes,
    allocation_infos,
    booking_info,
    in_transaction,
    lock_tables,
    parse_id,
    require_id,
    require_owner,
    require_staff,
    revalidate,
    table_infos,
    table_infos_of_rows,
)
from services.tables.config import TablesConfig
from services.tables.errors import (
    InvalidBookingTransition,
    NoTablesAvailable,
    SessionNotActive,
    TableConflict,
)
from services.tables.rules import (
    ASSIGNABLE_STATUSES,
    ASSIGNMENT,
    BOOKING_NOT_ASSIGNABLE,
    CAPACITY_TOO_SMALL,
    HOLD,
    TABLE_CONFLICT,
    BookingInfo,
    Candidate,
    Violation,
    rank_candidates,
    validate,
)

Q = load("tables")

PROPOSED = "PROPOSED"
HELD = "HELD"
CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"
EXPIRED = "EXPIRED"
OPEN_STATUSES = (PROPOSED, HELD)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a transaction decided: a view to return, or an error to raise after COMMIT."""

    session: views.SessionView | None = None
    error: AllotError | None = None


def _result(outcome: _Outcome) -> views.SessionView:
    if outcome.error is not None:
        raise outcome.error
    assert outcome.session is not None
    return outcome.session


async def _session_view(conn: asyncpg.Connection, session_id: UUID) -> views.SessionView:
    return (await views.sessions(conn, [session_id]))[session_id]


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

    async def work(conn: asyncpg.Connection) -> views.SessionView:
        return await _propose(conn, who, bid, requested, config)

    view = await in_transaction(pool, who.tenant_id, work)
    if view.status == HELD:
        expiry_signal.hold_placed()
    return view


async def _propose(
    conn: asyncpg.Connection,
    who: Principal,
    booking_id: UUID,
    requested: list[UUID],
    config: TablesConfig,
) -> views.SessionView:
    booking = await conn.fetchrow(Q["lock_booking"], booking_id)
    if booking is None:
        raise NotFound("booking not found")
    now: datetime = booking["now"]  # the transaction's time: one clock for the whole flow
    existing = await conn.fetchrow(Q["open_session_of"], booking_id, who.user_id)
    previous = list(existing["proposed_table_ids"]) if existing else []
    # Other sessions whose holds on these tables ran out are expired here rather than left to
    # the expirer, so their tables are locked too (a flow locks every table it changes).
    stale_rows = await conn.fetch(
        Q["expired_holds_on"], requested, existing["id"] if existing else None
    )
    stale_tables = [t for r in stale_rows for t in r["proposed_table_ids"]]
    await lock_tables(conn, [*requested, *previous, *stale_tables])
    session = await conn.fetchrow(Q["lock_open_session_of"], booking_id, who.user_id)
    if session is None:
        session = await conn.fetchrow(
            Q["insert_session"], booking["restaurant_id"], booking_id, who.user_id
        )
    assert session is not None
    session_id: UUID = session["id"]
    during = booking["during"]
    info = booking_info(booking)
    changes = Changes()

    # Under the locks: those still due (and only those whose tables we locked).
    first_seen = {r["id"] for r in stale_rows}
    stale = [
        r["id"]
        for r in await conn.fetch(Q["expired_holds_on"], requested, session_id)
        if r["id"] in first_seen
    ]
    if stale:
        await conn.execute(Q["lock_open_sessions"], stale)
        await conn.execute(Q["mark_sessions_expired"], stale)
        changes.add(await conn.fetch(Q["release_session_holds"], stale, "EXPIRED"))

    own_holds = {
        r["table_id"]: r["id"] for r in await conn.fetch(Q["live_holds_of_session"], session_id)
    }
    violations = await _check(conn, info, requested, during, now, config, session_id)

    status = PROPOSED
    hold_expires_at: datetime | None = None
    if requested and not violations:
        keep = [t for t in requested if t in own_holds]
        add = [t for t in requested if t not in own_holds]
        drop = [a for t, a in own_holds.items() if t not in requested]
        if drop:
            changes.add(await conn.fetch(Q["release_allocations"], drop, "RELEASED"))
        hold_expires_at = now + timedelta(seconds=config.hold_ttl_seconds)
        try:
            async with conn.transaction(), translated():
                await conn.execute(
                    Q["insert_holds"],
                    add,
                    booking["restaurant_id"],
                    booking_id,
                    session_id,
                    during,
                    hold_expires_at,
                )
        except ExclusionViolation:
            # Another transaction's allocation committed between our read and our insert
            # (possible only for a writer outside the lock order): report it, hold nothing.
            violations = await _check(conn, info, requested, during, now, config, session_id)
            if not violations:
                violations = [_raced(requested)]
        else:
            if keep:
                await conn.execute(Q["extend_holds"], session_id, hold_expires_at, keep)
            changes.add_tables(requested, during)
            status = HELD
    if status != HELD:
        hold_expires_at = None
        if own_holds:
            changes.add(await conn.fetch(Q["release_session_holds"], [session_id], "RELEASED"))
    await conn.execute(
        Q["update_session"],
        session_id,
        status,
        requested,
        views.violations_to_json(violations),
        hold_expires_at,
    )
    await revalidate(conn, changes, now, config.rules, [session_id])
    return await _session_view(conn, session_id)


async def _check(
    conn: asyncpg.Connection,
    booking: BookingInfo,
    requested: list[UUID],
    during: asyncpg.Range[datetime],
    now: datetime,
    config: TablesConfig,
    session_id: UUID,
) -> list[Violation]:
    """The rules' verdict on `requested` for the booking, from a fresh read."""
    if not requested:
        return []
    tables = table_infos((await views.tables_by_ids(conn, requested)).values())
    allocations = allocation_infos(
        await conn.fetch(Q["live_allocations_on_tables"], requested, during)
    )
    return validate(
        booking, requested, tables, allocations, now, config.rules, ignore_session_id=session_id
    )


def _raced(table_ids: Sequence[UUID]) -> Violation:
    return Violation(
        TABLE_CONFLICT,
        "Another booking took one of these tables a moment ago; try again or pick others",
        tuple(table_ids),
    )


# ------------------------------------------------------------------------ confirm


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

    async def work(conn: asyncpg.Connection) -> _Outcome:
        return await _confirm(conn, who, sid, expected_version, config)

    return _result(await in_transaction(pool, who.tenant_id, work))


async def _lock_booking_of_session(
    conn: asyncpg.Connection, who: Principal, session_id: UUID
) -> asyncpg.Record:
    """Check the caller may act on the session, then lock its booking (first in lock order)."""
    first = await conn.fetchrow(Q["session_for_read"], session_id)
    if first is None:
        raise NotFound("assignment session not found")
    require_owner(who, first["created_by"])
    booking = await conn.fetchrow(Q["lock_booking"], first["booking_id"])
    if booking is None:
        raise NotFound("assignment session not found")
    return booking


async def _confirm(
    conn: asyncpg.Connection,
    who: Principal,
    session_id: UUID,
    expected_version: int | None,
    config: TablesConfig,
) -> _Outcome:
    booking = await _lock_booking_of_session(conn, who, session_id)
    now: datetime = booking["now"]
    others = list(await conn.fetch(Q["open_sessions_of_booking"], booking["id"]))
    live = [r["table_id"] for r in await conn.fetch(Q["live_tables_of_booking"], booking["id"])]
    # Under the booking lock no session of the booking changes its tables: `others` (which
    # includes this session if it is open) names every table this flow may touch.
    await lock_tables(conn, [*live, *(t for r in others for t in r["proposed_table_ids"])])
    session = await conn.fetchrow(Q["lock_session"], session_id)
    assert session is not None
    status: str = session["status"]
    if status != HELD:
        return _Outcome(error=SessionNotActive(_not_active(status), status))
    changes = Changes()
    if session["hold_expires_at"] <= now:
        await conn.execute(Q["mark_sessions_expired"], [session_id])
        changes.add(await conn.fetch(Q["release_session_holds"], [session_id], "EXPIRED"))
        await revalidate(conn, changes, now, config.rules, [session_id])
        return _Outcome(
            error=SessionNotActive("the hold expired; propose the tables again", EXPIRED)
        )
    if expected_version is not None and expected_version != session["version"]:
        raise StaleVersion(
            "the session changed since you last saw it; check it and confirm again",
            session["version"],
        )
    proposed: list[UUID] = list(session["proposed_table_ids"])
    info = booking_info(booking)
    violations = await _check(conn, info, proposed, booking["during"], now, config, session_id)
    held = {r["table_id"] for r in await conn.fetch(Q["live_holds_of_session"], session_id)}
    if not violations and held != set(proposed):
        violations = [_raced([t for t in proposed if t not in held])]
    if violations:
        raise TableConflict(
            "the proposed tables can no longer be given to this booking", violations
        )

    changes.add(
        await conn.fetch(
            Q["release_booking_allocations"], booking["id"], "UNASSIGNED", [ASSIGNMENT]
        )
    )
    other_ids = [r["id"] for r in others if r["id"] != session_id]
    if other_ids:
        await conn.execute(Q["lock_open_sessions"], other_ids)
        await conn.execute(Q["set_session_status"], other_ids, CANCELLED)
        changes.add(await conn.fetch(Q["release_session_holds"], other_ids, "RELEASED"))
    changes.add(await conn.fetch(Q["convert_holds"], session_id))
    await conn.execute(Q["update_session"], session_id, CONFIRMED, proposed, [], None)
    await _booking_tables_changed(conn, booking)
    await revalidate(conn, changes, now, config.rules, [session_id, *other_ids])
    return _Outcome(session=await _session_view(conn, session_id))


def _not_active(status: str) -> str:
    return {
        PROPOSED: "the session holds no tables; propose tables that pass the rules first",
        CONFIRMED: "the session is already confirmed",
        CANCELLED: "the session was cancelled (or another session for this booking was confirmed)",
        EXPIRED: "the hold expired; propose the tables again",
    }.get(status, f"the session is {status}")


async def _booking_tables_changed(conn: asyncpg.Connection, booking: Any) -> None:
    """A PENDING booking with tables is CONFIRMED; any booking's version moves with its tables."""
    status = lifecycle.CONFIRMED if booking["status"] == lifecycle.PENDING else booking["status"]
    await conn.execute(Q["set_booking_status"], booking["id"], status)


# ------------------------------------------------------------------------ cancel


async def cancel_assignment_session(
    pool: asyncpg.Pool, who: Principal, session_id: str, config: TablesConfig
) -> views.SessionView:
    """Release the session's hold and close it (its owner or an admin)."""
    require_staff(who)
    sid = require_id(session_id, "assignment session")

    async def work(conn: asyncpg.Connection) -> views.SessionView:
        booking = await _lock_booking_of_session(conn, who, sid)
        now: datetime = booking["now"]
        # Under the booking lock the session's tables can no longer change: read them again.
        current = await conn.fetchrow(Q["session_for_read"], sid)
        assert current is not None
        await lock_tables(conn, current["proposed_table_ids"])
        session = await conn.fetchrow(Q["lock_session"], sid)
        assert session is not None
        if session["status"] not in OPEN_STATUSES:
            raise SessionNotActive(_not_active(session["status"]), session["status"])
        changes = Changes()
        changes.add(await conn.fetch(Q["release_session_holds"], [sid], "RELEASED"))
        await conn.execute(Q["set_session_status"], [sid], CANCELLED)
        await revalidate(conn, changes, now, config.rules, [sid])
        return await _session_view(conn, sid)

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

    If a race takes a candidate between ranking and writing, the next candidate is tried. Any
    earlier assignment of the booking is replaced and open sessions for it are cancelled.
    """
    require_staff(who)
    bid = require_id(booking_id, "booking")

    async def work(conn: asyncpg.Connection) -> AutoAssigned:
        return await _auto_assign(conn, bid, config)

    return await in_transaction(pool, who.tenant_id, work)


async def _auto_assign(
    conn: asyncpg.Connection, booking_id: UUID, config: TablesConfig
) -> AutoAssigned:
    booking = await conn.fetchrow(Q["lock_booking"], booking_id)
    if booking is None:
        raise NotFound("booking not found")
    now: datetime = booking["now"]
    info = booking_info(booking)
    if info.status not in ASSIGNABLE_STATUSES:
        raise NoTablesAvailable(
            f"a {info.status} booking cannot be given tables",
            [_not_assignable(info.status)],
        )
    tables = table_infos_of_rows(await conn.fetch(Q["restaurant_tables"], booking["restaurant_id"]))
    during = booking["during"]
    allocations = allocation_infos(
        await conn.fetch(Q["live_allocations_of_restaurant"], booking["restaurant_id"], during)
    )
    ranked = rank_candidates(info, tables, allocations, now, config.rules, limit=5)
    free = [c for c in ranked if not c.violations]
    if not free:
        raise _no_tables(info, ranked)

    others = [r["id"] for r in await conn.fetch(Q["open_sessions_of_booking"], booking_id)]
    open_rows = await conn.fetch(Q["sessions_by_ids"], others) if others else []
    live = [r["table_id"] for r in await conn.fetch(Q["live_tables_of_booking"], booking_id)]
    await lock_tables(
        conn,
        [
            *(t for c in free for t in c.table_ids),
            *live,
            *(t for r in open_rows for t in r["proposed_table_ids"]),
        ],
    )
    # Under the locks nothing can change on these tables: re-read and take the first that
    # still passes the rules.
    allocations = allocation_infos(
        await conn.fetch(Q["live_allocations_of_restaurant"], booking["restaurant_id"], during)
    )
    current = {
        a.table_id for a in allocations if a.booking_id == booking_id and a.kind == ASSIGNMENT
    }
    changes = Changes()
    chosen: Candidate | None = None
    for candidate in free:
        ids = list(candidate.table_ids)
        if validate(info, ids, tables, allocations, now, config.rules):
            continue
        if set(ids) == current:
            chosen = candidate
            break
        try:
            async with conn.transaction(), translated():
                released = await conn.fetch(
                    Q["release_booking_allocations"], booking_id, "UNASSIGNED", [ASSIGNMENT]
                )
                await conn.execute(
                    Q["insert_assignments"], ids, booking["restaurant_id"], booking_id, during
                )
        except ExclusionViolation:
            continue
        changes.add(released)
        changes.add_tables(ids, during)
        chosen = candidate
        break
    if chosen is None:
        fresh = rank_candidates(info, tables, allocations, now, config.rules, limit=5)
        raise _no_tables(info, fresh)
    if others:
        await conn.execute(Q["lock_open_sessions"], others)
        await conn.execute(Q["set_session_status"], others, CANCELLED)
        changes.add(await conn.fetch(Q["release_session_holds"], others, "RELEASED"))
    await _booking_tables_changed(conn, booking)
    await revalidate(conn, changes, now, config.rules, others)
    view = (await views.bookings(conn, [booking_id]))[booking_id]
    return AutoAssigned(booking=view, tables=view.tables)


def _not_assignable(status: str) -> Violation:
    return Violation(
        BOOKING_NOT_ASSIGNABLE,
        f"Booking is {status}; only PENDING, CONFIRMED or SEATED bookings can be given tables",
        (),
    )


def _no_tables(info: BookingInfo, ranked: Sequence[Candidate]) -> NoTablesAvailable:
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
        booking = await conn.fetchrow(Q["lock_booking"], bid)
        if booking is None:
            raise NotFound("booking not found")
        now: datetime = booking["now"]
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
        changes = Changes()
        closed: list[UUID] = []
        if lifecycle.closes_sessions(status):
            open_rows = await conn.fetch(Q["open_sessions_of_booking"], bid)
            closed = [r["id"] for r in open_rows]
            live = [r["table_id"] for r in await conn.fetch(Q["live_tables_of_booking"], bid)]
            await lock_tables(
                conn, [*live, *(t for r in open_rows for t in r["proposed_table_ids"])]
            )
            if closed:
                await conn.execute(Q["lock_open_sessions"], closed)
                await conn.execute(Q["set_session_status"], closed, CANCELLED)
                changes.add(await conn.fetch(Q["release_session_holds"], closed, "RELEASED"))
            if lifecycle.releases_tables(status):
                changes.add(
                    await conn.fetch(Q["release_booking_allocations"], bid, "RELEASED", [HOLD])
                )
                changes.add(
                    await conn.fetch(
                        Q["release_booking_allocations"], bid, "UNASSIGNED", [ASSIGNMENT]
                    )
                )
        await conn.execute(Q["set_booking_status"], bid, status)
        await revalidate(conn, changes, now, config.rules, closed)
        return (await views.bookings(conn, [bid]))[bid]

    return await in_transaction(pool, who.tenant_id, work)
