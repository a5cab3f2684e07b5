"""Tables (issue 002): restaurants, dining tables, bookings, holds and assignments, live floor."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from resolvers import tables as resolve
from schema.context import Info
from schema.errors import Error, Forbidden, InvalidInput, NotFound, StaleVersion
from schema.fanout import shared_events
from services.realtime.stream import Delta, Snapshot
from services.tables import errors as domain
from services.tables import model
from services.tables.model import (
    AllocationKind,
    BookingStatus,
    FloorEventKind,
    SessionStatus,
    ViolationCode,
)

V = TypeVar("V")
T = TypeVar("T")


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


def _each(of: Callable[[V], T], items: Iterable[V]) -> list[T]:
    """Each of `items` as its GraphQL type (`of`: that type's constructor from a view)."""
    return [of(v) for v in items]


# ------------------------------------------------------------------ types

# The area's words, exposed to GraphQL as services/tables/model.py defines them.
for _word in (AllocationKind, BookingStatus, FloorEventKind, SessionStatus, ViolationCode):
    strawberry.enum(_word)


@strawberry.type(description="A table of a restaurant; seats minCapacity to maxCapacity guests.")
class DiningTable:
    id: strawberry.ID
    label: str
    zone: str
    min_capacity: int
    max_capacity: int
    active: bool
    restaurant_id: strawberry.ID
    version: int

    @classmethod
    def of(cls, v: model.TableView) -> DiningTable:
        return cls(
            id=_id(v.id),
            label=v.label,
            zone=v.zone,
            min_capacity=v.min_capacity,
            max_capacity=v.max_capacity,
            active=v.active,
            restaurant_id=_id(v.restaurant_id),
            version=v.version,
        )


@strawberry.type(description="A restaurant and its tables (in natural label order).")
class Restaurant:
    id: strawberry.ID
    name: str
    timezone: str
    tables: list[DiningTable]

    @classmethod
    def of(cls, v: model.RestaurantView) -> Restaurant:
        return cls(
            id=_id(v.id), name=v.name, timezone=v.timezone, tables=_each(DiningTable.of, v.tables)
        )


@strawberry.type(description="A booking; `tables` are the tables assigned to it.")
class Booking:
    id: strawberry.ID
    restaurant_id: strawberry.ID
    guest_name: str
    party_size: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    tables: list[DiningTable]
    version: int
    pinned: bool = strawberry.field(
        description="optimizeFloor never moves it: pinned by staff (setBookingPinned), or seated."
    )

    @classmethod
    def of(cls, v: model.BookingView) -> Booking:
        return cls(
            id=_id(v.id),
            restaurant_id=_id(v.restaurant_id),
            guest_name=v.guest_name,
            party_size=v.party_size,
            starts_at=v.starts_at,
            ends_at=v.ends_at,
            status=v.status,
            tables=_each(DiningTable.of, v.tables),
            version=v.version,
            pinned=v.stays,
        )


@strawberry.type(
    description="A table held (until expiresAt) or assigned for a booking; releasedAt is set"
    " once it no longer is."
)
class Allocation:
    id: strawberry.ID
    kind: AllocationKind
    table: DiningTable
    booking_id: strawberry.ID
    session_id: strawberry.ID | None
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime | None
    version: int
    released_at: datetime | None

    @classmethod
    def of(cls, v: model.AllocationView) -> Allocation:
        return cls(
            id=_id(v.id),
            kind=v.kind,
            table=DiningTable.of(v.table),
            booking_id=_id(v.booking_id),
            session_id=_id(v.session_id) if v.session_id else None,
            starts_at=v.starts_at,
            ends_at=v.ends_at,
            expires_at=v.expires_at,
            version=v.version,
            released_at=v.released_at,
        )


@strawberry.type(description="A rule the proposed tables break, and the tables concerned.")
class Violation:
    code: ViolationCode
    message: str
    table_ids: list[strawberry.ID]
    conflicting_booking_id: strawberry.ID | None

    @classmethod
    def of(cls, v: model.Violation) -> Violation:
        return cls(
            code=v.code,
            message=v.message,
            table_ids=[_id(t) for t in v.table_ids],
            conflicting_booking_id=(
                _id(v.conflicting_booking_id) if v.conflicting_booking_id else None
            ),
        )


@strawberry.type(
    description="A staff member's work on one booking: PROPOSED, HELD, then CONFIRMED."
)
class AssignmentSession:
    id: strawberry.ID
    booking: Booking
    created_by: strawberry.ID
    status: SessionStatus
    proposed_tables: list[DiningTable]
    violations: list[Violation]
    hold_expires_at: datetime | None
    last_validated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: model.SessionView) -> AssignmentSession:
        return cls(
            id=_id(v.id),
            booking=Booking.of(v.booking),
            created_by=_id(v.created_by),
            status=v.status,
            proposed_tables=_each(DiningTable.of, v.proposed_tables),
            violations=_each(Violation.of, v.violations),
            hold_expires_at=v.hold_expires_at,
            last_validated_at=v.last_validated_at,
            version=v.version,
            created_at=v.created_at,
            updated_at=v.updated_at,
        )


@strawberry.type(
    description="A restaurant's tables, live allocations and bookings over [from, to)."
)
class Floor:
    restaurant_id: strawberry.ID
    from_: datetime = strawberry.field(name="from")
    to: datetime
    tables: list[DiningTable]
    allocations: list[Allocation]
    bookings: list[Booking]

    @classmethod
    def of(cls, v: model.FloorView) -> Floor:
        return cls(
            restaurant_id=_id(v.restaurant_id),
            from_=v.starts_at,
            to=v.ends_at,
            tables=_each(DiningTable.of, v.tables),
            allocations=_each(Allocation.of, v.allocations),
            bookings=_each(Booking.of, v.bookings),
        )


@strawberry.type(description="A table set for a booking, best first; `reason` says why.")
class TableSuggestion:
    tables: list[DiningTable]
    score: float
    reason: str
    violations: list[Violation]

    @classmethod
    def of(cls, v: model.SuggestionView) -> TableSuggestion:
        return cls(
            tables=_each(DiningTable.of, v.tables),
            score=v.score,
            reason=v.reason,
            violations=_each(Violation.of, v.violations),
        )


@strawberry.type
class FloorEvent:
    kind: FloorEventKind
    sequence: int
    resync: bool
    floor: Floor | None = None
    allocation: Allocation | None = None
    booking: Booking | None = None
    table: DiningTable | None = strawberry.field(
        default=None, description="Set on TABLE_CHANGED: a table added or edited."
    )


@strawberry.type
class SessionEvent:
    sequence: int
    resync: bool
    session: AssignmentSession


# ------------------------------------------------------------------ errors


@strawberry.type
class TableConflict(Error):
    violations: list[Violation]

    @classmethod
    def of(cls, err: domain.TableConflict) -> TableConflict:
        return cls(
            code=err.code, message=err.message, violations=_each(Violation.of, err.violations)
        )


@strawberry.type
class SessionNotActive(Error):
    status: SessionStatus

    @classmethod
    def of(cls, err: domain.SessionNotActive) -> SessionNotActive:
        return cls(code=err.code, message=err.message, status=err.status)


@strawberry.type
class NoTablesAvailable(Error):
    violations: list[Violation]

    @classmethod
    def of(cls, err: domain.NoTablesAvailable) -> NoTablesAvailable:
        return cls(
            code=err.code, message=err.message, violations=_each(Violation.of, err.violations)
        )


@strawberry.type(description="The booking cannot move from its status to the one asked for.")
class InvalidBookingTransition(Error):
    from_: BookingStatus = strawberry.field(name="from")
    to: BookingStatus

    @classmethod
    def of(cls, err: domain.InvalidBookingTransition) -> InvalidBookingTransition:
        return cls(
            code=err.code,
            message=err.message,
            from_=err.from_status,
            to=err.to_status,
        )


# ------------------------------------------------------------------ inputs and payloads


@strawberry.input
class CreateRestaurantInput:
    name: str
    timezone: str


@strawberry.input
class CreateDiningTableInput:
    restaurant_id: strawberry.ID
    label: str
    zone: str
    min_capacity: int
    max_capacity: int


@strawberry.input(description="Only the fields you give change.")
class UpdateDiningTableInput:
    table_id: strawberry.ID
    label: str | None = None
    zone: str | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    active: bool | None = strawberry.field(
        default=None, description="false takes the table out of service: it is offered no more."
    )
    expected_version: int | None = None


@strawberry.input
class CreateBookingInput:
    restaurant_id: strawberry.ID
    guest_name: str
    party_size: int
    starts_at: datetime
    ends_at: datetime


@strawberry.input
class ProposeTablesInput:
    booking_id: strawberry.ID
    table_ids: list[strawberry.ID]


@strawberry.input
class ConfirmAssignmentInput:
    session_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class CancelAssignmentSessionInput:
    session_id: strawberry.ID


@strawberry.input
class AutoAssignInput:
    booking_id: strawberry.ID


@strawberry.input(description="Seat, complete, cancel or mark a no-show (valid moves only).")
class SetBookingStatusInput:
    booking_id: strawberry.ID
    status: BookingStatus
    expected_version: int | None = None


@strawberry.type
class SessionPayload:
    session: AssignmentSession


@strawberry.type
class AutoAssignPayload:
    booking: Booking
    tables: list[DiningTable]


@strawberry.input
class OptimizeFloorInput:
    restaurant_id: strawberry.ID
    from_: datetime = strawberry.field(name="from")
    to: datetime
    apply: bool | None = strawberry.field(
        default=False, description="Write the plan; false (the default): only preview it."
    )


@strawberry.input
class SetBookingPinnedInput:
    booking_id: strawberry.ID
    pinned: bool


@strawberry.type(description="optimizeFloor moves a booking that has tables to others.")
class FloorMove:
    booking: Booking
    from_tables: list[DiningTable]
    to_tables: list[DiningTable]

    @classmethod
    def of(cls, v: model.FloorMove) -> FloorMove:
        return cls(
            booking=Booking.of(v.booking),
            from_tables=_each(DiningTable.of, v.from_tables),
            to_tables=_each(DiningTable.of, v.to_tables),
        )


@strawberry.type(
    description="optimizeFloor's plan: applied, or a preview of what applying would change."
)
class FloorPlanPayload:
    moves: list[FloorMove]
    newly_seated: list[Booking] = strawberry.field(
        description="Bookings without tables that the plan seats."
    )
    covers_before: int
    covers_after: int
    empty_seats_before: int
    empty_seats_after: int
    proven_optimal: bool = strawberry.field(
        description="CP-SAT proved no plan seats more covers (then fewer empty seats, then "
        "fewer moves) within ALLOT_OPTIMIZER_SECONDS; false: the best plan found in that time."
    )
    applied: bool

    @classmethod
    def of(cls, v: model.FloorPlanView) -> FloorPlanPayload:
        return cls(
            moves=[FloorMove.of(m) for m in v.moves],
            newly_seated=_each(Booking.of, v.newly_seated),
            covers_before=v.covers_before,
            covers_after=v.covers_after,
            empty_seats_before=v.empty_seats_before,
            empty_seats_after=v.empty_seats_after,
            proven_optimal=v.proven_optimal,
            applied=v.applied,
        )


@strawberry.type
class FloorChanged(Error):
    pass


CreateRestaurantResult = Annotated[
    Restaurant | InvalidInput | Forbidden, strawberry.union("CreateRestaurantResult")
]
CreateDiningTableResult = Annotated[
    DiningTable | InvalidInput | NotFound | Forbidden, strawberry.union("CreateDiningTableResult")
]
UpdateDiningTableResult = Annotated[
    DiningTable | InvalidInput | StaleVersion | NotFound | Forbidden,
    strawberry.union("UpdateDiningTableResult"),
]
CreateBookingResult = Annotated[
    Booking | InvalidInput | NotFound | Forbidden, strawberry.union("CreateBookingResult")
]
ProposeTablesResult = Annotated[
    SessionPayload | NotFound | Forbidden | InvalidInput, strawberry.union("ProposeTablesResult")
]
ConfirmAssignmentResult = Annotated[
    SessionPayload | TableConflict | SessionNotActive | StaleVersion | NotFound | Forbidden,
    strawberry.union("ConfirmAssignmentResult"),
]
CancelAssignmentSessionResult = Annotated[
    SessionPayload | SessionNotActive | NotFound | Forbidden,
    strawberry.union("CancelAssignmentSessionResult"),
]
AutoAssignResult = Annotated[
    AutoAssignPayload | NoTablesAvailable | NotFound | Forbidden,
    strawberry.union("AutoAssignResult"),
]
OptimizeFloorResult = Annotated[
    FloorPlanPayload | FloorChanged | InvalidInput | NotFound | Forbidden,
    strawberry.union("OptimizeFloorResult"),
]
SetBookingPinnedResult = Annotated[
    Booking | NotFound | Forbidden, strawberry.union("SetBookingPinnedResult")
]
SetBookingStatusResult = Annotated[
    Booking | InvalidBookingTransition | StaleVersion | InvalidInput | NotFound | Forbidden,
    strawberry.union("SetBookingStatusResult"),
]


def _session(v: model.SessionView) -> SessionPayload:
    return SessionPayload(session=AssignmentSession.of(v))


# ------------------------------------------------------------------ roots


@strawberry.type
class Query:
    @strawberry.field(description="A restaurant of your tenant, with its tables.")
    async def restaurant(self, info: Info, id: strawberry.ID) -> Restaurant | None:
        found = await resolve.restaurant(info.context, id)
        return Restaurant.of(found) if found else None

    @strawberry.field(description="Every restaurant of your tenant.")
    async def restaurants(self, info: Info) -> list[Restaurant]:
        return _each(Restaurant.of, await resolve.restaurants(info.context))

    @strawberry.field(description="A booking, with the tables assigned to it.")
    async def booking(self, info: Info, id: strawberry.ID) -> Booking | None:
        found = await resolve.booking(info.context, id)
        return Booking.of(found) if found else None

    @strawberry.field(description="Tables, live holds and assignments, and bookings in [from, to).")
    async def floor(
        self,
        info: Info,
        restaurant_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> Floor:
        return Floor.of(await resolve.floor(info.context, restaurant_id, from_, to))

    @strawberry.field(description="One of your assignment sessions (admins: anyone's).")
    async def assignment_session(self, info: Info, id: strawberry.ID) -> AssignmentSession | None:
        found = await resolve.assignment_session(info.context, id)
        return AssignmentSession.of(found) if found else None

    @strawberry.field(description="The best table sets for a booking: free ones first.")
    async def suggest_tables(self, info: Info, booking_id: strawberry.ID) -> list[TableSuggestion]:
        return _each(TableSuggestion.of, await resolve.suggest_tables(info.context, booking_id))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admins: a new restaurant (timezone: an IANA name).")
    async def create_restaurant(
        self, info: Info, input: CreateRestaurantInput
    ) -> CreateRestaurantResult:
        return Restaurant.of(
            await resolve.create_restaurant(info.context, input.name, input.timezone)
        )

    @strawberry.mutation(description="Admins: a new table; labels are unique per restaurant.")
    async def create_dining_table(
        self, info: Info, input: CreateDiningTableInput
    ) -> CreateDiningTableResult:
        return DiningTable.of(
            await resolve.create_dining_table(
                info.context,
                input.restaurant_id,
                input.label,
                input.zone,
                input.min_capacity,
                input.max_capacity,
            )
        )

    @strawberry.mutation(
        description="Admins: edit a table, or take it out of service (active: false). The"
        " proposals on it are validated again; its holds and assignments stay."
    )
    async def update_dining_table(
        self, info: Info, input: UpdateDiningTableInput
    ) -> UpdateDiningTableResult:
        edit = model.TableEdit(
            label=input.label,
            zone=input.zone,
            min_capacity=input.min_capacity,
            max_capacity=input.max_capacity,
            active=input.active,
        )
        return DiningTable.of(
            await resolve.update_dining_table(
                info.context, input.table_id, edit, input.expected_version
            )
        )

    @strawberry.mutation(description="Admins and staff: a new PENDING booking (walk-ins too).")
    async def create_booking(self, info: Info, input: CreateBookingInput) -> CreateBookingResult:
        return Booking.of(
            await resolve.create_booking(
                info.context,
                input.restaurant_id,
                input.guest_name,
                input.party_size,
                input.starts_at,
                input.ends_at,
            )
        )

    @strawberry.mutation(
        description="Propose tables for a booking: HELD if the rules allow (the tables are held"
        " for you), else PROPOSED with the violations. The same tables again extend the hold;"
        " an empty list releases it."
    )
    async def propose_tables(self, info: Info, input: ProposeTablesInput) -> ProposeTablesResult:
        return _session(
            await resolve.propose_tables(info.context, input.booking_id, input.table_ids)
        )

    @strawberry.mutation(description="Turn a HELD session's holds into the booking's tables.")
    async def confirm_assignment(
        self, info: Info, input: ConfirmAssignmentInput
    ) -> ConfirmAssignmentResult:
        return _session(
            await resolve.confirm_assignment(info.context, input.session_id, input.expected_version)
        )

    @strawberry.mutation(description="Release the session's hold and close it.")
    async def cancel_assignment_session(
        self, info: Info, input: CancelAssignmentSessionInput
    ) -> CancelAssignmentSessionResult:
        return _session(await resolve.cancel_assignment_session(info.context, input.session_id))

    @strawberry.mutation(description="Assign the best free table set to the booking.")
    async def auto_assign(self, info: Info, input: AutoAssignInput) -> AutoAssignResult:
        done = await resolve.auto_assign(info.context, input.booking_id)
        return AutoAssignPayload(
            booking=Booking.of(done.booking), tables=_each(DiningTable.of, done.tables)
        )

    @strawberry.mutation(
        description="Re-plan the tables of the window's bookings that are not seated yet, to "
        "seat the most covers, then leave the fewest empty seats, then move the fewest bookings "
        "(pinned and seated bookings, and others' live holds, stay). Preview unless apply."
    )
    async def optimize_floor(self, info: Info, input: OptimizeFloorInput) -> OptimizeFloorResult:
        return FloorPlanPayload.of(
            await resolve.optimize_floor(
                info.context, input.restaurant_id, input.from_, input.to, bool(input.apply)
            )
        )

    @strawberry.mutation(description="Pin a booking to its tables, or let optimizeFloor move it.")
    async def set_booking_pinned(
        self, info: Info, input: SetBookingPinnedInput
    ) -> SetBookingPinnedResult:
        return Booking.of(
            await resolve.set_booking_pinned(info.context, input.booking_id, input.pinned)
        )

    @strawberry.mutation(
        description="Seat, complete, cancel or mark a no-show. Cancelling or a no-show releases"
        " the booking's tables; open assignment sessions for it are cancelled."
    )
    async def set_booking_status(
        self, info: Info, input: SetBookingStatusInput
    ) -> SetBookingStatusResult:
        return Booking.of(
            await resolve.set_booking_status(
                info.context, input.booking_id, input.status, input.expected_version
            )
        )


def _floor_delta(delta: Delta[model.FloorChange]) -> FloorEvent:
    change = delta.data
    return FloorEvent(
        kind=change.kind,
        sequence=delta.sequence,
        resync=False,
        allocation=Allocation.of(change.allocation) if change.allocation else None,
        booking=Booking.of(change.booking) if change.booking else None,
        table=DiningTable.of(change.table) if change.table else None,
    )


def _floor_snapshot(snapshot: Snapshot[model.FloorView]) -> FloorEvent:
    return FloorEvent(
        kind=FloorEventKind.SNAPSHOT,
        sequence=snapshot.sequence,
        resync=snapshot.resync,
        floor=Floor.of(snapshot.data),
    )


def _session_event(event: Snapshot[model.SessionView] | Delta[model.SessionView]) -> SessionEvent:
    return SessionEvent(
        sequence=event.sequence,
        resync=isinstance(event, Snapshot) and event.resync,
        session=AssignmentSession.of(event.data),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Staff: a SNAPSHOT of the floor in [from, to), then every hold, assignment"
        " and booking change overlapping it, and every table added or edited."
    )
    def floor_events(
        self,
        info: Info,
        restaurant_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> AsyncGenerator[FloorEvent, None]:
        return shared_events(
            resolve.floor_events(info.context, restaurant_id, from_, to),
            snapshot=_floor_snapshot,
            delta=_floor_delta,
        )

    @strawberry.subscription(
        description="The owner (or an admin): the session now, then every change of its status,"
        " violations or hold."
    )
    def session_events(
        self, info: Info, session_id: strawberry.ID
    ) -> AsyncGenerator[SessionEvent, None]:
        return shared_events(
            resolve.session_events(info.context, session_id),
            snapshot=_session_event,
            delta=_session_event,
        )
