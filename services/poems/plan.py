"""The poems planner (pure): a game's snapshot (and an RNG) in, a plan or a typed error out.

Flows read what a decision needs, ask for a plan here, and commit it: the join code of a
new lobby, the seat a player takes, the assignment matrix a game starts with, what a
submitted line does, the lines bots write, and who reads which poem at the reveal.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.errors import InvalidInput
from services.poems.bots import bot_line
from services.poems.errors import NotYourTurn, WrongWordCount
from services.poems.matrix import generate_matrix, matrix_violations
from services.poems.model import GameStatus
from services.poems.readers import assign_readers
from services.poems.rules import (
    CODE_ALPHABET,
    CODE_LENGTH,
    require_enough_players,
    require_lobby,
    require_room,
    words,
)
from services.poems.words import LineRejected, clean_line, count_words


def new_code(rng: random.Random) -> str:
    """A random join code (the caller retries if an open game of the tenant has it)."""
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def plan_join(status: GameStatus, player_count: int, max_players: int) -> int:
    """The seat a new player takes: the next one, while the lobby has room."""
    require_lobby(status, "the game has already started; new players cannot join")
    require_room(player_count, max_players)
    return player_count


def plan_start(
    status: GameStatus, player_count: int, rounds: int, rng: random.Random
) -> list[list[int]]:
    """The assignment matrix a lobby starts with (`matrix[round][poem] = seat`)."""
    require_lobby(status, "the game has already started")
    require_enough_players(player_count)
    matrix = generate_matrix(player_count, rounds=rounds, rng=rng)
    problems = matrix_violations(matrix, player_count)
    if problems:  # pragma: no cover - the generator is valid by construction
        raise RuntimeError("generated an invalid matrix: " + "; ".join(problems))
    return matrix


@dataclass(frozen=True, slots=True)
class SubmitState:
    """What deciding on a submitted line depends on."""

    status: GameStatus
    current_round: int
    word_counts: Sequence[int]
    matrix: Sequence[Sequence[int]] | None
    seat: int
    existing_text: str | None  # the caller's stored line in the requested round, if any
    left: bool = False  # the caller left the game: a bot writes their lines


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
    if state.left:
        raise NotYourTurn("you left this game; a bot writes your lines")
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
    if state.status.over:
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


@dataclass(frozen=True, slots=True)
class BotLine:
    """A line a bot writes for `seat`, in its poem of the round."""

    poem: int
    seat: int
    text: str


def plan_bot_lines(
    matrix: Sequence[Sequence[int]],
    round_: int,
    seats: Iterable[int],
    word_count: int,
    seed: int,
) -> list[BotLine]:
    """The lines bots write for `seats` in `round_`: each in the poem the matrix gives the
    seat, of exactly the round's word count, the same for the same game seed."""
    poem_of = {seat: poem for poem, seat in enumerate(matrix[round_])}
    return [
        BotLine(poem_of[seat], seat, bot_line(seed, round_, poem_of[seat], word_count))
        for seat in seats
    ]


def plan_readers(
    matrix: Sequence[Sequence[int]] | None,
    human_lines: Iterable[tuple[int, int]],
    readers: Sequence[int],
) -> list[int]:
    """Who reads each poem aloud at the reveal (`result[poem] = seat`; empty when nobody can
    read): the humans still in the game, never a poem they wrote a line of when that is
    possible, and never one they began otherwise. `human_lines` are the (poem, round) lines
    their seats' players wrote themselves (not a bot for them)."""
    if matrix is None or not readers or not matrix:
        return []
    written = [[False] * len(matrix[0]) for _ in matrix]
    for poem, round_ in human_lines:
        written[round_][poem] = True
    chosen = assign_readers(matrix, written, readers).reader_of
    return [-1 if seat is None else seat for seat in chosen]
