-- Poems: games, players and lines. Every query runs inside a tenant transaction
-- (row-level security scopes it to the caller's tenant).

-- name: insert_game
-- A new lobby; no row when the code is taken by an unfinished game of the tenant (pick
-- another).
insert into games (code, host_user_id, round_word_counts, shape, turn_seconds, bot_seed)
values (:code, :host_user_id, :word_counts::int[], :shape, :turn_seconds, :bot_seed)
on conflict (tenant_id, code) where status in ('LOBBY', 'IN_PROGRESS') do nothing
returning id

-- name: insert_player
insert into game_players (game_id, user_id, display_name, seat, is_bot)
values (:game_id, :user_id, :display_name, :seat, :is_bot)
returning id

-- name: lock_game_by_code
-- The unfinished game with this code (else the latest finished one), locked against
-- concurrent joins and starts.
select id, status
from games
where code = $1
order by status in ('COMPLETED', 'ABANDONED'), created_at desc
limit 1
for update

-- name: join_context
-- Read after the game row is locked, so the count is current.
select
  (select count(*) from game_players where game_id = $1)::int as player_count,
  (select id from game_players where game_id = $1 and user_id = $2) as player_id

-- name: lock_game_for_member
-- The game, locked, if the caller plays in it; no row otherwise.
select g.id, g.status, g.round, g.round_word_counts, g.host_user_id, p.id as player_id,
       p.user_id, p.seat, p.left_at is not null as left
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
-- What planning a line needs: the game, the caller's seat, and the caller's line in the
-- requested round if there is one. No row: the caller does not play. The key-share lock lets
-- every player submit at once but keeps out whoever fills a stalled round (FOR UPDATE) until
-- this line is counted, so the two never write the same line.
select g.id, g.status, g.round, g.round_word_counts, g.matrix, p.seat,
       p.left_at is not null as left, l.text as existing_text
from games g
join game_players p on p.game_id = g.id and p.user_id = $2
left join game_lines l on l.game_id = g.id and l.round = $3 and l.seat = p.seat
where g.id = $1
for key share of g

-- name: insert_line
-- No row when the caller's line of this round was stored meanwhile (a concurrent retry).
-- The guard trigger re-checks round, author and word count against the game as it is now.
insert into game_lines (game_id, poem, round, seat, text, word_count)
values (:game_id, :poem, :round, :seat, :text, :word_count)
on conflict do nothing
returning id

-- name: record_line
-- Count the $3 lines just inserted in round $2; if they were the round's last, advance the
-- round, or complete the game after the last round. The only statement that holds the game row lock:
-- an UPDATE that waited for the lock applies to the latest row (READ COMMITTED re-evaluates
-- it), so racing submissions count every line and advance a round exactly once. No row: the
-- game is no longer in round $2 (the host ended it).
update games
set version = version + 1,
    lines_in_round = case
      when lines_in_round + $3 < array_length(matrix, 2)
        or round + 1 = cardinality(round_word_counts) then lines_in_round + $3
      else 0 end,
    round = case
      when lines_in_round + $3 = array_length(matrix, 2)
        and round + 1 < cardinality(round_word_counts) then round + 1
      else round end,
    status = case
      when lines_in_round + $3 = array_length(matrix, 2)
        and round + 1 = cardinality(round_word_counts) then 'COMPLETED'
      else status end,
    completed_at = case
      when lines_in_round + $3 = array_length(matrix, 2)
        and round + 1 = cardinality(round_word_counts) then now()
      else completed_at end
where id = $1 and status = 'IN_PROGRESS' and round = $2
returning round, status

-- name: touch_game
update games set version = version + 1 where id = $1

-- name: end_game
update games
set status = 'COMPLETED', completed_at = now(), version = version + 1
where id = $1 and status in ('LOBBY', 'IN_PROGRESS')
returning status

-- name: game_view
-- The game as its players see it, in one read (poems_game_views: the game; its players in
-- seat order, each with whether they wrote the current round's line; and every line, but only
-- once the game is over). `member`: whether user $2 plays in it (null $2: not asked).
select v.*,
       exists (
         select 1 from game_players m where m.game_id = v.id and m.user_id = $2::text
       ) as member,
       array(
         select f.poem from poem_favorites f where f.game_id = v.id and f.user_id = $2::text
       ) as favorites
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

-- name: open_game_id_of_host
select id from games where host_user_id = $1 and status = 'LOBBY'
order by created_at desc limit 1

-- name: open_game_of_host
select code from games where host_user_id = $1 and status = 'LOBBY'
order by created_at desc limit 1

-- name: round_to_fill
-- What filling the current round with bot lines needs (the game row is locked by the caller):
-- the seats with no line yet this round, and which of them a bot stands in for (bot players and
-- players who left).
select g.status, g.round, g.round_word_counts[g.round + 1] as word_count, g.matrix, g.bot_seed,
       coalesce(array_agg(p.seat order by p.seat) filter (where l.id is null), '{}') as missing,
       coalesce(array_agg(p.seat order by p.seat)
                  filter (where l.id is null and (p.is_bot or p.left_at is not null)), '{}')
         as stand_ins
from games g
join game_players p on p.game_id = g.id
left join game_lines l on l.game_id = g.id and l.round = g.round and l.seat = p.seat
where g.id = $1
group by g.id

-- name: insert_bot_lines
-- Lines a bot wrote for these seats of round :round (poems[i] is seats[i]'s poem).
insert into game_lines (tenant_id, game_id, poem, round, seat, text, word_count, by_bot)
select g.tenant_id, g.id, l.poem, :round, l.seat, l.text, :word_count, true
from games g
cross join unnest(:poems::int[], :seats::int[], :texts::text[]) as l (poem, seat, text)
where g.id = :game_id

-- name: reveal_context
-- Who may read at the reveal (humans still in the game) and which lines they wrote themself.
select g.matrix,
       coalesce((select array_agg(p.seat order by p.seat) from game_players p
                  where p.game_id = g.id and not p.is_bot and p.left_at is null), '{}')
         as readers,
       coalesce((select json_agg(json_build_array(l.poem, l.round))
                  from game_lines l where l.game_id = g.id and not l.by_bot), '[]')
         as human_lines
from games g
where g.id = $1

-- name: set_readers
update games set readers = $2::int[] where id = $1

-- name: leave_lobby
-- A player leaves a lobby: their row goes, and the last seat moves into theirs so that seats
-- stay 0..n-1 (the matrix is drawn over them at start).
with gone as (
  delete from game_players where id = $1 returning game_id, seat
)
update game_players p
set seat = gone.seat
from gone
where p.game_id = gone.game_id
  and p.seat = (select max(seat) from game_players where game_id = gone.game_id)
  and p.seat > gone.seat

-- name: leave_running_game
update game_players set left_at = now() where id = $1 and left_at is null

-- name: next_host
-- The earliest-joined human still in the game, other than $2 (none: nobody is left).
select user_id from game_players
where game_id = $1 and user_id <> $2 and not is_bot and left_at is null
order by joined_at, seat
limit 1

-- name: abandon_game
update games
set status = 'ABANDONED', completed_at = now(), version = version + 1
where id = $1

-- name: set_host
update games set host_user_id = $2, version = version + 1 where id = $1

-- name: delete_game
delete from games where id = $1

-- name: lock_due_round
-- A game whose round ran past its deadline, locked; no row when another transaction holds it
-- (a submission being counted, or another process's clock) or it moved on meanwhile.
select id, round from games
where id = $1 and status = 'IN_PROGRESS' and round_deadline <= now()
for update skip locked

-- name: due_rounds
select id from games
where status = 'IN_PROGRESS' and round_deadline <= now()
order by round_deadline
limit $1

-- name: seconds_to_next_deadline
select extract(epoch from min(round_deadline) - now())::float8 from games
where status = 'IN_PROGRESS'

-- name: abandon_idle
-- Unfinished games nobody touched for $1 minutes: ABANDONED, poems revealed as they stand.
update games
set status = 'ABANDONED', completed_at = now(), version = version + 1
where id in (
  select id from games
  where status in ('LOBBY', 'IN_PROGRESS') and active_at < now() - make_interval(mins => $1)
  order by active_at
  limit $2
  for update skip locked)
returning id

-- name: purge_abandoned_lobbies
-- Lobbies abandoned before they started are deleted after another $1 minutes.
delete from games
where status = 'ABANDONED' and started_at is null
  and completed_at < now() - make_interval(mins => $1)

-- name: purge_rate_limits
delete from poems_rate_limits where window_start < now() - interval '1 hour'

-- name: count_attempt
-- One more attempt at `action` by the caller in the current minute (a new window once the
-- last one is over); how many were made in it, and the seconds until it ends.
insert into poems_rate_limits as r (user_id, action, window_start, used)
values ($1, $2, now(), 1)
on conflict (tenant_id, user_id, action) do update
set window_start = case when r.window_start <= now() - interval '1 minute'
                        then now() else r.window_start end,
    used = case when r.window_start <= now() - interval '1 minute' then 1 else r.used + 1 end
returning used,
          extract(epoch from window_start + interval '1 minute' - now())::float8 as seconds_left

-- name: my_games
-- The caller's finished games, newest first, before $2 (null: from the newest).
select v.*,
       array(
         select f.poem from poem_favorites f where f.game_id = v.id and f.user_id = $1
       ) as favorites
from game_players m
join poems_game_views v on v.id = m.game_id
where m.user_id = $1 and v.status in ('COMPLETED', 'ABANDONED')
  and ($2::timestamptz is null or v.completed_at < $2)
order by v.completed_at desc, v.id
limit $3

-- name: my_active_games
-- The unfinished games the caller plays in (and has not left), newest first.
select v.*, '{}'::int[] as favorites
from game_players m
join games g on g.id = m.game_id
join poems_game_views v on v.id = m.game_id
where m.user_id = $1 and m.left_at is null and g.status in ('LOBBY', 'IN_PROGRESS')
order by g.created_at desc, g.id
limit $2

-- name: my_favorites
-- The caller's favourite poems, newest first, each with its game.
select f.poem as favorite, v.*,
       array(
         select o.poem from poem_favorites o where o.game_id = v.id and o.user_id = $1
       ) as favorites
from poem_favorites f
join poems_game_views v on v.id = f.game_id
where f.user_id = $1
order by f.created_at desc, f.game_id, f.poem
limit $2

-- name: favorite
insert into poem_favorites (game_id, poem, user_id) values ($1, $2, $3)
on conflict do nothing

-- name: unfavorite
delete from poem_favorites where game_id = $1 and poem = $2 and user_id = $3

-- name: share
insert into poem_shares (token_hash, game_id, poem, created_by) values ($1, $2, $3, $4)

-- name: lock_share
-- A share of the caller's tenant by its token's hash.
select token_hash, game_id, poem, created_by, revoked_at from poem_shares
where token_hash = $1
for update

-- name: revoke_share
update poem_shares set revoked_at = now() where token_hash = $1 and revoked_at is null

-- name: shared_link
-- Read with allot.share_token_hash set: the share the link names, whatever its tenant.
select tenant_id, game_id, poem from poem_shares
where token_hash = current_setting('allot.share_token_hash', true) and revoked_at is null

-- name: shared_lines
-- The lines of a shared poem and their authors' display names (inside the share's tenant).
select l.round, l.text, l.by_bot, p.display_name, p.is_bot
from games g
join game_lines l on l.game_id = g.id and l.poem = $2
join game_players p on p.game_id = g.id and p.seat = l.seat
where g.id = $1 and g.status in ('COMPLETED', 'ABANDONED')
order by l.round

-- name: set_share_lookup
select set_config('allot.share_token_hash', $1, true)

-- name: set_tenant
select set_config('allot.tenant_id', $1, true)
