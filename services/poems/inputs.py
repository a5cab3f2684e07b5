"""Raw input of the poems area to checked values: join codes and display names.

Each bad field is recorded in `Problems` and raised together as `InvalidInput`, so a join
with a malformed code and an empty name names both fields at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from services.errors import Problems
from services.poems import shapes
from services.poems.rules import CODE_ALPHABET, CODE_LENGTH, MAX_DISPLAY_NAME
from services.poems.shapes import GameShape
from services.poems.words import INVISIBLE


def code(problems: Problems, raw: str) -> str:
    """The canonical form of a typed join code (case and surrounding spaces do not matter)."""
    cleaned = raw.strip().upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        problems.add(
            "code",
            f"a join code is {CODE_LENGTH} letters and digits without 0, O, 1, I or L "
            "(for example K7QX2M)",
        )
    return cleaned


def display_name(problems: Problems, raw: str) -> str:
    """The display name without surrounding whitespace; a problem naming `displayName`."""
    name = raw.strip()
    if not name:
        problems.add("displayName", "must not be empty")
    elif len(name) > MAX_DISPLAY_NAME:
        problems.add(
            "displayName", f"must be at most {MAX_DISPLAY_NAME} characters (got {len(name)})"
        )
    elif any(unicodedata.category(ch) in INVISIBLE for ch in name):
        problems.add("displayName", "must not contain control characters, line breaks or tabs")
    return name


def normalize_code(raw: str) -> str:
    """A join code, or InvalidInput naming `code`."""
    problems = Problems()
    cleaned = code(problems, raw)
    problems.raise_if_any()
    return cleaned


def clean_display_name(raw: str) -> str:
    """A display name, or InvalidInput naming `displayName`."""
    problems = Problems()
    name = display_name(problems, raw)
    problems.raise_if_any()
    return name


def join_input(raw_code: str, raw_name: str) -> tuple[str, str]:
    """The code and display name of a join, or InvalidInput naming every bad one."""
    problems = Problems()
    cleaned = code(problems, raw_code), display_name(problems, raw_name)
    problems.raise_if_any()
    return cleaned


def create_input(
    raw_name: str, shape: GameShape, word_counts: Sequence[int] | None, turn_seconds: int | None
) -> tuple[str, tuple[int, ...], int | None]:
    """A new game's host name, word counts and turn timeout, or InvalidInput naming every bad
    field (displayName, wordCounts, turnSeconds)."""
    problems = Problems()
    name = display_name(problems, raw_name)
    counts = shapes.word_counts(problems, shape, word_counts)
    turn = shapes.turn_seconds(problems, turn_seconds)
    problems.raise_if_any()
    return name, counts, turn
