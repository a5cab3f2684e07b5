"""Party (issue 000): parties, their guests, a pool of secret missions, a whole-party plan."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import party as resolve
from schema.context import Info
from schema.errors import Error, Forbidden, InvalidInput, NotFound
from schema.fanout import shared_events
from services.party import errors as domain
from services.party import model
from services.party.inputs import NewMission, NewParticipant
from services.party.model import MissionRole, MissionType, PartyEventKind
from services.realtime.stream import Delta, Snapshot

# ---------------------------------------------------------------- types


strawberry.enum(
    MissionType,
    description="BOOK has the roles RED and BLUE; PASSPHRASE a RECEIVER and two SENDERs; "
    "OBJECT an AGENT.",
)
strawberry.enum(MissionRole)
strawberry.enum(PartyEventKind)


@strawberry.type(description="A guest of a party.")
class PartyParticipant:
    id: strawberry.ID
    display_name: str

    @classmethod
    def of(cls, v: model.ParticipantView) -> PartyParticipant:
        return cls(id=strawberry.ID(str(v.id)), display_name=v.display_name)


@strawberry.type(description="One role of a mission.")
class PartyMissionSlot:
    role: MissionRole
    participant: PartyParticipant | None = strawberry.field(
        description="Who holds the role: null while unassigned, and for a guest on every "
        "slot but their own (missions are secret)."
    )

    @classmethod
    def of(cls, v: model.SlotView) -> PartyMissionSlot:
        holder = PartyParticipant.of(v.participant) if v.participant is not None else None
        return cls(role=v.role, participant=holder)


@strawberry.type(description="A mission of the pool, with one slot per role of its type.")
class PartyMission:
    id: strawberry.ID
    type: MissionType
    title: str
    detail: str
    slots: list[PartyMissionSlot]

    @classmethod
    def of(cls, v: model.MissionView) -> PartyMission:
        return cls(
            id=strawberry.ID(str(v.id)),
            type=v.type,
            title=v.title,
            detail=v.detail,
            slots=[PartyMissionSlot.of(s) for s in v.slots],
        )


@strawberry.type(description="A party: its guests, its pool of missions, and who holds what.")
class Party:
    id: strawberry.ID
    name: str
    participants: list[PartyParticipant] = strawberry.field(
        description="Every guest, in the order they were added."
    )
    missions: list[PartyMission] = strawberry.field(
        description="The pool, in the order the missions were added."
    )
    assigned_at: datetime | None = strawberry.field(
        description="When the current plan landed; null until the first assign."
    )
    version: int

    @classmethod
    def of(cls, v: model.PartyView) -> Party:
        return cls(
            id=strawberry.ID(str(v.id)),
            name=v.name,
            participants=[PartyParticipant.of(p) for p in v.participants],
            missions=[PartyMission.of(m) for m in v.missions],
            assigned_at=v.assigned_at,
            version=v.version,
        )


@strawberry.type(description="One of your missions and the role you hold in it.")
class MyPartyMission:
    mission: PartyMission
    role: MissionRole

    @classmethod
    def of(cls, v: model.MyMission) -> MyPartyMission:
        return cls(mission=PartyMission.of(v.mission), role=v.role)


# ---------------------------------------------------------------- inputs and results


@strawberry.input
class CreatePartyInput:
    name: str


@strawberry.input
class PartyParticipantInput:
    user_id: strawberry.ID = strawberry.field(
        description="The guest's user id: the `sub` of the token they play with."
    )
    display_name: str


@strawberry.input
class AddPartyParticipantsInput:
    party_id: strawberry.ID
    participants: list[PartyParticipantInput] = strawberry.field(
        description="At most 10,000 guests per party; each user once."
    )


@strawberry.input
class PartyMissionInput:
    type: MissionType
    title: str
    detail: str


@strawberry.input
class AddPartyMissionsInput:
    party_id: strawberry.ID
    missions: list[PartyMissionInput]


@strawberry.input
class AssignPartyMissionsInput:
    party_id: strawberry.ID
    missions_per_participant: int | None = strawberry.field(
        default=3, description="Exactly this many missions per guest (default 3)."
    )
    min_distinct_types: int | None = strawberry.field(
        default=2, description="Of at least this many types (default 2)."
    )
    seed: int | None = strawberry.field(
        default=None,
        description="Makes the plan reproducible (tests, demos); without it the draw is random.",
    )


@strawberry.type(description="The plan landed: the party after it and how many slots it filled.")
class PartyAssignmentPayload:
    party: Party
    assigned_slots: int


@strawberry.type(description="No plan meets the rules with this pool; nothing was written.")
class Infeasible(Error):
    reasons: list[str]

    @classmethod
    def of(cls, err: domain.Infeasible) -> Infeasible:
        return cls(code=err.code, message=err.message, reasons=list(err.reasons))


PartyResult = Annotated[
    Party | InvalidInput | NotFound | Forbidden, strawberry.union("PartyResult")
]
AssignPartyMissionsResult = Annotated[
    PartyAssignmentPayload | Infeasible | NotFound | Forbidden | InvalidInput,
    strawberry.union("AssignPartyMissionsResult"),
]


# ---------------------------------------------------------------- events


@strawberry.type(
    description="One event of a party; `party` is as you may see it (a guest: their own "
    "slots only)."
)
class PartyEvent:
    kind: PartyEventKind
    sequence: int
    resync: bool
    party: Party


def _snapshot(event: Snapshot[model.PartyView]) -> PartyEvent:
    return PartyEvent(
        kind=PartyEventKind.SNAPSHOT,
        sequence=event.sequence,
        resync=event.resync,
        party=Party.of(event.data),
    )


def _delta(event: Delta[model.PartyChange]) -> PartyEvent:
    return PartyEvent(
        kind=event.data.kind,
        sequence=event.sequence,
        resync=False,
        party=Party.of(event.data.party),
    )


# ---------------------------------------------------------------- roots


@strawberry.type
class Query:
    @strawberry.field(
        description="A party: whole for its tenant's admins; for a guest (player role), "
        "with only their own slots filled in. NotFound for anyone else."
    )
    async def party(self, info: Info, id: strawberry.ID) -> Party | None:
        return Party.of(await resolve.party(info.context, id))

    @strawberry.field(description="Your own missions in a party you are a guest of.")
    async def my_party_missions(self, info: Info, party_id: strawberry.ID) -> list[MyPartyMission]:
        return [
            MyPartyMission.of(m) for m in await resolve.my_party_missions(info.context, party_id)
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an empty party (admins).")
    async def create_party(self, info: Info, input: CreatePartyInput) -> PartyResult:
        return Party.of(await resolve.create_party(info.context, input.name))

    @strawberry.mutation(
        description="Add guests to a party, all or none (admins). The current plan stays as "
        "it is until the next assign."
    )
    async def add_party_participants(
        self, info: Info, input: AddPartyParticipantsInput
    ) -> PartyResult:
        batch = [NewParticipant(str(p.user_id), p.display_name) for p in input.participants]
        return Party.of(await resolve.add_party_participants(info.context, input.party_id, batch))

    @strawberry.mutation(
        description="Add missions to a party's pool, all or none (admins). The current plan "
        "stays as it is until the next assign."
    )
    async def add_party_missions(self, info: Info, input: AddPartyMissionsInput) -> PartyResult:
        batch = [NewMission(m.type, m.title, m.detail) for m in input.missions]
        return Party.of(await resolve.add_party_missions(info.context, input.party_id, batch))

    @strawberry.mutation(
        description="Plan the whole party and replace its plan (admins): every guest gets "
        "exactly missionsPerParticipant missions of at least minDistinctTypes types, every "
        "mission used is filled whole, nobody holds two roles of one mission. Infeasible "
        "(with reasons) when the pool cannot do it; nothing is written then."
    )
    async def assign_party_missions(
        self, info: Info, input: AssignPartyMissionsInput
    ) -> AssignPartyMissionsResult:
        result = await resolve.assign_party_missions(
            info.context,
            input.party_id,
            per_participant=3
            if input.missions_per_participant is None
            else input.missions_per_participant,
            min_types=2 if input.min_distinct_types is None else input.min_distinct_types,
            seed=input.seed,
        )
        return PartyAssignmentPayload(
            party=Party.of(result.party), assigned_slots=result.assigned_slots
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="SNAPSHOT, then every change of a party (guests, pool, plan), as you may "
        "see it, with increasing sequence."
    )
    def party_events(self, info: Info, party_id: strawberry.ID) -> AsyncGenerator[PartyEvent, None]:
        return shared_events(
            resolve.party_events(info.context, party_id), snapshot=_snapshot, delta=_delta
        )
