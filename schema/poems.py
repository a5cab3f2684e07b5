"""Poems (Linejam): exquisite-corpse poetry games. Types, inputs, results and errors."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import poems as resolve
from schema.context import Info
from schema.errors import Error, Forbidden, InvalidInput, NotFound
from schema.fanout import shared_events
from services.poems import errors as domain
from services.poems import model
from services.poems.model import GameEventKind, GameStatus
from services.poems.shapes import GameShape
from services.realtime.stream import Delta, Snapshot

# ---------------------------------------------------------------- types


strawberry.enum(GameStatus, description="Where a game is in its life.")
strawberry.enum(GameEventKind)
strawberry.enum(
    GameShape,
    description="A game's rounds: CLASSIC 1,2,3,4,5,4,3,2,1 words; QUICK 1,2,3,2,1; CUSTOM the "
    "wordCounts given (3 to 15 rounds of 1 to 10 words).",
)


@strawberry.type(description="One seat of a game.")
class Player:
    id: strawberry.ID
    display_name: str
    seat: int
    submitted_this_round: bool = strawberry.field(
        description="True once this player has written their line of the current round "
        "(only while the game is IN_PROGRESS)."
    )
    is_bot: bool = strawberry.field(description="A bot player the host added.")
    left: bool = strawberry.field(
        description="Left mid-game: the seat stays and a bot writes their remaining lines."
    )

    @classmethod
    def of(cls, v: model.PlayerView) -> Player:
        return cls(
            id=strawberry.ID(str(v.id)),
            display_name=v.display_name,
            seat=v.seat,
            submitted_this_round=v.submitted_this_round,
            is_bot=v.is_bot,
            left=v.left,
        )


@strawberry.type(description="One line of a poem.")
class Line:
    round: int
    text: str
    author: Player = strawberry.field(description="The seat's player.")
    by_bot: bool = strawberry.field(
        description="A bot wrote this line: a bot player's, or a bot's standing in for a "
        "player who left or stalled."
    )

    @classmethod
    def of(cls, v: model.LineView) -> Line:
        return cls(round=v.round, text=v.text, author=Player.of(v.author), by_bot=v.by_bot)


@strawberry.type(description="One poem of a game.")
class Poem:
    index: int
    lines: list[Line] = strawberry.field(
        description="The poem's lines in round order; only readable once the game is over "
        "(COMPLETED or ABANDONED)."
    )
    favorited_by_me: bool = strawberry.field(description="You marked it with favoritePoem.")

    @classmethod
    def of(cls, v: model.PoemView) -> Poem:
        return cls(
            index=v.index,
            lines=[Line.of(line) for line in v.lines],
            favorited_by_me=v.favorited_by_me,
        )


@strawberry.type(description="Who reads which poem aloud at the reveal.")
class PoemReader:
    poem_index: int
    reader: Player

    @classmethod
    def of(cls, v: model.ReaderView) -> PoemReader:
        return cls(poem_index=v.poem_index, reader=Player.of(v.reader))


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
    poems: list[Poem] = strawberry.field(description="Empty until the game is over.")
    readers: list[PoemReader] = strawberry.field(
        description="Who reads each poem aloud: fixed once as the game ends; empty before. "
        "Never a poem the reader wrote a line of when that is possible, never one they began "
        "otherwise."
    )
    turn_seconds: int | None = strawberry.field(description="The turn timeout; null: none.")
    round_deadline: datetime | None = strawberry.field(
        description="When bots write the current round's missing lines (with a turn timeout)."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the game ended (myGames pages by it)."
    )
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
            readers=[PoemReader.of(r) for r in v.readers],
            turn_seconds=v.turn_seconds,
            round_deadline=v.round_deadline,
            completed_at=v.completed_at,
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
    shape: GameShape | None = GameShape.CLASSIC
    word_counts: list[int] | None = strawberry.field(
        default=None, description="Only with shape CUSTOM: 3 to 15 rounds of 1 to 10 words."
    )
    turn_seconds: int | None = strawberry.field(
        default=None,
        description="A round's turn timeout (10 to 86400 s): then bots write its missing lines.",
    )


@strawberry.input
class GameRefInput:
    game_id: strawberry.ID
    round: int | None = strawberry.field(
        default=None,
        description="skipStalledPlayers: the round you mean to skip; if the game has moved on, "
        "nothing is skipped. Null: the current round.",
    )


@strawberry.input
class AddBotPlayerInput:
    game_id: strawberry.ID
    display_name: str


@strawberry.input
class PoemRefInput:
    game_id: strawberry.ID
    poem_index: int


@strawberry.input
class UnsharePoemInput:
    token: str


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


@strawberry.type
class RateLimited(Error):
    retry_after_seconds: int

    @classmethod
    def of(cls, err: domain.RateLimited) -> RateLimited:
        return cls(code=err.code, message=err.message, retry_after_seconds=err.retry_after_seconds)


@strawberry.type(description="A link to one poem, readable by anyone holding it.")
class SharedPoemLink:
    token: str
    url: str

    @classmethod
    def of(cls, v: model.ShareLink) -> SharedPoemLink:
        return cls(token=v.token, url=v.url)


@strawberry.type(description="A line of a shared poem: the name it was written under, no ids.")
class SharedLine:
    round: int
    text: str
    author_name: str


@strawberry.type(description="A shared poem as its link shows it.")
class SharedPoem:
    lines: list[SharedLine]

    @classmethod
    def of(cls, v: model.SharedPoemView) -> SharedPoem:
        return cls(
            lines=[
                SharedLine(round=x.round, text=x.text, author_name=x.author_name) for x in v.lines
            ]
        )


@strawberry.type(description="One of your favourite poems and its game.")
class FavoritePoem:
    game: Game
    poem: Poem

    @classmethod
    def of(cls, v: model.FavoriteView) -> FavoritePoem:
        return cls(game=Game.of(v.game), poem=Poem.of(v.poem))


CreateGameResult = Annotated[
    GamePayload | InvalidInput | Forbidden, strawberry.union("CreateGameResult")
]
JoinGameResult = Annotated[
    GamePayload | GameNotJoinable | NotFound | InvalidInput | RateLimited | Forbidden,
    strawberry.union("JoinGameResult"),
]
StartGameResult = Annotated[
    GamePayload | NotEnoughPlayers | GameNotJoinable | Forbidden | NotFound,
    strawberry.union("StartGameResult"),
]
SubmitLineResult = Annotated[
    LinePayload | WrongWordCount | NotYourTurn | InvalidInput | NotFound | Forbidden | RateLimited,
    strawberry.union("SubmitLineResult"),
]
EndGameResult = Annotated[GamePayload | Forbidden | NotFound, strawberry.union("EndGameResult")]
GameActionResult = Annotated[
    GamePayload | GameNotJoinable | InvalidInput | NotFound | Forbidden,
    strawberry.union("GameActionResult"),
]
PoemActionResult = Annotated[Poem | NotFound | Forbidden, strawberry.union("PoemActionResult")]
SharePoemResult = Annotated[
    SharedPoemLink | NotFound | Forbidden, strawberry.union("SharePoemResult")
]
UnsharePoemResult = Annotated[
    SharedPoemLink | NotFound | Forbidden, strawberry.union("UnsharePoemResult")
]


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
        description="Who joined (PLAYER_JOINED), left (PLAYER_LEFT, while the game runs) or "
        "submitted (LINE_SUBMITTED); never what.",
    )
    by_bot: bool = strawberry.field(
        default=False, description="LINE_SUBMITTED: a bot wrote the line."
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
        by_bot=change.by_bot,
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

    @strawberry.field(description="Your finished games, newest first, with their poems.")
    async def my_games(
        self, info: Info, limit: int | None = 20, before: datetime | None = None
    ) -> list[Game]:
        return [
            Game.of(g)
            for g in await resolve.my_games(info.context, 20 if limit is None else limit, before)
        ]

    @strawberry.field(
        description="Your unfinished games (lobbies and running games), newest first."
    )
    async def my_active_games(self, info: Info) -> list[Game]:
        return [Game.of(g) for g in await resolve.my_active_games(info.context)]

    @strawberry.field(description="The poems you marked with favoritePoem, newest first.")
    async def my_favorite_poems(self, info: Info) -> list[FavoritePoem]:
        return [FavoritePoem.of(f) for f in await resolve.my_favorite_poems(info.context)]

    @strawberry.field(
        description="A poem someone shared (sharePoem): its lines and authors' names, no ids. "
        "Needs no token; null when the link names nothing or was revoked."
    )
    async def shared_poem(self, info: Info, token: str) -> SharedPoem | None:
        found = await resolve.shared_poem(info.context, token)
        return SharedPoem.of(found) if found is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Open a lobby; you are its host and first player.")
    async def create_game(self, info: Info, input: CreateGameInput) -> CreateGameResult:
        return _game_payload(
            await resolve.create_game(
                info.context,
                input.display_name,
                input.shape or GameShape.CLASSIC,
                input.word_counts,
                input.turn_seconds,
            )
        )

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

    @strawberry.mutation(
        description="Leave a game: in the lobby you are gone; in a running game a bot writes "
        "your remaining lines. A host who leaves hands hosting to the earliest-joined player."
    )
    async def leave_game(self, info: Info, input: GameRefInput) -> GameActionResult:
        return _game_payload(await resolve.leave_game(info.context, input.game_id))

    @strawberry.mutation(
        description="The host adds a bot player in the lobby; the answer's player is the bot."
    )
    async def add_bot_player(self, info: Info, input: AddBotPlayerInput) -> GameActionResult:
        return _game_payload(
            await resolve.add_bot_player(info.context, input.game_id, input.display_name)
        )

    @strawberry.mutation(
        description="The host has bots write every missing line of the current round, which "
        "then advances (once, however often it is asked)."
    )
    async def skip_stalled_players(self, info: Info, input: GameRefInput) -> GameActionResult:
        return _game_payload(
            await resolve.skip_stalled_players(info.context, input.game_id, input.round)
        )

    @strawberry.mutation(description="Mark a poem of a finished game you played as a favourite.")
    async def favorite_poem(self, info: Info, input: PoemRefInput) -> PoemActionResult:
        return Poem.of(
            await resolve.set_favorite(info.context, input.game_id, input.poem_index, True)
        )

    @strawberry.mutation(description="Unmark a favourite poem.")
    async def unfavorite_poem(self, info: Info, input: PoemRefInput) -> PoemActionResult:
        return Poem.of(
            await resolve.set_favorite(info.context, input.game_id, input.poem_index, False)
        )

    @strawberry.mutation(
        description="A link to a poem of a finished game you played, readable by anyone who has "
        "it (sharedPoem, or the url's page)."
    )
    async def share_poem(self, info: Info, input: PoemRefInput) -> SharePoemResult:
        return SharedPoemLink.of(
            await resolve.share_poem(info.context, input.game_id, input.poem_index)
        )

    @strawberry.mutation(description="Revoke a link you made with sharePoem.")
    async def unshare_poem(self, info: Info, input: UnsharePoemInput) -> UnsharePoemResult:
        return SharedPoemLink.of(await resolve.unshare_poem(info.context, input.token))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="SNAPSHOT, then every change of a game you play in, with increasing sequence."
    )
    def game_events(self, info: Info, game_id: strawberry.ID) -> AsyncGenerator[GameEvent, None]:
        return shared_events(
            resolve.game_events(info.context, game_id), snapshot=_snapshot, delta=_delta
        )
