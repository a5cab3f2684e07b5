"""The party area's words: mission types and roles, and the immutable views of parties,
participants and missions that answers and events return.

The enums are defined here once and exposed to GraphQL as they are (schema/party.py).

A PartyView as read holds every slot's participant; `redacted_for` makes the view one
participant may see (their own slots only), which is what answers and events give guests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID


class MissionType(StrEnum):
    """What kind of mission, which fixes its roles (ROLES)."""

    BOOK = "BOOK"
    PASSPHRASE = "PASSPHRASE"
    OBJECT = "OBJECT"


class MissionRole(StrEnum):
    """A part in a mission."""

    RED = "RED"
    BLUE = "BLUE"
    RECEIVER = "RECEIVER"
    SENDER = "SENDER"
    AGENT = "AGENT"


ROLES: Final[dict[MissionType, tuple[MissionRole, ...]]] = {
    MissionType.BOOK: (MissionRole.RED, MissionRole.BLUE),
    MissionType.PASSPHRASE: (MissionRole.RECEIVER, MissionRole.SENDER, MissionRole.SENDER),
    MissionType.OBJECT: (MissionRole.AGENT,),
}
"""The role of each slot of a mission of each type, slot 0 first (one slot per role)."""


class PartyEventKind(StrEnum):
    """What happened to a party (the trigger's `kind`, plus SNAPSHOT)."""

    SNAPSHOT = "SNAPSHOT"
    PARTICIPANTS_CHANGED = "PARTICIPANTS_CHANGED"
    MISSIONS_CHANGED = "MISSIONS_CHANGED"
    MISSIONS_ASSIGNED = "MISSIONS_ASSIGNED"


@dataclass(frozen=True, slots=True)
class ParticipantView:
    """A guest of a party."""

    id: UUID
    user_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class SlotView:
    """One role of a mission and who holds it (None: unassigned, or hidden from the reader)."""

    role: MissionRole
    participant: ParticipantView | None


@dataclass(frozen=True, slots=True)
class MissionView:
    """A mission of the pool, with one slot per role of its type."""

    id: UUID
    type: MissionType
    title: str
    detail: str
    slots: tuple[SlotView, ...]


@dataclass(frozen=True, slots=True)
class PartyView:
    """A party: its guests in the order they were added, its missions, its plan."""

    id: UUID
    name: str
    participants: tuple[ParticipantView, ...]
    missions: tuple[MissionView, ...]
    assigned_at: datetime | None
    version: int

    def participant_of(self, user_id: str) -> ParticipantView | None:
        """The participant a user is in this party, if any."""
        return next((p for p in self.participants if p.user_id == user_id), None)

    def redacted_for(self, participant_id: UUID) -> PartyView:
        """The party as a participant may see it: every slot but their own shows no one."""
        missions = tuple(
            replace(
                m,
                slots=tuple(
                    s
                    if s.participant is None or s.participant.id == participant_id
                    else SlotView(s.role, None)
                    for s in m.slots
                ),
            )
            for m in self.missions
        )
        return replace(self, missions=missions)

    def missions_of(self, participant_id: UUID) -> list[MyMission]:
        """A participant's own missions and the role they hold in each."""
        return [
            MyMission(m, s.role)
            for m in self.missions
            for s in m.slots
            if s.participant is not None and s.participant.id == participant_id
        ]


@dataclass(frozen=True, slots=True)
class MyMission:
    """One of the caller's missions and their role in it."""

    mission: MissionView
    role: MissionRole


@dataclass(frozen=True, slots=True)
class Assigned:
    """A landed plan: the party after it and how many slots it filled."""

    party: PartyView
    assigned_slots: int


@dataclass(frozen=True, slots=True)
class PartyChange:
    """One delta of a party's subscription: what happened and the party after it, as the
    subscriber may see it."""

    kind: PartyEventKind
    party: PartyView
