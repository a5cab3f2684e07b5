"""The poems area's expected failures (each a typed member of a mutation's result union)."""

from __future__ import annotations

from db.errors import Constraints, Meaning
from services.errors import AllotError, NotFound


class GameNotJoinable(AllotError):
    """The game cannot take this step: it has started, ended, or is full."""

    code = "GAME_NOT_JOINABLE"


class NotEnoughPlayers(AllotError):
    """A game needs `minimum` players to start."""

    code = "NOT_ENOUGH_PLAYERS"

    def __init__(self, message: str, minimum: int) -> None:
        super().__init__(message)
        self.minimum = minimum


class WrongWordCount(AllotError):
    """The line has `actual` words; the round takes exactly `expected`."""

    code = "WRONG_WORD_COUNT"

    def __init__(self, message: str, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class NotYourTurn(AllotError):
    """The caller has no line to write in that round (wrong round, or the game is not running)."""

    code = "NOT_YOUR_TURN"


class RateLimited(AllotError):
    """Too many attempts in a short time; try again in `retry_after_seconds`."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def no_such_game() -> NotFound:
    """What a caller learns of a game they do not play in: nothing, not even that it exists."""
    return NotFound("no such game (or you do not play in it)")


CONSTRAINTS: Constraints = {
    "game_players_lobby_only": Meaning(None, "the game has already started"),
    "game_players_one_per_seat": Meaning(None, "someone joined at the same moment; try again"),
    "game_lines_one_per_author_round": Meaning(
        "text", "you already submitted a line for this round"
    ),
    "game_lines_one_per_poem_round": Meaning(
        "text", "this poem already has its line for the round"
    ),
    "game_lines_current_round": Meaning("round", "lines are written in the current round only"),
    "game_lines_author_matches_matrix": Meaning(None, "that line is not yours to write"),
    "game_lines_text": Meaning("text", "a line is 1 to 200 characters"),
    "game_players_display_name": Meaning("displayName", "must be 1 to 40 characters, no controls"),
    "games_host_is_a_player": Meaning(None, "the host must be a player still in the game"),
    "games_turn_seconds_range": Meaning("turnSeconds", "must be between 10 and 86400"),
    "games_word_counts_shape": Meaning("wordCounts", "must be 1 to 100 rounds of 1 word or more"),
}
"""What the poems area's constraints mean to a user (db.errors translates by name)."""
