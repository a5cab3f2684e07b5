"""The poems area's expected failures (each a typed member of a mutation's result union)."""

from __future__ import annotations

from services.errors import AllotError


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
