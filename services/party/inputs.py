"""Raw input of the party area to checked values: party names, guests and missions.

Each bad field is recorded in `Problems` and raised together as `InvalidInput`; a field of a
list item is named with its index (`participants[2].displayName`), so a client can point at it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from services.errors import Problems
from services.party.model import MissionType

MAX_NAME: Final = 100
MAX_USER_ID: Final = 200
MAX_DISPLAY_NAME: Final = 60
MAX_TITLE: Final = 200
MAX_DETAIL: Final = 2000
MAX_PARTICIPANTS: Final = 10_000
MAX_MISSIONS: Final = 50_000
# Control, format and surrogate characters, line and paragraph separators (a name is one
# visible line); a mission's detail may have line breaks and tabs, nothing else of these.
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_TEXT_BREAKS: Final = frozenset("\n\r\t")


@dataclass(frozen=True, slots=True)
class NewParticipant:
    """A guest to add: the user id their token's `sub` carries, and the name others see."""

    user_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class NewMission:
    """A mission to add to the pool."""

    type: MissionType
    title: str
    detail: str


def line(problems: Problems, field: str, raw: str, max_length: int) -> str:
    """One line of text without surrounding whitespace: not empty, not too long, no controls."""
    value = raw.strip()
    if not value:
        problems.add(field, "must not be empty")
    elif len(value) > max_length:
        problems.add(field, f"must be at most {max_length} characters (got {len(value)})")
    elif any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        problems.add(field, "must not contain control or invisible characters or line breaks")
    return value


def party_name(raw: str) -> str:
    """A party's name, or InvalidInput naming `name`."""
    problems = Problems()
    name = line(problems, "name", raw, MAX_NAME)
    problems.raise_if_any()
    return name


def participants(raw: Sequence[NewParticipant], existing: int) -> list[NewParticipant]:
    """The guests to add to a party that has `existing`, or InvalidInput naming every bad field
    (an empty batch, a batch that would pass the limit, empty names, a user id twice)."""
    problems = Problems()
    if not raw:
        problems.add("participants", "must list at least one participant")
    elif existing + len(raw) > MAX_PARTICIPANTS:
        problems.add(
            "participants",
            f"a party has at most {MAX_PARTICIPANTS:,} participants "
            f"(it has {existing:,}, this adds {len(raw):,})",
        )
    out: list[NewParticipant] = []
    first: dict[str, int] = {}
    for i, p in enumerate(raw):
        user_id = line(problems, f"participants[{i}].userId", p.user_id, MAX_USER_ID)
        name = line(problems, f"participants[{i}].displayName", p.display_name, MAX_DISPLAY_NAME)
        if user_id and user_id in first:
            problems.add(
                f"participants[{i}].userId",
                f"{user_id!r} is listed twice (also participants[{first[user_id]}])",
            )
        first.setdefault(user_id, i)
        out.append(NewParticipant(user_id, name))
    problems.raise_if_any()
    return out


def missions(raw: Sequence[NewMission], existing: int) -> list[NewMission]:
    """The missions to add to a pool that has `existing`, or InvalidInput naming every bad
    field."""
    problems = Problems()
    if not raw:
        problems.add("missions", "must list at least one mission")
    elif existing + len(raw) > MAX_MISSIONS:
        problems.add(
            "missions",
            f"a party has at most {MAX_MISSIONS:,} missions "
            f"(it has {existing:,}, this adds {len(raw):,})",
        )
    out: list[NewMission] = []
    for i, m in enumerate(raw):
        title = line(problems, f"missions[{i}].title", m.title, MAX_TITLE)
        detail = m.detail.strip()
        if not detail:
            problems.add(f"missions[{i}].detail", "must not be empty")
        elif len(detail) > MAX_DETAIL:
            problems.add(f"missions[{i}].detail", f"must be at most {MAX_DETAIL} characters")
        elif any(
            unicodedata.category(ch) in {"Cc", "Cs"} and ch not in _TEXT_BREAKS for ch in detail
        ):
            problems.add(f"missions[{i}].detail", "must not contain control characters")
        out.append(NewMission(MissionType(m.type), title, detail))
    problems.raise_if_any()
    return out


def taken(problems: Problems, batch: Sequence[NewParticipant], user_ids: set[str]) -> None:
    """Record every guest of `batch` whose user id the party already has."""
    for i, p in enumerate(batch):
        if p.user_id in user_ids:
            problems.add(f"participants[{i}].userId", f"{p.user_id!r} is already a guest")


def plan_rules(problems: Problems, per_participant: int, min_types: int) -> None:
    """The rules an assign asks for, within what a plan can be (the planner says the rest)."""
    if not 1 <= per_participant <= 20:
        problems.add("missionsPerParticipant", "must be between 1 and 20")
    if not 1 <= min_types <= len(MissionType):
        problems.add("minDistinctTypes", f"must be between 1 and {len(MissionType)}")
