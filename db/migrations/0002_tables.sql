-- Tables (issue 002): restaurants, their tables, bookings, table allocations (holds and
-- assignments) and staff's manual assignment sessions.
--
-- One rule guards every allocation, whatever wrote it: a table is never held or assigned to two
-- different bookings over overlapping time (allocations_no_overlap). Released allocations are
-- kept (released_at set) so a realtime event about a release can still be read back; the
-- constraint ignores them.

create extension if not exists btree_gist;

-- Bumps version (and updated_at where present) on every update of a watched row.
create function tables_touch() returns trigger
  language plpgsql
  as $$
begin
  new.version := old.version + 1;
  return new;
end
$$;

create function tables_touch_session() returns trigger
  language plpgsql
  as $$
begin
  new.version := old.version + 1;
  new.updated_at := clock_timestamp();
  return new;
end
$$;

create table restaurants (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null default allot_tenant(),
  name       text not null check (length(btrim(name)) between 1 and 200),
  timezone   text not null check (length(timezone) between 1 and 64),
  version    bigint not null default 1,
  created_at timestamptz not null default now(),
  constraint restaurants_tenant_id_key unique (tenant_id, id)
);
select allot_enable_rls('restaurants');
create trigger restaurants_touch before update on restaurants
  for each row execute function tables_touch();

create table dining_tables (
  id            uuid primary key default gen_random_uuid(),
  tenant_id     uuid not null default allot_tenant(),
  restaurant_id uuid not null,
  label         text not null check (length(btrim(label)) between 1 and 40),
  zone          text not null check (length(btrim(zone)) between 1 and 60),
  min_capacity  int not null,
  max_capacity  int not null,
  active        boolean not null default true,
  version       bigint not null default 1,
  created_at    timestamptz not null default now(),
  constraint dining_tables_restaurant_fkey foreign key (tenant_id, restaurant_id)
    references restaurants (tenant_id, id) on delete cascade,
  constraint dining_tables_capacity_check
    check (min_capacity >= 1 and min_capacity <= max_capacity and max_capacity <= 50),
  constraint dining_tables_label_unique unique (restaurant_id, label),
  constraint dining_tables_key unique (tenant_id, restaurant_id, id)
);
select allot_enable_rls('dining_tables');
create trigger dining_tables_touch before update on dining_tables
  for each row execute function tables_touch();

create table bookings (
  id            uuid primary key default gen_random_uuid(),
  tenant_id     uuid not null default allot_tenant(),
  restaurant_id uuid not null,
  guest_name    text not null check (length(btrim(guest_name)) between 1 and 200),
  party_size    int not null,
  during        tstzrange not null,
  status        text not null default 'PENDING',
  version       bigint not null default 1,
  created_at    timestamptz not null default now(),
  constraint bookings_restaurant_fkey foreign key (tenant_id, restaurant_id)
    references restaurants (tenant_id, id) on delete cascade,
  constraint bookings_party_size_check check (party_size between 1 and 50),
  constraint bookings_during_check check (
    not isempty(during) and lower_inc(during) and not upper_inc(during)
    and not lower_inf(during) and not upper_inf(during)),
  constraint bookings_status_check check (
    status in ('PENDING', 'CONFIRMED', 'SEATED', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
  constraint bookings_key unique (tenant_id, restaurant_id, id)
);
select allot_enable_rls('bookings');
create index bookings_restaurant_during on bookings using gist (restaurant_id, during);
create trigger bookings_touch before update on bookings
  for each row execute function tables_touch();

create table manual_assignment_sessions (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null default allot_tenant(),
  restaurant_id      uuid not null,
  booking_id         uuid not null,
  created_by         text not null,
  status             text not null default 'PROPOSED',
  proposed_table_ids uuid[] not null default '{}',
  violations         jsonb not null default '[]',
  hold_expires_at    timestamptz,
  last_validated_at  timestamptz,
  version            bigint not null default 1,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint manual_assignment_sessions_booking_fkey foreign key (tenant_id, restaurant_id, booking_id)
    references bookings (tenant_id, restaurant_id, id) on delete cascade,
  constraint manual_assignment_sessions_status_check check (
    status in ('PROPOSED', 'HELD', 'CONFIRMED', 'CANCELLED', 'EXPIRED')),
  constraint manual_assignment_sessions_held_check check (
    status <> 'HELD' or hold_expires_at is not null),
  constraint manual_assignment_sessions_key unique (tenant_id, id)
);
select allot_enable_rls('manual_assignment_sessions');
-- At most one open session per booking and staff member.
create unique index manual_assignment_sessions_one_active
  on manual_assignment_sessions (booking_id, created_by) where status in ('PROPOSED', 'HELD');
-- The expirer's queue.
create index manual_assignment_sessions_held_expiry
  on manual_assignment_sessions (hold_expires_at) where status = 'HELD';
-- Targeted re-validation: the PROPOSED sessions that propose a given table.
create index manual_assignment_sessions_proposed_tables
  on manual_assignment_sessions using gin (proposed_table_ids) where status = 'PROPOSED';
create trigger manual_assignment_sessions_touch before update on manual_assignment_sessions
  for each row execute function tables_touch_session();

create table allocations (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null default allot_tenant(),
  restaurant_id  uuid not null,
  table_id       uuid not null,
  booking_id     uuid not null,
  session_id     uuid,
  kind           text not null,
  during         tstzrange not null,
  expires_at     timestamptz,
  released_at    timestamptz,
  release_reason text,
  version        bigint not null default 1,
  created_at     timestamptz not null default now(),
  constraint allocations_table_fkey foreign key (tenant_id, restaurant_id, table_id)
    references dining_tables (tenant_id, restaurant_id, id) on delete cascade,
  constraint allocations_booking_fkey foreign key (tenant_id, restaurant_id, booking_id)
    references bookings (tenant_id, restaurant_id, id) on delete cascade,
  constraint allocations_session_fkey foreign key (tenant_id, session_id)
    references manual_assignment_sessions (tenant_id, id) on delete cascade,
  constraint allocations_kind_check check (kind in ('HOLD', 'ASSIGNMENT')),
  constraint allocations_hold_check check (
    kind <> 'HOLD' or (expires_at is not null and session_id is not null)),
  constraint allocations_released_check check (
    (released_at is null) = (release_reason is null)
    and release_reason in ('RELEASED', 'EXPIRED', 'UNASSIGNED')),
  -- The one guard: no table is held or assigned to two bookings over overlapping time.
  -- An allocation never conflicts with one of its own booking (re-assigning a booking may
  -- hold a table it already has), and released allocations do not count.
  constraint allocations_no_overlap exclude using gist (
    table_id with =, during with &&, booking_id with <>) where (released_at is null)
);
select allot_enable_rls('allocations');
create index allocations_live_table on allocations (table_id) where released_at is null;
create index allocations_live_booking on allocations (booking_id) where released_at is null;
create index allocations_live_session on allocations (session_id) where released_at is null;
create index allocations_live_restaurant on allocations (restaurant_id) where released_at is null;
create index allocations_released on allocations (released_at) where released_at is not null;
create trigger allocations_touch before update on allocations
  for each row execute function tables_touch();

-- Realtime: every change notifies from inside its transaction, IDs only.

create function tables_allocations_notify() returns trigger
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
  perform allot_notify('floor:' || new.restaurant_id, k, new.id, new.version, new.tenant_id);
  return null;
end
$$;
create trigger allocations_notify after insert or update on allocations
  for each row execute function tables_allocations_notify();

create function tables_bookings_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'floor:' || new.restaurant_id, 'BOOKING_CHANGED', new.id, new.version, new.tenant_id);
  return null;
end
$$;
create trigger bookings_notify after insert or update on bookings
  for each row execute function tables_bookings_notify();

create function tables_sessions_notify() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify('session:' || new.id, new.status, new.id, new.version, new.tenant_id);
  -- Wakes every process's hold expirer when a hold is placed or moved.
  if new.status = 'HELD' and (tg_op = 'INSERT' or old.status <> 'HELD'
      or old.hold_expires_at is distinct from new.hold_expires_at) then
    perform allot_notify('tables:holds', 'HELD', new.id, new.version, new.tenant_id);
  end if;
  return null;
end
$$;
create trigger manual_assignment_sessions_notify after insert or update on manual_assignment_sessions
  for each row execute function tables_sessions_notify();

-- The hold expirer runs as allot_system across tenants: it finds due sessions, locks their
-- bookings and tables, releases holds, re-validates affected sessions and purges old releases.
select allot_system_access('manual_assignment_sessions', 'select, update');
select allot_system_access('allocations', 'select, update, delete');
select allot_system_access('bookings', 'select, update');
select allot_system_access('dining_tables', 'select, update');
select allot_system_access('restaurants', 'select');
