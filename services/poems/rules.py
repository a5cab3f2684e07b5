"""The poems area's rules as pure checks: what a game's state allows, or the typed error
that says why not.

No I/O here: flows read a snapshot, ask these checks (and the planner, plan.py) for a
verdict, and commit.
"""

from __future__ import annotations

from services.errors import Forbidden
from services.poems.errors import GameNotJoinable, NotEnoughPlayers
from services.poems.model import GameStatus

# Join codes avoid characters that read alike: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MIN_PLAYERS = 2
MAX_DISPLAY_NAME = 40
# The exact number of words of a line, per round, of every new game.
ROUND_WORD_COUNTS: tuple[int, ...] = (1, 2, 3, 4, 5, 4, 3, 2, 1)


def words(n: int) -> str:
    """'1 word', '3 words'."""
    return f"{n} word" if n == 1 else f"{n} words"


def require_host(host_user_id: str, user_id: str, action: str) -> None:
    """Only the host may `action` (start, end) the game."""
    if host_user_id != user_id:
        raise Forbidden(f"only the host can {action} the game")


def require_lobby(status: GameStatus, started: str) -> None:
    """The game is still in its lobby; else GameNotJoinable (`started` says why, if it runs)."""
    if status is GameStatus.IN_PROGRESS:
        raise GameNotJoinable(started)
    if status.over:
        raise GameNotJoinable("the game is over")


def require_running(status: GameStatus) -> None:
    """The game is being played (its rounds can be skipped)."""
    if status is GameStatus.LOBBY:
        raise GameNotJoinable("the game has not started yet")
    if status.over:
        raise GameNotJoinable("the game is over")


def require_room(player_count: int, max_players: int) -> None:
    """The game has a free seat."""
    if player_count >= max_players:
        raise GameNotJoinable(f"the game is full ({max_players} players at most)")


def require_enough_players(player_count: int) -> None:
    """A game starts with MIN_PLAYERS players at least."""
    if player_count < MIN_PLAYERS:
        raise NotEnoughPlayers(
            f"a game needs at least {MIN_PLAYERS} players to start; it has {player_count}",
            minimum=MIN_PLAYERS,
        )
