-- Poems beyond the core loop: game shapes and turn timeouts, bots and players who leave, host
-- migration, readers at the reveal, abandoned games, favourites, shared poems and rate limits.
--
-- As before, the service plans every change and the constraints and guards below are the last
-- line of defence. New here:
-- * a game's word counts come from its shape (CLASSIC, QUICK or CUSTOM);
-- * a seat is a bot's (`is_bot`) or a human's who may leave (`left_at`); a line a bot wrote for
--   a seat is marked (`by_bot`);
-- * the host can change, but only to a human player of the game still in it;
-- * a round has a deadline when the game has a turn timeout, set by the database whenever a
--   round begins (games_clock), as is the time of the game's last activity (`active_at`);
-- * ABANDONED: an unfinished game nobody touched for ALLOT_GAME_ABANDON_MINUTES.

alter table games
  add column shape text not null default 'CLASSIC',
  add column turn_seconds integer,
  add column round_deadline timestamptz,
  add column bot_seed bigint not null default 0,
  add column active_at timestamptz not null default now(),
  add column readers integer[],
  add constraint games_shape_known check (shape in ('CLASSIC', 'QUICK', 'CUSTOM')),
  add constraint games_turn_seconds_range check (turn_seconds between 10 and 86400),
  add constraint games_readers_at_the_end check (
    readers is null or (status in ('COMPLETED', 'ABANDONED') and array_ndims(readers) = 1));

alter table games drop constraint games_status_known;
alter table games add constraint games_status_known
  check (status in ('LOBBY', 'IN_PROGRESS', 'COMPLETED', 'ABANDONED'));
alter table games drop constraint games_matrix_iff_started;
alter table games add constraint games_matrix_iff_started check (
  (status = 'LOBBY' and matrix is null and round = 0)
  or (status = 'IN_PROGRESS' and matrix is not null)
  or status in ('COMPLETED', 'ABANDONED'));

-- A join code names one unfinished game of its tenant.
drop index games_open_code;
create unique index games_open_code on games (tenant_id, code)
  where status in ('LOBBY', 'IN_PROGRESS');
create index games_due_rounds on games (round_deadline) where status = 'IN_PROGRESS';
create index games_unfinished_activity on games (active_at)
  where status in ('LOBBY', 'IN_PROGRESS');

alter table game_players
  add column is_bot boolean not null default false,
  add column left_at timestamptz,
  add constraint game_players_bots_stay check (not (is_bot and left_at is not null));
create index game_players_of_user on game_players (user_id);

alter table game_lines add column by_bot boolean not null default false;

create or replace function poems_games_guard() returns trigger
  language plpgsql
  as $$
begin
  if new.id <> old.id or new.tenant_id <> old.tenant_id or new.code <> old.code
     or new.round_word_counts <> old.round_word_counts or new.shape <> old.shape
     or new.turn_seconds is distinct from old.turn_seconds or new.bot_seed <> old.bot_seed then
    raise exception 'a game''s id, code, shape, word counts and turn timeout never change'
      using errcode = 'check_violation', constraint = 'games_fixed_fields';
  end if;
  if new.host_user_id <> old.host_user_id and not exists (
       select 1 from game_players
        where game_id = new.id and user_id = new.host_user_id
          and not is_bot and left_at is null) then
    raise exception 'the host is a human player still in the game'
      using errcode = 'check_violation', constraint = 'games_host_is_a_player';
  end if;
  if new.matrix is distinct from old.matrix
     and not (old.status = 'LOBBY' and new.status = 'IN_PROGRESS' and old.matrix is null) then
    raise exception 'the assignment matrix is set once, when the game starts'
      using errcode = 'check_violation', constraint = 'games_matrix_immutable';
  end if;
  if new.readers is distinct from old.readers and old.readers is not null then
    raise exception 'who reads which poem is fixed once, when the game ends'
      using errcode = 'check_violation', constraint = 'games_readers_fixed';
  end if;
  if (old.status in ('COMPLETED', 'ABANDONED')
      and (new.status <> old.status or new.round <> old.round))
     or (old.status = 'IN_PROGRESS' and new.status = 'LOBBY') then
    raise exception 'a game cannot go from % to %', old.status, new.status
      using errcode = 'check_violation', constraint = 'games_status_forward';
  end if;
  if old.status = 'LOBBY' and new.status = 'IN_PROGRESS'
     and array_length(new.matrix, 2)
         is distinct from (select count(*) from game_players where game_id = new.id) then
    raise exception 'the matrix must have one poem per player'
      using errcode = 'check_violation', constraint = 'games_matrix_fits_players';
  end if;
  if new.round <> old.round then
    if new.round <> old.round + 1 or old.status <> 'IN_PROGRESS' or new.status <> 'IN_PROGRESS'
       or (select count(*) from game_lines where game_id = new.id and round = old.round)
          <> array_length(new.matrix, 2) then
      raise exception 'a round advances by one, and only once every player wrote its line'
        using errcode = 'check_violation', constraint = 'games_round_complete';
    end if;
  end if;
  if new.status = 'IN_PROGRESS' and new.lines_in_round
     <> (select count(*) from game_lines where game_id = new.id and round = new.round) then
    raise exception 'lines_in_round must count the lines of the current round'
      using errcode = 'check_violation', constraint = 'games_lines_in_round_count';
  end if;
  return new;
end
$$;

-- The game's clock: every change is activity; a round that begins gets its deadline.
create function poems_games_clock() returns trigger
  language plpgsql
  as $$
begin
  if new.version <> old.version then
    new.active_at := now();
  end if;
  if new.status <> 'IN_PROGRESS' then
    new.round_deadline := null;
  elsif old.status = 'LOBBY' or new.round <> old.round then
    new.round_deadline := now() + make_interval(secs => new.turn_seconds);
  end if;
  return new;
end
$$;

create trigger games_clock before update on games
  for each row execute function poems_games_clock();

-- Realtime: who left (a lobby's seat is freed, a running game's seat is kept), a bot's line,
-- a new host, and an abandoned game. Each carries the game's version at commit, so every
-- change of a game is a distinct notification.
create or replace function poems_notify_player_left() returns trigger
  language plpgsql
  as $$
declare
  p game_players;
begin
  if tg_op = 'DELETE' then p := old; else p := new; end if;
  perform allot_notify('poems.game:' || p.game_id, 'PLAYER_LEFT', p.id,
    (select version from games where id = p.game_id), p.tenant_id,
    poems_game_rows(p.game_id));
  return null;
end
$$;

create constraint trigger game_players_left after update on game_players
  deferrable initially deferred
  for each row when (old.left_at is null and new.left_at is not null)
  execute function poems_notify_player_left();

create constraint trigger game_players_gone after delete on game_players
  deferrable initially deferred
  for each row execute function poems_notify_player_left();

create or replace function poems_notify_line() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'poems.game:' || new.game_id,
    case when new.by_bot then 'BOT_LINE_SUBMITTED' else 'LINE_SUBMITTED' end,
    (select id from game_players where game_id = new.game_id and seat = new.seat),
    (select version from games where id = new.game_id), new.tenant_id,
    poems_game_rows(new.game_id));
  return null;
end
$$;

create or replace function poems_notify_game() returns trigger
  language plpgsql
  as $$
declare
  kind text;
begin
  if new.status is distinct from old.status then
    kind := case new.status
      when 'IN_PROGRESS' then 'GAME_STARTED'
      when 'ABANDONED' then 'GAME_ABANDONED'
      else 'GAME_COMPLETED' end;
  elsif new.round is distinct from old.round then
    kind := 'ROUND_ADVANCED';
  else
    kind := 'HOST_CHANGED';
  end if;
  perform allot_notify('poems.game:' || new.id, kind, new.id, new.version, new.tenant_id,
    poems_game_rows(new.id));
  return null;
end
$$;

drop trigger games_notify on games;
create constraint trigger games_notify after update on games
  deferrable initially deferred
  for each row
  when (old.status is distinct from new.status or old.round is distinct from new.round
        or old.host_user_id is distinct from new.host_user_id)
  execute function poems_notify_game();

-- The game as every player sees it, now with bots, leavers, bot lines, the readers and the
-- turn clock (services/poems/reads.py game_of_row). Poems are readable once the game is over.
create or replace view poems_game_views with (security_invoker = true) as
select g.id, g.code, g.status, g.round, g.round_word_counts, g.host_user_id, g.version,
       coalesce(array_length(g.matrix, 2), 0) as poem_count,
       (select json_agg(
                 json_build_array(p.id, p.user_id, p.display_name, p.seat,
                                  g.status = 'IN_PROGRESS' and l.id is not null,
                                  p.is_bot, p.left_at is not null)
                 order by p.seat)
          from game_players p
          left join game_lines l
            on l.game_id = p.game_id and l.round = g.round and l.seat = p.seat
         where p.game_id = g.id) as players,
       (select json_agg(json_build_array(l.poem, l.round, l.seat, l.text, l.by_bot)
                        order by l.poem, l.round)
          from game_lines l
         where l.game_id = g.id and g.status in ('COMPLETED', 'ABANDONED')) as lines,
       g.turn_seconds, g.round_deadline, g.readers, g.completed_at
from games g;

-- A player's favourite poems of finished games.
create table poem_favorites (
  tenant_id  uuid not null default allot_tenant(),
  game_id    uuid not null references games (id) on delete cascade,
  poem       integer not null,
  user_id    text not null,
  created_at timestamptz not null default now(),
  constraint poem_favorites_once primary key (game_id, poem, user_id),
  constraint poem_favorites_poem check (poem >= 0)
);
select allot_enable_rls('poem_favorites');
create index poem_favorites_of_user on poem_favorites (user_id, created_at desc);

-- Links to one poem, readable without a token. Only the token's SHA-256 is stored. A lookup
-- by link sets allot.share_token_hash to the hash it holds and may read that one share row,
-- whatever the tenant; then it reads the poem inside the share's tenant.
create table poem_shares (
  token_hash text primary key,
  tenant_id  uuid not null default allot_tenant(),
  game_id    uuid not null references games (id) on delete cascade,
  poem       integer not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  constraint poem_shares_hash check (token_hash ~ '^[0-9a-f]{64}$'),
  constraint poem_shares_poem check (poem >= 0)
);
select allot_enable_rls('poem_shares');
create policy shared_link on poem_shares for select
  using (token_hash = current_setting('allot.share_token_hash', true));

-- Joins by code and line submissions per user and minute (services/poems/limits.py).
create table poems_rate_limits (
  tenant_id    uuid not null default allot_tenant(),
  user_id      text not null,
  action       text not null,
  window_start timestamptz not null,
  used         integer not null,
  constraint poems_rate_limits_key primary key (tenant_id, user_id, action),
  constraint poems_rate_limits_action check (action in ('join', 'line'))
);
select allot_enable_rls('poems_rate_limits');

-- The turn clock (services/poems/workers.py) runs across tenants as allot_system: it fills
-- stalled rounds with bot lines, abandons idle games and cleans up.
select allot_system_access('games', 'select, update, delete');
select allot_system_access('game_players', 'select');
select allot_system_access('game_lines', 'select, insert');
select allot_system_access('poems_rate_limits', 'select, delete');
-- Its notifications carry the game as players see it.
grant select on poems_game_views to allot_system;
