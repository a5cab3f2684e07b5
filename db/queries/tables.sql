-- Tables area: restaurants, dining tables, bookings, allocations, assignment sessions.
-- Every query runs inside a service transaction; row-level security scopes it to a tenant
-- (or, for the expirer, to the rows allot_system may see).

-- ------------------------------------------------------------------ setup

-- name: insert_restaurant
insert into restaurants (name, timezone) values ($1, $2)
returning id, name, timezone, version

-- name: insert_dining_table
insert into dining_tables (restaurant_id, label, zone, min_capacity, max_capacity)
values ($1, $2, $3, $4, $5)
returning id, restaurant_id, label, zone, min_capacity, max_capacity, active, version

-- name: insert_booking
insert into bookings (restaurant_id, guest_name, party_size, during)
values ($1, $2, $3, tstzrange($4, $5, '[)'))
returning id

-- name: insert_dining_tables
insert into dining_tables (restaurant_id, label, zone, min_capacity, max_capacity)
select $1, t.label, t.zone, t.lo, t.hi
from unnest($2::text[], $3::text[], $4::int[], $5::int[]) as t(label, zone, lo, hi)
returning id

-- name: insert_bookings
insert into bookings (restaurant_id, guest_name, party_size, during)
select $1, b.guest, b.party, tstzrange(b.starts, b.ends, '[)')
from unnest($2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[])
  as b(guest, party, starts, ends)
returning id

-- name: dining_table_for_update
-- (for update: it waits for the flows that took the table in key-share mode, and later flows
-- wait for the edit; see tables_open_scope)
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables where id = $1
for update

-- name: update_dining_table
update dining_tables
set label = $2, zone = $3, min_capacity = $4, max_capacity = $5, active = $6
where id = $1
returning id, restaurant_id, label, zone, min_capacity, max_capacity, active, version

-- name: lock_sessions_proposing
-- The PROPOSED sessions that propose a table, locked in id order as flows lock the sessions
-- they re-validate, so no flow writes their violations from the table as it was.
select id, booking_id, proposed_table_ids, violations
from manual_assignment_sessions
where restaurant_id = $1 and status = 'PROPOSED' and $2 = any(proposed_table_ids)
order by id
for no key update

-- name: write_violations
update manual_assignment_sessions s
set violations = ($2::text[])[array_position($1::uuid[], s.id)]::jsonb,
    last_validated_at = now()
where s.id = any($1::uuid[])

-- name: restaurant_exists
select exists (select 1 from restaurants where id = $1)

-- name: any_restaurant
select exists (select 1 from restaurants)

-- ------------------------------------------------------------------ views

-- name: restaurants_by_ids
select id, name, timezone, version from restaurants where id = any($1::uuid[])

-- name: all_restaurants
select id, name, timezone, version from restaurants order by name, id

-- name: tables_of_restaurants
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables where restaurant_id = any($1::uuid[])

-- name: tables_by_ids
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables where id = any($1::uuid[])

-- name: booking_views
-- Bookings with their assigned tables: one row per (booking, table), table columns null for a
-- booking without tables.
select b.id as booking_id, b.restaurant_id as booking_restaurant_id, b.guest_name,
       b.party_size, lower(b.during) as starts_at, upper(b.during) as ends_at, b.status,
       b.version as booking_version,
       t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active,
       t.version
from bookings b
left join allocations a
  on a.booking_id = b.id and a.kind = 'ASSIGNMENT' and a.released_at is null
left join dining_tables t on t.id = a.table_id
where b.id = any($1::uuid[])

-- name: allocation_views
select a.id as allocation_id, a.kind, a.booking_id, a.session_id, lower(a.during) as starts_at,
       upper(a.during) as ends_at, a.expires_at, a.released_at, a.release_reason,
       a.version as allocation_version,
       t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active,
       t.version
from allocations a join dining_tables t on t.id = a.table_id
where a.id = any($1::uuid[])

-- name: sessions_by_ids
select id, booking_id, restaurant_id, created_by, status, proposed_table_ids, violations,
       hold_expires_at, last_validated_at, version, created_at, updated_at
from manual_assignment_sessions where id = any($1::uuid[])

-- name: floor_allocations
-- (Overlap under row-level security: see starts_at in db/migrations/0005_tables_flows.sql.)
select id from allocations
where restaurant_id = $1 and released_at is null
  and starts_at > $2::timestamptz - interval '12 hours' and starts_at < $3
  and during && tstzrange($2, $3, '[)')

-- name: floor_bookings
select id from bookings
where restaurant_id = $1
  and starts_at > $2::timestamptz - interval '12 hours' and starts_at < $3
  and during && tstzrange($2, $3, '[)')

-- ------------------------------------------------------------------ rules input (reads)

-- name: booking_for_read
select b.id, b.restaurant_id, b.guest_name, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1

-- name: restaurant_tables
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables where restaurant_id = $1

-- name: live_allocations_of_restaurant
select id, table_id, booking_id, kind, starts_at, upper(during) as ends_at, expires_at,
       session_id
from allocations
where restaurant_id = $1 and released_at is null
  and starts_at > lower($2::tstzrange) - interval '12 hours'
  and starts_at < upper($2::tstzrange) and during && $2::tstzrange

-- ------------------------------------------------------------------ flows
-- Every flow that changes a booking's tables runs, in one transaction: open_scope (the locks
-- and the snapshot, see tables_open_scope in db/migrations), then commit_plan (the whole
-- decision in one statement). So flows on one booking queue on its row, flows on one table
-- and day on its key, and nothing else waits. The exclusion constraint on allocations stays
-- the last guard.

-- name: open_scope
select * from tables_open_scope($1, $2, $3, $4, $5)

-- name: commit_plan
-- A flow's whole decision in one statement. The parts run in the order the final select names
-- them, so a table released here can be taken again here (the insert runs after the release)
-- and the events come out as: releases, conversions and new allocations, sessions, booking.
--  $1,$2     allocations to release, with their reasons
--  $3        holds that become the booking's assignment
--  $4,$5     holds extended until $5
--  $6-$9     new allocations of the booking over $10: table, kind, session, hold expiry
--  $11-$17   the flow's own session (nothing when $11 is null; inserted when $12): id, new?,
--            created_by, status, proposed tables, violations, hold expiry
--  $18,$19   other sessions closed, with their new status
--  $20,$21   sessions re-validated, with their violations (JSON text each)
--  $22       the booking's new status (null: the booking row is not touched)
--  $23,$24   the booking and its restaurant
-- Rows are found with `id = any($ids)` (primary-key probes) and each takes its value from the
-- matching position of the values array: a join with unnest($ids) would be planned for ten
-- rows against a table the plan may think is small, and scan it.
with released as (
  update allocations a
  set released_at = now(), release_reason = ($2::text[])[array_position($1::uuid[], a.id)]
  where a.id = any($1::uuid[]) and a.released_at is null
  returning a.id
),
converted as (
  update allocations set kind = 'ASSIGNMENT', expires_at = null
  where id = any($3::uuid[]) and kind = 'HOLD' and released_at is null
  returning id
),
extended as (
  update allocations set expires_at = $5
  where id = any($4::uuid[]) and kind = 'HOLD' and released_at is null
  returning id
),
inserted_session as (
  insert into manual_assignment_sessions
    (id, restaurant_id, booking_id, created_by, status, proposed_table_ids, violations,
     hold_expires_at, last_validated_at)
  select $11, $24, $23, $13, $14, $15::uuid[], $16::jsonb, $17, now()
  where $11::uuid is not null and $12
  returning id, status, proposed_table_ids, violations, hold_expires_at, last_validated_at,
            version, created_at, updated_at
),
updated_session as (
  update manual_assignment_sessions
  set status = $14, proposed_table_ids = $15::uuid[], violations = $16::jsonb,
      hold_expires_at = $17, last_validated_at = now()
  where id = $11 and not $12
  returning id, status, proposed_table_ids, violations, hold_expires_at, last_validated_at,
            version, created_at, updated_at
),
inserted as (
  insert into allocations (restaurant_id, table_id, booking_id, session_id, kind, during,
                           expires_at)
  select $24, n.table_id, $23, n.session_id, n.kind, $10::tstzrange, n.expires_at
  from unnest($6::uuid[], $7::text[], $8::uuid[], $9::timestamptz[])
    as n(table_id, kind, session_id, expires_at)
  where (select count(*) from released) >= 0  -- after the releases
    and (select count(*) from inserted_session) >= 0  -- and the session its holds belong to
  returning id
),
closed as (
  update manual_assignment_sessions s
  set status = ($19::text[])[array_position($18::uuid[], s.id)], hold_expires_at = null,
      violations = case when ($19::text[])[array_position($18::uuid[], s.id)] = 'EXPIRED'
                        then '[]'::jsonb else s.violations end
  -- (not "in ('PROPOSED', 'HELD')": that would let the planner scan the open-sessions index)
  where s.id = any($18::uuid[]) and s.status not in ('CONFIRMED', 'CANCELLED', 'EXPIRED')
  returning s.id
),
revalidated as (
  update manual_assignment_sessions s
  set violations = ($21::text[])[array_position($20::uuid[], s.id)]::jsonb,
      last_validated_at = now()
  where s.id = any($20::uuid[])
  returning s.id
),
booking as (
  update bookings set status = $22 where id = $23 and $22::text is not null
  returning status, version
)
select (select count(*) from released) as released,
       (select count(*) from converted) as converted,
       (select count(*) from extended) as extended,
       (select count(*) from inserted) as inserted,
       (select row_to_json(s) from (select * from inserted_session
                                    union all select * from updated_session) s) as session,
       (select count(*) from closed) as closed,
       (select count(*) from revalidated) as revalidated,
       (select row_to_json(b) from booking b) as booking

-- name: set_booking_status
update bookings set status = $2 where id = $1
returning status, version

-- ------------------------------------------------------------------ expirer (allot_system)

-- name: due_hold_bookings
select booking_id from manual_assignment_sessions
where status = 'HELD' and hold_expires_at <= clock_timestamp()
group by booking_id
order by min(hold_expires_at)
limit $1

-- name: bookings_over_with_proposals
-- Bookings that are over but still have PROPOSED sessions (abandoned proposals).
select distinct s.booking_id
from manual_assignment_sessions s join bookings b on b.id = s.booking_id
where s.status = 'PROPOSED' and upper(b.during) <= now()
limit $1

-- name: seconds_to_next_expiry
select extract(epoch from (min(hold_expires_at) - clock_timestamp()))::float8
from manual_assignment_sessions where status = 'HELD'

-- name: purge_released
-- Released allocations are kept only long enough for their events to be read.
delete from allocations where released_at < now() - make_interval(secs => $1)

-- ------------------------------------------------------------------ bench and demo set-up

-- name: insert_assignments
insert into allocations (restaurant_id, table_id, booking_id, kind, during)
select $2, t.id, $3, 'ASSIGNMENT', $4::tstzrange
from unnest($1::uuid[]) as t(id)
