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
values (:game_id, :user_id, :display_name, :seat)
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
select g.id, g.status, g.round_word_counts, g.host_user_id
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

-- name: submit_read
-- What planning a line needs, read without locking: the game, the caller's seat, and the
-- caller's line in the requested round if there is one. No row: the caller does not play.
select g.id, g.status, g.round, g.round_word_counts, g.matrix, p.seat, l.text as existing_text
from games g
join game_players p on p.game_id = g.id and p.user_id = $2
left join game_lines l on l.game_id = g.id and l.round = $3 and l.seat = p.seat
where g.id = $1

-- name: insert_line
-- No row when the caller's line of this round was stored meanwhile (a concurrent retry).
-- The guard trigger re-checks round, author and word count against the game as it is now.
insert into game_lines (game_id, poem, round, seat, text, word_count)
values (:game_id, :poem, :round, :seat, :text, :word_count)
on conflict do nothing
returning id

-- name: record_line
-- Count the line just inserted in round $2; if it was the round's last, advance the round, or
-- complete the game after the last round. The only statement that holds the game row lock:
-- an UPDATE that waited for the lock applies to the latest row (READ COMMITTED re-evaluates
-- it), so racing submissions count every line and advance a round exactly once. No row: the
-- game is no longer in round $2 (the host ended it).
update games
set version = version + 1,
    lines_in_round = case
      when lines_in_round + 1 < array_length(matrix, 2)
        or round + 1 = cardinality(round_word_counts) then lines_in_round + 1
      else 0 end,
    round = case
      when lines_in_round + 1 = array_length(matrix, 2)
        and round + 1 < cardinality(round_word_counts) then round + 1
      else round end,
    status = case
      when lines_in_round + 1 = array_length(matrix, 2)
        and round + 1 = cardinality(round_word_counts) then 'COMPLETED'
      else status end,
    completed_at = case
      when lines_in_round + 1 = array_length(matrix, 2)
        and round + 1 = cardinality(round_word_counts) then now()
      else completed_at end
where id = $1 and status = 'IN_PROGRESS' and round = $2
returning round, status

-- name: touch_game
update games set version = version + 1 where id = $1

-- name: end_game
update games
set status = 'COMPLETED', completed_at = now(), version = version + 1
where id = $1 and status <> 'COMPLETED'

-- name: game_view
-- The game as its players see it, in one read (poems_game_views: the game; its players in
-- seat order, each with whether they wrote the current round's line; and every line, but only
-- once the game is COMPLETED). `member`: whether user $2 plays in it (null $2: not asked).
select v.*,
       exists (
         select 1 from game_players m where m.game_id = v.id and m.user_id = $2::text
       ) as member
from poems_game_views v
where v.id = $1

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
