"""Game shapes: how many rounds a game has and how many words each round's line has.

A host picks CLASSIC (the diamond 1, 2, 3, 4, 5, 4, 3, 2, 1), QUICK (1, 2, 3, 2, 1) or CUSTOM,
which brings its own ``wordCounts``: ``MIN_ROUNDS`` to ``MAX_ROUNDS`` rounds of 1 to
``MAX_WORDS`` words each (ten words keep a bot line, and any honest line, well inside
``MAX_LINE_LENGTH``). A game may also limit each turn to ``turnSeconds``.

Each bad field is recorded in `Problems` (as in ``inputs.py``); the caller raises them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from services.errors import Problems
from services.poems.rules import ROUND_WORD_COUNTS

MIN_ROUNDS = 3
MAX_ROUNDS = 15
MIN_WORDS = 1
MAX_WORDS = 10
MIN_TURN_SECONDS = 10
MAX_TURN_SECONDS = 86_400  # one day


class GameShape(StrEnum):
    """The rounds of a game: a fixed pattern, or the host's own word counts."""

    CLASSIC = "CLASSIC"
    QUICK = "QUICK"
    CUSTOM = "CUSTOM"


SHAPE_WORD_COUNTS: dict[GameShape, tuple[int, ...]] = {
    GameShape.CLASSIC: ROUND_WORD_COUNTS,
    GameShape.QUICK: (1, 2, 3, 2, 1),
}
"""The words per round of every fixed shape (CUSTOM has none of its own)."""


def word_counts(
    problems: Problems, shape: GameShape, custom: Sequence[int] | None
) -> tuple[int, ...]:
    """The words per round of a game of ``shape``; problems on ``wordCounts`` when invalid.

    CUSTOM needs ``custom``: MIN_ROUNDS to MAX_ROUNDS rounds, each MIN_WORDS to MAX_WORDS words.
    A fixed shape takes no ``custom`` (even an empty list is a problem). When a problem is
    recorded the result is ``custom`` as given (or the shape's own), never meant to be used.
    """
    if shape is not GameShape.CUSTOM:
        if custom is not None:
            problems.add(
                "wordCounts",
                f"only with shape {GameShape.CUSTOM}; shape {shape} has its own "
                f"({_listed(SHAPE_WORD_COUNTS[shape])})",
            )
        return SHAPE_WORD_COUNTS[shape]
    allowed = f"{MIN_ROUNDS} to {MAX_ROUNDS} rounds, each of {MIN_WORDS} to {MAX_WORDS} words"
    if custom is None:
        problems.add("wordCounts", f"required with shape {GameShape.CUSTOM}: {allowed}")
        return ()
    counts = tuple(custom)
    if not MIN_ROUNDS <= len(counts) <= MAX_ROUNDS:
        problems.add("wordCounts", f"has {len(counts)} rounds; allowed are {allowed}")
    bad = [
        f"round {r} has {count}"
        for r, count in enumerate(counts, start=1)
        if not MIN_WORDS <= count <= MAX_WORDS
    ]
    if bad:
        problems.add(
            "wordCounts",
            f"each round must have {MIN_WORDS} to {MAX_WORDS} words ({', '.join(bad)})",
        )
    return counts


def turn_seconds(problems: Problems, raw: int | None) -> int | None:
    """The time limit of a turn in seconds, None for none; a problem on ``turnSeconds`` when
    outside MIN_TURN_SECONDS to MAX_TURN_SECONDS."""
    if raw is not None and not MIN_TURN_SECONDS <= raw <= MAX_TURN_SECONDS:
        problems.add(
            "turnSeconds",
            f"must be {MIN_TURN_SECONDS} to {MAX_TURN_SECONDS} seconds (one day), or null for "
            f"no time limit (got {raw})",
        )
    return raw


def _listed(counts: Sequence[int]) -> str:
    """'1, 2, 3, 2, 1'."""
    return ", ".join(str(count) for count in counts)
