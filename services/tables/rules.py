"""Table-assignment rules: the one constraint engine shared by manual and automatic assignment.

Pure: no I/O, no clock (``now`` is passed in), no randomness. Staff proposals go through
:func:`validate`; suggestions and auto-assignment go through candidates.rank_candidates, whose
candidates carry exactly the violations :func:`validate` returns for their tables (it uses the
same helpers), so the two paths can never disagree. Here too: which booking status moves are
allowed (:func:`can_move`), who may act on the area and on a session, and the rules' view of
the rows they are given.

Rules (``validate``), in the order violations are reported:

* ``BOOKING_NOT_ASSIGNABLE``: only PENDING, CONFIRMED and SEATED bookings get tables.
* ``TABLE_UNKNOWN``: one violation for all ids that are not tables of the booking's restaurant;
  they are left out of every later check. Duplicate ids are collapsed (first occurrence wins).
* ``TABLE_INACTIVE``: one violation for all inactive tables.
* ``TABLES_NOT_COMBINABLE``: the tables span more than one zone, or there are more than
  ``RulesConfig.max_combined_tables`` of them (one violation; the message says which).
* ``CAPACITY_TOO_SMALL``: the maximum capacities add up to less than the party.
* ``CAPACITY_TOO_LARGE``: a single table whose minimum capacity exceeds the party; a combination
  whose minimum capacities add up to more than the party; and, one violation each, every table
  the party does not need (the other tables' maximum capacities already seat the party).
* ``TABLE_CONFLICT``: one violation per other booking holding or assigned any proposed table in
  an overlapping time range (half-open ``[starts_at, ends_at)``, so touching ranges are fine).
  Allocations of the booking itself, holds that expired (``expires_at <= now``) and allocations
  of ``ignore_session_id`` (the caller's own editing session) do not conflict.

An empty proposal means "release the booking's tables" and is always valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from services.core.principal import Principal, Role
from services.errors import Forbidden
from services.tables.model import (
    AllocationKind,
    BookingStatus,
    TableView,
    Violation,
    ViolationCode,
)

TRANSITIONS: Final[dict[str, frozenset[BookingStatus]]] = {
    BookingStatus.PENDING: frozenset(
        {
            BookingStatus.CONFIRMED,
            BookingStatus.SEATED,
            BookingStatus.CANCELLED,
            BookingStatus.NO_SHOW,
        }
    ),
    BookingStatus.CONFIRMED: frozenset(
        {BookingStatus.SEATED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW}
    ),
    BookingStatus.SEATED: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}
ASSIGNABLE_STATUSES: Final = frozenset(
    {BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.SEATED}
)

ALLOCATION_KINDS: Final = frozenset(AllocationKind)

TABLES_ROLES: Final = (Role.STAFF, Role.ADMIN)


# ---------------------------------------------------------------------------------------------
# who may act


def require_staff(who: Principal) -> None:
    """Tables are for the restaurant's staff and admins."""
    who.require(*TABLES_ROLES)


def require_owner(who: Principal, created_by: str) -> None:
    """A session is its creator's (admins may act on any)."""
    if created_by != who.user_id and not who.has(Role.ADMIN):
        raise Forbidden("only the staff member who started this assignment session may do that")


# ---------------------------------------------------------------------------------------------
# booking status moves


def can_move(current: str, target: str) -> bool:
    """True if a booking in `current` may become `target` (staying put is always allowed)."""
    return current == target or target in TRANSITIONS.get(current, frozenset())


def releases_tables(target: str) -> bool:
    """A cancelled or no-show booking gives its tables back at once."""
    return target in (BookingStatus.CANCELLED, BookingStatus.NO_SHOW)


def closes_sessions(target: str) -> bool:
    """Once a booking is over (or off), nobody can still be assigning tables to it."""
    return target in (BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW)


def refusal(current: str, target: str) -> str:
    """Why a move is not allowed, in words staff understand."""
    allowed = sorted(TRANSITIONS.get(current, frozenset()))
    if not allowed:
        return f"the booking is {current}, which is final"
    return f"a {current} booking can become {', '.join(allowed)}, not {target}"


# ---------------------------------------------------------------------------------------------
# the rules' inputs


def _require_aware(name: str, value: datetime) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A table of a restaurant; seats between ``min_capacity`` and ``max_capacity`` guests."""

    id: UUID
    restaurant_id: UUID
    label: str
    zone: str
    min_capacity: int
    max_capacity: int
    active: bool

    def __post_init__(self) -> None:
        if self.max_capacity < 1 or not 0 <= self.min_capacity <= self.max_capacity:
            raise ValueError(
                f"table {self.label}: need 0 <= min_capacity <= max_capacity and"
                f" max_capacity >= 1, got {self.min_capacity}..{self.max_capacity}"
            )


@dataclass(frozen=True, slots=True)
class BookingInfo:
    """A booking for ``party_size`` guests over the half-open range ``[starts_at, ends_at)``."""

    id: UUID
    restaurant_id: UUID
    party_size: int
    starts_at: datetime
    ends_at: datetime
    status: str

    def __post_init__(self) -> None:
        if self.party_size < 1:
            raise ValueError(f"party_size must be at least 1, got {self.party_size}")
        if self.status not in TRANSITIONS:
            raise ValueError(f"unknown booking status {self.status!r}")
        _require_aware("starts_at", self.starts_at)
        _require_aware("ends_at", self.ends_at)
        if self.ends_at <= self.starts_at:
            raise ValueError("a booking must end after it starts")


@dataclass(frozen=True, slots=True)
class AllocationInfo:
    """A table held (``HOLD``, until ``expires_at``) or assigned (``ASSIGNMENT``) to a booking."""

    id: UUID
    table_id: UUID
    booking_id: UUID
    kind: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime | None
    session_id: UUID | None

    def __post_init__(self) -> None:
        if self.kind not in ALLOCATION_KINDS:
            raise ValueError(f"unknown allocation kind {self.kind!r}")
        _require_aware("starts_at", self.starts_at)
        _require_aware("ends_at", self.ends_at)
        if self.expires_at is not None:
            _require_aware("expires_at", self.expires_at)


@dataclass(frozen=True, slots=True)
class RulesConfig:
    """Tunable rules; ``max_combined_tables`` caps how many tables one booking may combine."""

    max_combined_tables: int = 3

    def __post_init__(self) -> None:
        if self.max_combined_tables < 1:
            raise ValueError("max_combined_tables must be at least 1")


DEFAULT_CONFIG: Final = RulesConfig()


def zone(name: str) -> ZoneInfo | None:
    """The restaurant's time zone (None if the name is unknown, then times stay as stored)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def booking_info(row: asyncpg.Record | Mapping[str, Any]) -> BookingInfo:
    """The rules' view of a booking row; times in the restaurant's zone for readable messages."""
    tz = zone(row["timezone"])
    starts: datetime = row["starts_at"]
    ends: datetime = row["ends_at"]
    if tz is not None:
        starts, ends = starts.astimezone(tz), ends.astimezone(tz)
    return BookingInfo(
        id=row["id"],
        restaurant_id=row["restaurant_id"],
        party_size=row["party_size"],
        starts_at=starts,
        ends_at=ends,
        status=row["status"],
    )


def table_info(t: TableView) -> TableInfo:
    """The rules' view of a table."""
    return TableInfo(
        t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active
    )


def table_infos(rows: Iterable[asyncpg.Record]) -> dict[UUID, TableInfo]:
    """The rules' view of dining_tables rows, by id."""
    return {
        r["id"]: TableInfo(
            r["id"],
            r["restaurant_id"],
            r["label"],
            r["zone"],
            r["min_capacity"],
            r["max_capacity"],
            r["active"],
        )
        for r in rows
    }


def allocation_infos(rows: Iterable[asyncpg.Record]) -> list[AllocationInfo]:
    """The rules' view of live allocation rows."""
    return [
        AllocationInfo(
            id=r["id"],
            table_id=r["table_id"],
            booking_id=r["booking_id"],
            kind=r["kind"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            expires_at=r["expires_at"],
            session_id=r["session_id"],
        )
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------
# validate


def validate(
    booking: BookingInfo,
    proposed_table_ids: Sequence[UUID],
    tables: Mapping[UUID, TableInfo],
    allocations: Iterable[AllocationInfo],
    now: datetime,
    config: RulesConfig = DEFAULT_CONFIG,
    ignore_session_id: UUID | None = None,
) -> list[Violation]:
    """Return every rule the proposed tables break for ``booking``; ``[]`` means assignable.

    ``tables`` are the restaurant's tables, ``allocations`` at least those on the proposed
    tables (others are ignored). An empty proposal is a release and always returns ``[]``.
    """
    proposed = list(dict.fromkeys(proposed_table_ids))
    if not proposed:
        return []
    violations: list[Violation] = []
    if booking.status not in ASSIGNABLE_STATUSES:
        violations.append(
            Violation(
                ViolationCode.BOOKING_NOT_ASSIGNABLE,
                f"Booking is {booking.status}; only PENDING, CONFIRMED or SEATED bookings"
                " can be given tables",
                (),
            )
        )
    known: list[TableInfo] = []
    unknown: list[UUID] = []
    for table_id in proposed:
        table = tables.get(table_id)
        if table is None or table.id != table_id or table.restaurant_id != booking.restaurant_id:
            unknown.append(table_id)
        else:
            known.append(table)
    if unknown:
        count = len(unknown)
        violations.append(
            Violation(
                ViolationCode.TABLE_UNKNOWN,
                f"{count} proposed {plural(count, 'table is', 'tables are')} not"
                f" {plural(count, 'a table', 'tables')} of this restaurant",
                tuple(unknown),
            )
        )
    if not known:
        return violations
    violations.extend(_table_violations(booking.party_size, known, config))
    relevant = relevant_allocations(
        booking, allocations, now, ignore_session_id, [t.id for t in known]
    )
    violations.extend(conflict_violations(booking, known, relevant))
    return violations


def plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def labels(tables: Sequence[TableInfo], sep: str = ", ") -> str:
    return sep.join(t.label for t in tables)


def _tables_word(tables: Sequence[TableInfo]) -> str:
    return f"{plural(len(tables), 'Table', 'Tables')} {labels(tables)}"


def _table_violations(
    party: int, known: Sequence[TableInfo], config: RulesConfig
) -> list[Violation]:
    """Activity, combinability and capacity rules; needs no allocations."""
    out: list[Violation] = []
    ids = tuple(t.id for t in known)

    inactive = [t for t in known if not t.active]
    if inactive:
        out.append(
            Violation(
                ViolationCode.TABLE_INACTIVE,
                f"{_tables_word(inactive)} {plural(len(inactive), 'is', 'are')} out of service",
                tuple(t.id for t in inactive),
            )
        )

    reasons: list[str] = []
    zones: dict[str, list[TableInfo]] = {}
    for t in known:
        zones.setdefault(t.zone, []).append(t)
    if len(zones) > 1:
        spread = "; ".join(f"{zone}: {labels(ts)}" for zone, ts in zones.items())
        reasons.append(
            f"they span {len(zones)} zones ({spread}) and only tables of one zone can be combined"
        )
    if len(known) > config.max_combined_tables:
        reasons.append(
            f"{len(known)} tables are proposed but at most {config.max_combined_tables}"
            " can be combined"
        )
    if reasons:
        out.append(
            Violation(
                ViolationCode.TABLES_NOT_COMBINABLE,
                f"Tables {labels(known)} cannot be combined: " + "; ".join(reasons),
                ids,
            )
        )

    total_max = sum(t.max_capacity for t in known)
    if total_max < party:
        missing = party - total_max
        out.append(
            Violation(
                ViolationCode.CAPACITY_TOO_SMALL,
                f"{_tables_word(known)} {plural(len(known), 'seats', 'seat')} {total_max};"
                f" a party of {party} needs {missing} more {plural(missing, 'seat', 'seats')}",
                ids,
            )
        )

    if len(known) == 1:
        table = known[0]
        if table.min_capacity > party:
            out.append(
                Violation(
                    ViolationCode.CAPACITY_TOO_LARGE,
                    f"Table {table.label} needs a party of at least {table.min_capacity};"
                    f" this party is {party}",
                    ids,
                )
            )
        return out

    total_min = sum(t.min_capacity for t in known)
    if total_min > party:
        out.append(
            Violation(
                ViolationCode.CAPACITY_TOO_LARGE,
                f"Tables {labels(known, ' + ')} need a party of at least {total_min} combined"
                f" (the sum of their minimum capacities); this party is {party}",
                ids,
            )
        )
    for table in known:
        others = total_max - table.max_capacity
        if others >= party:
            rest = [t for t in known if t is not table]
            out.append(
                Violation(
                    ViolationCode.CAPACITY_TOO_LARGE,
                    f"Table {table.label} is not needed: a party of {party} fits at"
                    f" {labels(rest, ' + ')} ({others} seats)",
                    (table.id,),
                )
            )
    return out


def relevant_allocations(
    booking: BookingInfo,
    allocations: Iterable[AllocationInfo],
    now: datetime,
    ignore_session_id: UUID | None,
    table_ids: Iterable[UUID],
) -> dict[UUID, list[AllocationInfo]]:
    """Per table in ``table_ids``: the allocations that conflict with ``booking``, sorted."""
    # UUID hashing and equality run in Python; their ``int`` runs in C. This loop is hot.
    wanted = {table_id.int for table_id in table_ids}
    starts, ends, own = booking.starts_at, booking.ends_at, booking.id.int
    hold = AllocationKind.HOLD
    found: dict[UUID, list[AllocationInfo]] = {}
    for a in allocations:
        if (
            a.starts_at < ends
            and starts < a.ends_at
            and a.table_id.int in wanted
            and a.booking_id.int != own
            and not (a.kind == hold and a.expires_at is not None and a.expires_at <= now)
            and (ignore_session_id is None or a.session_id != ignore_session_id)
        ):
            found.setdefault(a.table_id, []).append(a)
    for items in found.values():
        items.sort(key=_allocation_order)
    return found


def _allocation_order(a: AllocationInfo) -> tuple[datetime, datetime, int, str, int]:
    return (a.starts_at, a.ends_at, a.booking_id.int, a.kind, a.id.int)


def _hm(moment: datetime, tz: tzinfo | None) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def _zone_name(moment: datetime) -> str:
    """The zone a message's times are in: its IANA name (``Europe/London``), else ``UTC``."""
    tz = moment.tzinfo
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else (moment.tzname() or "UTC")


def conflict_violations(
    booking: BookingInfo,
    ordered: Sequence[TableInfo],
    relevant: Mapping[UUID, list[AllocationInfo]],
) -> list[Violation]:
    """One TABLE_CONFLICT per other booking on ``ordered`` tables, in table order.

    Times are in the booking's zone (the restaurant's, see ``booking_info``), and say which.
    """
    groups: dict[UUID, list[tuple[int, TableInfo, AllocationInfo]]] = {}
    for index, table in enumerate(ordered):
        for a in relevant.get(table.id, ()):
            groups.setdefault(a.booking_id, []).append((index, table, a))
    if not groups:
        return []
    tz = booking.starts_at.tzinfo
    zone_name = _zone_name(booking.starts_at)
    ranked = sorted(
        groups.items(),
        key=lambda item: (item[1][0][0], min(e[2].starts_at for e in item[1]), item[0].int),
    )
    out: list[Violation] = []
    for other_booking_id, entries in ranked:
        involved: list[TableInfo] = []
        assigned: list[TableInfo] = []
        held: list[TableInfo] = []
        expiries: list[datetime] = []
        for _, table, a in entries:
            if table not in involved:
                involved.append(table)
            if a.kind == AllocationKind.HOLD:
                if table not in held:
                    held.append(table)
                if a.expires_at is not None:
                    expiries.append(a.expires_at)
            elif table not in assigned:
                assigned.append(table)
        window = (
            f"{_hm(min(e[2].starts_at for e in entries), tz)}"
            f"-{_hm(max(e[2].ends_at for e in entries), tz)} {zone_name}"
        )
        until = f"; hold expires {_hm(min(expiries), tz)} {zone_name}" if expiries else ""
        if assigned and held:
            message = (
                f"Another booking ({window}) has {labels(assigned)} assigned and"
                f" {labels(held)} held{until}"
            )
        elif assigned:
            message = (
                f"{_tables_word(assigned)} {plural(len(assigned), 'is', 'are')} assigned to"
                f" another booking ({window})"
            )
        else:
            message = (
                f"{_tables_word(held)} {plural(len(held), 'is', 'are')} held for another"
                f" booking ({window}{until})"
            )
        out.append(
            Violation(
                ViolationCode.TABLE_CONFLICT,
                message,
                tuple(t.id for t in involved),
                other_booking_id,
            )
        )
    return out
