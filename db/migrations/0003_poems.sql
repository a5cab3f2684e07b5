-- Poems (Linejam): games, their players (one seat each) and the lines of their poems.
--
-- A game has N players and N poems. The assignment matrix, fixed when the game
-- starts, says who writes which poem in each round: matrix[round + 1][poem + 1] = seat.
-- The service plans every change; the constraints and guard triggers below are the
-- last line of defence (a wrong plan or a race fails the transaction, nothing is
-- written). Realtime events go out from triggers, IDs only, on topic 'game:<id>'.

create table games (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null default allot_tenant() references tenants (tenant_id),
  code              text not null,
  host_user_id      text not null,
  status            text not null default 'LOBBY',
  round             integer not null default 0,
  round_word_counts integer[] not null,
  matrix            integer[],
  lines_in_round    integer not null default 0,  -- lines written in `round` (see the guard)
  version           bigint not null default 1,
  created_at        timestamptz not null default now(),
  started_at        timestamptz,
  completed_at      timestamptz,
  constraint games_code_format check (code ~ '^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$'),
  constraint games_status_known check (status in ('LOBBY', 'IN_PROGRESS', 'COMPLETED')),
  constraint games_word_counts_shape check (
    array_ndims(round_word_counts) = 1
    and cardinality(round_word_counts) between 1 and 100
    and 1 <= all (round_word_counts)),
  constraint games_round_in_range check (round >= 0 and round < cardinality(round_word_counts)),
  constraint games_lines_in_round_range check (lines_in_round >= 0),
  constraint games_matrix_iff_started check (
    (status = 'LOBBY' and matrix is null and round = 0)
    or (status = 'IN_PROGRESS' and matrix is not null)
    or status = 'COMPLETED'),
  constraint games_matrix_shape check (
    matrix is null
    or (array_ndims(matrix) = 2 and array_length(matrix, 1) = cardinality(round_word_counts)))
);
select allot_enable_rls('games');

-- A join code names one open game of its tenant; a completed game frees its code.
create unique index games_open_code on games (tenant_id, code) where status <> 'COMPLETED';

create table game_players (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null default allot_tenant(),
  game_id      uuid not null references games (id) on delete cascade,
  user_id      text not null,
  display_name text not null,
  seat         integer not null,
  joined_at    timestamptz not null default now(),
  constraint game_players_one_per_user unique (game_id, user_id),
  constraint game_players_one_per_seat unique (game_id, seat),
  constraint game_players_seat_range check (seat >= 0),
  constraint game_players_display_name check (
    char_length(display_name) between 1 and 40
    and display_name = btrim(display_name)
    and display_name !~ '[[:cntrl:]]')
);
select allot_enable_rls('game_players');

create table game_lines (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null default allot_tenant(),
  game_id    uuid not null references games (id) on delete cascade,
  poem       integer not null,
  round      integer not null,
  seat       integer not null,
  text       text not null,
  word_count integer not null,
  created_at timestamptz not null default now(),
  constraint game_lines_one_per_poem_round unique (game_id, poem, round),
  constraint game_lines_one_per_author_round unique (game_id, round, seat),
  constraint game_lines_author foreign key (game_id, seat)
    references game_players (game_id, seat) on delete cascade,
  constraint game_lines_indexes check (poem >= 0 and round >= 0),
  constraint game_lines_text check (char_length(text) between 1 and 200)
);
select allot_enable_rls('game_lines');

-- A line, once written, is part of the poem: the app can add lines, never change them.
revoke update, delete on game_lines from allot_app;

-- Games only move forward; the matrix is set once, at start, and never changes; a round
-- advances only when every seat has written its line of that round; `lines_in_round` always
-- equals the lines of the current round. (A trigger function takes a fresh snapshot per
-- query, so it sees lines committed by racing submissions.)
create function poems_games_guard() returns trigger
  language plpgsql
  as $$
begin
  if new.id <> old.id or new.tenant_id <> old.tenant_id or new.code <> old.code
     or new.host_user_id <> old.host_user_id
     or new.round_word_counts <> old.round_word_counts then
    raise exception 'a game''s id, code, host and word counts never change'
      using errcode = 'check_violation', constraint = 'games_fixed_fields';
  end if;
  if new.matrix is distinct from old.matrix
     and not (old.status = 'LOBBY' and new.status = 'IN_PROGRESS' and old.matrix is null) then
    raise exception 'the assignment matrix is set once, when the game starts'
      using errcode = 'check_violation', constraint = 'games_matrix_immutable';
  end if;
  if (old.status = 'COMPLETED' and (new.status <> 'COMPLETED' or new.round <> old.round))
     or (old.status = 'IN_PROGRESS' and new.status = 'LOBBY') then
    raise exception 'a game cannot go back from % to %', old.status, new.status
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

create trigger games_guard before update on games
  for each row execute function poems_games_guard();

-- Players join only while the game is in its lobby.
create function poems_players_guard() returns trigger
  language plpgsql
  as $$
begin
  if not exists (select 1 from games where id = new.game_id and status = 'LOBBY') then
    raise exception 'players can only join a game in its lobby'
      using errcode = 'check_violation', constraint = 'game_players_lobby_only';
  end if;
  return new;
end
$$;

create trigger game_players_guard before insert on game_players
  for each row execute function poems_players_guard();

-- A line is written in the current round of a running game, by the seat the matrix names,
-- with the round's word count.
create function poems_lines_guard() returns trigger
  language plpgsql
  as $$
declare
  g record;
begin
  select status, round, matrix, round_word_counts into g from games where id = new.game_id;
  if not found or g.status <> 'IN_PROGRESS' or new.round <> g.round then
    raise exception 'lines are written in the current round of a running game'
      using errcode = 'check_violation', constraint = 'game_lines_current_round';
  end if;
  if g.matrix[new.round + 1][new.poem + 1] is distinct from new.seat then
    raise exception 'seat % is not the author of poem % in round %', new.seat, new.poem, new.round
      using errcode = 'check_violation', constraint = 'game_lines_author_matches_matrix';
  end if;
  if new.word_count <> g.round_word_counts[new.round + 1] then
    raise exception 'round % takes % words', new.round, g.round_word_counts[new.round + 1]
      using errcode = 'check_violation', constraint = 'game_lines_word_count';
  end if;
  return new;
end
$$;

create trigger game_lines_guard before insert on game_lines
  for each row execute function poems_lines_guard();

-- Realtime: who joined, who submitted (never what), and the game's own transitions.
create function poems_notify_player() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify('game:' || new.game_id, 'PLAYER_JOINED', new.id, null, new.tenant_id);
  return null;
end
$$;

-- Seat 0 is the host, inserted with the game itself: no one can be subscribed yet.
create trigger game_players_notify after insert on game_players
  for each row when (new.seat > 0) execute function poems_notify_player();

create function poems_notify_line() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'game:' || new.game_id, 'LINE_SUBMITTED',
    (select id from game_players where game_id = new.game_id and seat = new.seat),
    null, new.tenant_id);
  return null;
end
$$;

create trigger game_lines_notify after insert on game_lines
  for each row execute function poems_notify_line();

create function poems_notify_game() returns trigger
  language plpgsql
  as $$
declare
  kind text;
begin
  if new.status is distinct from old.status then
    kind := case new.status when 'IN_PROGRESS' then 'GAME_STARTED' else 'GAME_COMPLETED' end;
  else
    kind := 'ROUND_ADVANCED';
  end if;
  perform allot_notify('game:' || new.id, kind, new.id, new.version, new.tenant_id);
  return null;
end
$$;

create trigger games_notify after update on games
  for each row
  when (old.status is distinct from new.status or old.round is distinct from new.round)
  execute function poems_notify_game();
