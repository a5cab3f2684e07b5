"""The poems area's rules as pure functions: join codes, names, and planning a line.

No I/O here: commands read a snapshot, ask these functions for a plan (or a typed
error), and commit the plan.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from services.errors import InvalidInput
from services.poems.errors import NotYourTurn, WrongWordCount
from services.poems.views import GameStatus
from services.poems.words import LineRejected, clean_line, count_words

# Join codes avoid characters that read alike: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MIN_PLAYERS = 2
MAX_DISPLAY_NAME = 40

_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def new_code(rng: random.Random) -> str:
    """A random join code (the caller retries if an open game of the tenant has it)."""
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """The canonical form of a typed join code (case and surrounding spaces do not matter)."""
    code = raw.strip().upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise InvalidInput.one(
            "code",
            f"a join code is {CODE_LENGTH} letters and digits without 0, O, 1, I or L "
            "(for example K7QX2M)",
        )
    return code


def clean_display_name(raw: str) -> str:
    """The display name without surrounding whitespace, or InvalidInput naming `displayName`."""
    name = raw.strip()
    if not name:
        raise InvalidInput.one("displayName", "must not be empty")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput.one(
            "displayName", f"must be at most {MAX_DISPLAY_NAME} characters (got {len(name)})"
        )
    if any(unicodedata.category(ch) in _INVISIBLE for ch in name):
        raise InvalidInput.one(
            "displayName", "must not contain control characters, line breaks or tabs"
        )
    return name


def parse_id(raw: str) -> UUID | None:
    """The UUID an opaque ID holds, or None if it is not one (treated as not found)."""
    try:
        return UUID(str(raw))
    except ValueError:
        return None


def words(n: int) -> str:
    """'1 word', '3 words'."""
    return f"{n} word" if n == 1 else f"{n} words"


@dataclass(frozen=True, slots=True)
class SubmitState:
    """What deciding on a submitted line depends on."""

    status: GameStatus
    current_round: int
    word_counts: Sequence[int]
    matrix: Sequence[Sequence[int]] | None
    seat: int
    existing_text: str | None  # the caller's stored line in the requested round, if any


@dataclass(frozen=True, slots=True)
class StoredLine:
    """A retry of a line already stored: answer with it, write nothing."""

    text: str


@dataclass(frozen=True, slots=True)
class NewLine:
    """Store this line of `poem` in `round`.

    Whether it is the round's last line (so the round advances, or the game completes after
    the last round) is decided when it is counted, atomically, on the locked game row.
    """

    poem: int
    round: int
    text: str
    word_count: int


def plan_line(state: SubmitState, round_: int, raw_text: str) -> StoredLine | NewLine:
    """Decide what a submitted line does, or raise the typed error that says why not."""
    rounds = len(state.word_counts)
    if not 0 <= round_ < rounds:
        raise InvalidInput.one("round", f"must be between 0 and {rounds - 1}")
    if state.existing_text is not None:
        try:
            same = clean_line(raw_text) == state.existing_text
        except LineRejected:
            same = False
        if same:
            return StoredLine(state.existing_text)
        raise InvalidInput.one(
            "text",
            f"you already submitted a line for round {round_}; a submitted line cannot be changed",
        )
    if state.status is GameStatus.LOBBY:
        raise NotYourTurn("the game has not started yet")
    if state.status is GameStatus.COMPLETED:
        raise NotYourTurn("the game is over")
    if round_ < state.current_round:
        raise NotYourTurn(f"round {round_} is over; the current round is {state.current_round}")
    if round_ > state.current_round:
        raise NotYourTurn(
            f"round {round_} has not started; the current round is {state.current_round}"
        )
    row = state.matrix[round_] if state.matrix is not None else ()
    if state.seat not in row:
        raise NotYourTurn(f"you have no line to write in round {round_}")
    poem = list(row).index(state.seat)
    try:
        text = clean_line(raw_text)
    except LineRejected as exc:
        raise InvalidInput.one("text", exc.message) from exc
    expected = state.word_counts[round_]
    actual = count_words(text)
    if actual != expected:
        raise WrongWordCount(
            f"round {round_} takes exactly {words(expected)}; the line has {actual}",
            expected=expected,
            actual=actual,
        )
    return NewLine(poem, round_, text, actual)
