-- Poems: games, players and lines. Every query runs inside a tenant transaction
-- (row-level security scopes it to the caller's tenant).

-- name: insert_game
-- A new lobby; no row when the code is taken by an open game of the tenant (pick another).
insert into games (code, host_user_id, round_word_counts)
values ($1, $2, $3::int[])
on conflict (tenant_id, code) where status <> 'COMPLETED' do nothing
returning id

-- name: insert_player
insert into game_players (game_id, user_id, display_name, seat)
values ($1, $2, $3, $4)
returning id

-- name: lock_game_by_code
-- The open game with this code (else the latest completed one), locked against
-- concurrent joins and starts.
select id, status
from games
where code = $1
order by status = 'COMPLETED', created_at desc
limit 1
for update

-- name: join_context
-- Read after the game row is locked, so the count is current.
select
  (select count(*) from game_players where game_id = $1)::int as player_count,
  (select id from game_players where game_id = $1 and user_id = $2) as player_id

-- name: lock_game_for_member
-- The game, locked, if the caller plays in it; no row otherwise.
select g.id, g.status, g.round, g.round_word_counts, g.matrix, g.host_user_id,
       p.id as player_id, p.seat
from games g
join game_players p on p.game_id = g.id and p.user_id = $2
where g.id = $1
for update of g

-- name: player_count
select count(*)::int from game_players where game_id = $1

-- name: start_game
update games
set status = 'IN_PROGRESS', round = 0, matrix = $2::int[], started_at = now(),
    version = version + 1
where id = $1

-- name: submit_context
-- Read after the game row is locked: the caller's line in the requested round, how many
-- lines the current round has, and how many players (= poems) there are.
select
  (select text from game_lines where game_id = $1 and round = $2 and seat = $3) as existing_text,
  (select count(*) from game_lines where game_id = $1 and round = $4)::int as submitted,
  (select count(*) from game_players where game_id = $1)::int as player_count

-- name: insert_line
insert into game_lines (game_id, poem, round, seat, text, word_count)
values ($1, $2, $3, $4, $5, $6)

-- name: record_progress
-- Bump the version after a join or a line; advance the round or complete the game.
update games
set version = version + 1,
    round = $2,
    status = $3,
    completed_at = case when $3 = 'COMPLETED' then now() else completed_at end
where id = $1

-- name: touch_game
update games set version = version + 1 where id = $1

-- name: end_game
update games
set status = 'COMPLETED', completed_at = now(), version = version + 1
where id = $1 and status <> 'COMPLETED'

-- name: is_member
select exists (select 1 from game_players where game_id = $1 and user_id = $2)

-- name: game
select id, code, status, round, round_word_counts, host_user_id, version,
       coalesce(array_length(matrix, 2), 0) as poem_count
from games
where id = $1

-- name: players
-- Every player of the game in seat order, and whether each has written its line of the
-- current round (only meaningful while the game is in progress).
select p.id, p.user_id, p.display_name, p.seat,
       (g.status = 'IN_PROGRESS' and l.id is not null) as submitted
from game_players p
join games g on g.id = p.game_id
left join game_lines l on l.game_id = p.game_id and l.round = g.round and l.seat = p.seat
where p.game_id = $1
order by p.seat

-- name: revealed_lines
-- The lines of a game, only once it is completed: the one query that reads poems whole.
select l.poem, l.round, l.seat, l.text
from game_lines l
join games g on g.id = l.game_id
where l.game_id = $1 and g.status = 'COMPLETED'
order by l.poem, l.round

-- name: my_assignment
-- The caller's poem in the current round of a running game, and only the line just
-- before theirs in that poem (none in round 0).
select g.id as game_id, g.round, g.round_word_counts[g.round + 1] as word_count,
       a.poem, prev.text as previous_line, (mine.id is not null) as submitted
from games g
join game_players p on p.game_id = g.id and p.user_id = $2
cross join lateral (
  select i - 1 as poem
  from generate_subscripts(g.matrix, 2) as i
  where g.matrix[g.round + 1][i] = p.seat
) a
left join game_lines prev
  on prev.game_id = g.id and prev.poem = a.poem and prev.round = g.round - 1
left join game_lines mine
  on mine.game_id = g.id and mine.round = g.round and mine.seat = p.seat
where g.id = $1 and g.status = 'IN_PROGRESS'

-- name: any_game
select exists (select 1 from games)

-- name: open_game_of_host
select code from games where host_user_id = $1 and status = 'LOBBY'
order by created_at desc limit 1
