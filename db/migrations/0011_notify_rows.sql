-- Notifications carry the changed rows when they fit, so that no server process reads them
-- back: the database serves one read per event (the trigger's, in the writer's transaction)
-- whatever the number of processes listening. Each area reads an event's rows through one
-- view (security_invoker: row-level security applies as to the tables), the same view its
-- subscribers' read path uses when a notification comes without them (too large for
-- NOTIFY's 8000 bytes, or a deployment that set ALLOT_NOTIFY_ROWS=false).
--
-- The notify triggers are now deferred constraint triggers: they run at commit, so the rows a
-- notification carries are the ones the transaction committed, whatever order it wrote in.

-- Whether this session's notifications carry rows (the server sets allot.notify_rows from
-- ALLOT_NOTIFY_ROWS on its connections; any other session: yes).
create or replace function allot_notify_rows() returns boolean
  language sql stable
  as $$ select coalesce(current_setting('allot.notify_rows', true), '') <> 'off' $$;

-- As the five-argument allot_notify, plus the rows of the event (a JSON array, or null),
-- carried as "r" when the whole payload fits in a notification.
create or replace function allot_notify(
  topic text, kind text, id uuid, version bigint, tenant uuid, rows jsonb
) returns void
  language plpgsql volatile
  as $$
declare
  payload text := json_build_object(
    't', topic, 'k', kind, 'id', id, 'v', version, 'tn', tenant)::text;
  carried text;
begin
  if rows is not null then
    carried := left(payload, -1) || ', "r" : ' || rows::text || '}';
    if octet_length(carried) < 8000 then
      payload := carried;
    end if;
  end if;
  perform pg_notify('allot_events', payload);
end
$$;

-- tables: an allocation with its table, a booking with its assigned tables (a row per
-- table), a table. services/tables/reads.py reads the same views.
create view tables_allocation_views with (security_invoker = true) as
select a.id as allocation_id, a.kind, a.booking_id, a.session_id, lower(a.during) as starts_at,
       upper(a.during) as ends_at, a.expires_at, a.released_at, a.release_reason,
       a.version as allocation_version,
       t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active,
       t.version
from allocations a join dining_tables t on t.id = a.table_id;

create view tables_booking_views with (security_invoker = true) as
select b.id as booking_id, b.restaurant_id as booking_restaurant_id, b.guest_name,
       b.party_size, lower(b.during) as starts_at, upper(b.during) as ends_at, b.status,
       b.version as booking_version,
       t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active,
       t.version
from bookings b
left join allocations a
  on a.booking_id = b.id and a.kind = 'ASSIGNMENT' and a.released_at is null
left join dining_tables t on t.id = a.table_id;

create view tables_table_views with (security_invoker = true) as
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables;

grant select on tables_allocation_views, tables_booking_views, tables_table_views
  to allot_system;

create or replace function tables_allocations_notify() returns trigger
  language plpgsql
  as $$
declare
  k text;
begin
  if tg_op = 'INSERT' then
    k := case new.kind when 'HOLD' then 'HOLD_PLACED' else 'ASSIGNED' end;
  elsif new.released_at is not null and old.released_at is null then
    k := case
      when new.kind = 'ASSIGNMENT' then 'UNASSIGNED'
      when new.release_reason = 'EXPIRED' then 'HOLD_EXPIRED'
      else 'HOLD_RELEASED'
    end;
  elsif new.released_at is null and new.kind = 'ASSIGNMENT' and old.kind = 'HOLD' then
    k := 'ASSIGNED';
  elsif new.released_at is null and new.kind = 'HOLD' then
    k := 'HOLD_PLACED';  -- the hold was extended
  else
    return null;
  end if;
  perform allot_notify(
    'tables.floor:' || new.restaurant_id, k, new.id, new.version, new.tenant_id,
    case when allot_notify_rows() then
      (select jsonb_agg(to_jsonb(v)) from tables_allocation_views v where v.allocation_id = new.id)
    end);
  return null;
end
$$;

create or replace function tables_bookings_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tables.floor:' || new.restaurant_id, 'BOOKING_CHANGED', new.id, new.version, new.tenant_id,
    case when allot_notify_rows() then
      (select jsonb_agg(to_jsonb(v)) from tables_booking_views v where v.booking_id = new.id)
    end);
  return null;
end
$$;

create or replace function tables_dining_tables_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'tables.floor:' || new.restaurant_id, 'TABLE_CHANGED', new.id, new.version, new.tenant_id,
    case when allot_notify_rows() then
      (select jsonb_agg(to_jsonb(v)) from tables_table_views v where v.id = new.id)
    end);
  return null;
end
$$;

-- poems: the game as every player sees it (services/poems/reads.py game_of_row).
create view poems_game_views with (security_invoker = true) as
select g.id, g.code, g.status, g.round, g.round_word_counts, g.host_user_id, g.version,
       coalesce(array_length(g.matrix, 2), 0) as poem_count,
       (select json_agg(
                 json_build_array(p.id, p.user_id, p.display_name, p.seat,
                                  g.status = 'IN_PROGRESS' and l.id is not null)
                 order by p.seat)
          from game_players p
          left join game_lines l
            on l.game_id = p.game_id and l.round = g.round and l.seat = p.seat
         where p.game_id = g.id) as players,
       (select json_agg(json_build_array(l.poem, l.round, l.seat, l.text)
                        order by l.poem, l.round)
          from game_lines l
         where l.game_id = g.id and g.status = 'COMPLETED') as lines
from games g;

create or replace function poems_game_rows(game uuid) returns jsonb
  language sql stable
  as $$
    select case when allot_notify_rows() then
      (select jsonb_agg(to_jsonb(v)) from poems_game_views v where v.id = game)
    end
  $$;

create or replace function poems_notify_player() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify('poems.game:' || new.game_id, 'PLAYER_JOINED', new.id, null, new.tenant_id,
    poems_game_rows(new.game_id));
  return null;
end
$$;

create or replace function poems_notify_line() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'poems.game:' || new.game_id, 'LINE_SUBMITTED',
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
    kind := case new.status when 'IN_PROGRESS' then 'GAME_STARTED' else 'GAME_COMPLETED' end;
  else
    kind := 'ROUND_ADVANCED';
  end if;
  perform allot_notify('poems.game:' || new.id, kind, new.id, new.version, new.tenant_id,
    poems_game_rows(new.id));
  return null;
end
$$;

-- At commit, in the order the rows were written.
drop trigger allocations_notify on allocations;
create constraint trigger allocations_notify after insert or update on allocations
  deferrable initially deferred
  for each row execute function tables_allocations_notify();

drop trigger bookings_notify on bookings;
create constraint trigger bookings_notify after insert or update on bookings
  deferrable initially deferred
  for each row execute function tables_bookings_notify();

drop trigger manual_assignment_sessions_notify on manual_assignment_sessions;
create constraint trigger manual_assignment_sessions_notify
  after insert or update on manual_assignment_sessions
  deferrable initially deferred
  for each row execute function tables_sessions_notify();

drop trigger dining_tables_notify on dining_tables;
create constraint trigger dining_tables_notify after insert or update on dining_tables
  deferrable initially deferred
  for each row execute function tables_dining_tables_notify();

drop trigger game_players_notify on game_players;
create constraint trigger game_players_notify after insert on game_players
  deferrable initially deferred
  for each row when (new.seat > 0) execute function poems_notify_player();

drop trigger game_lines_notify on game_lines;
create constraint trigger game_lines_notify after insert on game_lines
  deferrable initially deferred
  for each row execute function poems_notify_line();

drop trigger games_notify on games;
create constraint trigger games_notify after update on games
  deferrable initially deferred
  for each row
  when (old.status is distinct from new.status or old.round is distinct from new.round)
  execute function poems_notify_game();
