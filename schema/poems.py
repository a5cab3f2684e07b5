"""Poems (Linejam): exquisite-corpse poetry games. Types, inputs, results and errors."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from resolvers import poems as resolve
from schema.context import Info
from schema.errors import Error, Forbidden, InvalidInput, NotFound
from schema.fanout import shared_events
from services.poems import errors as domain
from services.poems import model
from services.poems.model import GameEventKind, GameStatus
from services.realtime.stream import Delta, Snapshot

# ---------------------------------------------------------------- types


strawberry.enum(GameStatus, description="Where a game is in its life.")
strawberry.enum(GameEventKind)


@strawberry.type(description="One seat of a game.")
class Player:
    id: strawberry.ID
    display_name: str
    seat: int
    submitted_this_round: bool = strawberry.field(
        description="True once this player has written their line of the current round "
        "(only while the game is IN_PROGRESS)."
    )

    @classmethod
    def of(cls, v: model.PlayerView) -> Player:
        return cls(
            id=strawberry.ID(str(v.id)),
            display_name=v.display_name,
            seat=v.seat,
            submitted_this_round=v.submitted_this_round,
        )


@strawberry.type(description="One line of a poem.")
class Line:
    round: int
    text: str
    author: Player

    @classmethod
    def of(cls, v: model.LineView) -> Line:
        return cls(round=v.round, text=v.text, author=Player.of(v.author))


@strawberry.type(description="One poem of a game.")
class Poem:
    index: int
    lines: list[Line] = strawberry.field(
        description="The poem's lines in round order; only readable once the game is COMPLETED."
    )

    @classmethod
    def of(cls, v: model.PoemView) -> Poem:
        return cls(index=v.index, lines=[Line.of(line) for line in v.lines])


@strawberry.type(description="A game of exquisite-corpse poems: N players write N poems.")
class Game:
    id: strawberry.ID
    code: str = strawberry.field(description="The short join code (6 characters).")
    status: GameStatus
    round: int = strawberry.field(description="0-based; meaningful while IN_PROGRESS.")
    round_word_counts: list[int] = strawberry.field(
        description="The exact number of words of a line, per round."
    )
    host: Player
    players: list[Player] = strawberry.field(description="Every player, in seat order.")
    poems: list[Poem] = strawberry.field(description="Empty until the game is COMPLETED.")
    version: int

    @classmethod
    def of(cls, v: model.GameView) -> Game:
        return cls(
            id=strawberry.ID(str(v.id)),
            code=v.code,
            status=v.status,
            round=v.round,
            round_word_counts=list(v.round_word_counts),
            host=Player.of(v.host),
            players=[Player.of(p) for p in v.players],
            poems=[Poem.of(p) for p in v.poems],
            version=v.version,
        )


@strawberry.type(description="What you write this round, and the only line you may see.")
class PoemAssignment:
    game_id: strawberry.ID
    round: int
    poem_index: int
    word_count: int = strawberry.field(description="Your line must have exactly this many words.")
    previous_line: str | None = strawberry.field(
        description="The line just before yours in this poem; null in round 0. Never any other."
    )
    submitted: bool = strawberry.field(description="True once you have written this round's line.")

    @classmethod
    def of(cls, v: model.Assignment) -> PoemAssignment:
        return cls(
            game_id=strawberry.ID(str(v.game_id)),
            round=v.round,
            poem_index=v.poem_index,
            word_count=v.word_count,
            previous_line=v.previous_line,
            submitted=v.submitted,
        )


# ---------------------------------------------------------------- inputs and results


@strawberry.input
class CreateGameInput:
    display_name: str


@strawberry.input
class JoinGameInput:
    code: str = strawberry.field(description="The join code; case does not matter.")
    display_name: str


@strawberry.input
class StartGameInput:
    game_id: strawberry.ID


@strawberry.input
class SubmitLineInput:
    game_id: strawberry.ID
    round: int
    text: str


@strawberry.input
class EndGameInput:
    game_id: strawberry.ID


@strawberry.type(description="A game and your player in it.")
class GamePayload:
    game: Game
    player: Player


@strawberry.type(description="Your own line (never anyone else's) and the game after it.")
class LinePayload:
    line: Line
    game: Game


@strawberry.type
class GameNotJoinable(Error):
    pass


@strawberry.type
class NotEnoughPlayers(Error):
    minimum: int

    @classmethod
    def of(cls, err: domain.NotEnoughPlayers) -> NotEnoughPlayers:
        return cls(code=err.code, message=err.message, minimum=err.minimum)


@strawberry.type
class WrongWordCount(Error):
    expected: int
    actual: int

    @classmethod
    def of(cls, err: domain.WrongWordCount) -> WrongWordCount:
        return cls(code=err.code, message=err.message, expected=err.expected, actual=err.actual)


@strawberry.type
class NotYourTurn(Error):
    pass


CreateGameResult = Annotated[
    GamePayload | InvalidInput | Forbidden, strawberry.union("CreateGameResult")
]
JoinGameResult = Annotated[
    GamePayload | GameNotJoinable | NotFound | InvalidInput | Forbidden,
    strawberry.union("JoinGameResult"),
]
StartGameResult = Annotated[
    GamePayload | NotEnoughPlayers | GameNotJoinable | Forbidden | NotFound,
    strawberry.union("StartGameResult"),
]
SubmitLineResult = Annotated[
    LinePayload | WrongWordCount | NotYourTurn | InvalidInput | NotFound | Forbidden,
    strawberry.union("SubmitLineResult"),
]
EndGameResult = Annotated[GamePayload | Forbidden | NotFound, strawberry.union("EndGameResult")]


def _game_payload(result: model.GameResult) -> GamePayload:
    return GamePayload(game=Game.of(result.game), player=Player.of(result.player))


def _line_payload(result: model.LineResult) -> LinePayload:
    return LinePayload(line=Line.of(result.line), game=Game.of(result.game))


# ---------------------------------------------------------------- events


@strawberry.type(description="One event of a game; `game` is its state when the event is read.")
class GameEvent:
    kind: GameEventKind
    sequence: int
    resync: bool
    game: Game
    player: Player | None = strawberry.field(
        default=None,
        description="Who joined (PLAYER_JOINED) or who submitted (LINE_SUBMITTED); never what.",
    )


def _snapshot(event: Snapshot[model.GameView]) -> GameEvent:
    return GameEvent(
        kind=GameEventKind.SNAPSHOT,
        sequence=event.sequence,
        resync=event.resync,
        game=Game.of(event.data),
    )


def _delta(event: Delta[model.GameChange]) -> GameEvent:
    change = event.data
    return GameEvent(
        kind=change.kind,
        sequence=event.sequence,
        resync=False,
        game=Game.of(change.game),
        player=Player.of(change.player) if change.player is not None else None,
    )


# ---------------------------------------------------------------- roots


@strawberry.type
class Query:
    @strawberry.field(description="A game you play in; null otherwise.")
    async def game(self, info: Info, id: strawberry.ID) -> Game | None:
        found = await resolve.game(info.context, id)
        return Game.of(found) if found is not None else None

    @strawberry.field(
        description="Your poem this round and only the line before yours; null unless the "
        "game is IN_PROGRESS and you play in it."
    )
    async def my_poem_assignment(self, info: Info, game_id: strawberry.ID) -> PoemAssignment | None:
        found = await resolve.my_poem_assignment(info.context, game_id)
        return PoemAssignment.of(found) if found is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Open a lobby; you are its host and first player.")
    async def create_game(self, info: Info, input: CreateGameInput) -> CreateGameResult:
        return _game_payload(await resolve.create_game(info.context, input.display_name))

    @strawberry.mutation(description="Join a lobby by its code; joining again is harmless.")
    async def join_game(self, info: Info, input: JoinGameInput) -> JoinGameResult:
        return _game_payload(await resolve.join_game(info.context, input.code, input.display_name))

    @strawberry.mutation(description="The host starts the game (at least 2 players).")
    async def start_game(self, info: Info, input: StartGameInput) -> StartGameResult:
        return _game_payload(await resolve.start_game(info.context, input.game_id))

    @strawberry.mutation(
        description="Write your line of the current round (exactly its word count). "
        "Retrying the same text returns the stored line."
    )
    async def submit_line(self, info: Info, input: SubmitLineInput) -> SubmitLineResult:
        return _line_payload(
            await resolve.submit_line(info.context, input.game_id, input.round, input.text)
        )

    @strawberry.mutation(
        description="The host ends the game now; its poems are revealed as they stand."
    )
    async def end_game(self, info: Info, input: EndGameInput) -> EndGameResult:
        return _game_payload(await resolve.end_game(info.context, input.game_id))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="SNAPSHOT, then every change of a game you play in, with increasing sequence."
    )
    def game_events(self, info: Info, game_id: strawberry.ID) -> AsyncGenerator[GameEvent, None]:
        return shared_events(
            resolve.game_events(info.context, game_id), snapshot=_snapshot, delta=_delta
        )
