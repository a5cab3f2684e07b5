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
select id from allocations
where restaurant_id = $1 and released_at is null and during && tstzrange($2, $3, '[)')

-- name: floor_bookings
select id from bookings where restaurant_id = $1 and during && tstzrange($2, $3, '[)')

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
select id, table_id, booking_id, kind, lower(during) as starts_at, upper(during) as ends_at,
       expires_at, session_id
from allocations
where restaurant_id = $1 and released_at is null and during && $2::tstzrange

-- ------------------------------------------------------------------ flows
-- Every flow that changes a booking's tables runs, in one transaction:
--   lock_booking       the booking row (first in the lock order)
--   lock_booking_tables  every (table, day) the flow may change, in key order
--   read_booking_scope the snapshot the rules decide on; locks the PROPOSED sessions of other
--                      bookings that a change may concern (then in id order)
--   read_candidates    (only if there are such sessions) what their re-validation needs
--   commit_plan        the whole decision in one statement
-- so flows on one booking queue on its row, flows on one table and day on its key, and
-- nothing else waits. The exclusion constraint on allocations stays the last guard.

-- name: lock_booking
-- `now` is the transaction's clock, the one the whole flow decides with.
select b.id, b.restaurant_id, b.guest_name, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now,
       null::text as session_created_by
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1
for no key update of b

-- name: lock_booking_of_session
select b.id, b.restaurant_id, b.guest_name, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now,
       s.created_by as session_created_by
from manual_assignment_sessions s
join bookings b on b.id = s.booking_id
join restaurants r on r.id = b.restaurant_id
where s.id = $1
for no key update of b

-- name: try_lock_booking
-- The expirer's lock: a booking another transaction is working on is skipped (retried soon).
select b.id, b.restaurant_id, b.guest_name, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now,
       null::text as session_created_by
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1
for no key update of b skip locked

-- name: lock_booking_tables
-- $1 booking, $2 its range, $3 tables the flow may take (a proposal, auto-assign candidates).
-- Locks (table, day) for the booking's live allocations, its open sessions' proposals and $3,
-- over every UTC day the booking touches; and, when $3 takes over tables whose hold ran out
-- (expired, not yet released), those holds' sessions' tables over their own days. Two ranges
-- that overlap always share a day, so two flows that could conflict always share a key.
-- Returns the sessions of such expired holds, whose tables are now locked.
with stale as (
  select distinct s.id, s.proposed_table_ids, b.during
  from unnest($3::uuid[]) as t(id)
  cross join lateral (
    select * from allocations
    where table_id = t.id and released_at is null and during && $2::tstzrange
    offset 0) a  -- a fence: one index probe per table, whatever the estimates
  join manual_assignment_sessions s on s.id = a.session_id
  join bookings b on b.id = s.booking_id
  where a.kind = 'HOLD' and a.expires_at <= now() and a.booking_id <> $1 and s.status = 'HELD'
),
tables_days as (
  select t.id, $2::tstzrange as during
  from (
    select table_id as id from allocations where booking_id = $1 and released_at is null
    union
    select unnest(proposed_table_ids) from manual_assignment_sessions
    where booking_id = $1 and status in ('PROPOSED', 'HELD')
    union
    select unnest($3::uuid[])
  ) t
  union all
  select unnest(proposed_table_ids), during from stale
),
keys as (
  select distinct hashtextextended(id::text, day) as k
  from tables_days,
       generate_series(floor(extract(epoch from lower(during)) / 86400)::bigint,
                       ceil(extract(epoch from upper(during)) / 86400)::bigint - 1) as day
),
locked as (
  select pg_advisory_xact_lock(k) from keys order by k
)
select (select count(*) from locked) as keys,
       array(select id from stale order by id) as stale_sessions

-- name: read_booking_scope
-- The snapshot a flow decides on, under its locks. $1 booking, $2 its range, $3 tables the flow
-- may take, $4 expired sessions covered by lock_booking_tables, $5 a session the flow is about
-- (may be closed already). Sessions of other bookings that propose a table of the scope for an
-- overlapping time are candidates for re-validation: locked here, in id order.
with scope_tables as (
  select table_id as id from allocations where booking_id = $1 and released_at is null
  union
  select unnest(proposed_table_ids) from manual_assignment_sessions
  where booking_id = $1 and status in ('PROPOSED', 'HELD')
  union
  select unnest($3::uuid[])
),
stale as (
  select s.id, s.created_by, s.status, s.proposed_table_ids, s.hold_expires_at, s.version,
         b.during
  from manual_assignment_sessions s join bookings b on b.id = s.booking_id
  where s.id = any($4::uuid[]) and s.status = 'HELD' and s.hold_expires_at <= now()
),
changed as (  -- (tables, range) pairs the flow may change
  select array(select id from scope_tables) as tables, $2::tstzrange as during
  union all
  select proposed_table_ids, during from stale
),
candidates as (
  select s.id, s.booking_id, s.proposed_table_ids, s.violations
  from manual_assignment_sessions s join bookings b on b.id = s.booking_id
  where s.status = 'PROPOSED' and s.booking_id <> $1
    and exists (select 1 from changed c
                where s.proposed_table_ids && c.tables and b.during && c.during)
  order by s.id
  for no key update of s
)
select
  (select coalesce(json_agg(json_build_object(
            'id', s.id, 'created_by', s.created_by, 'status', s.status,
            'proposed', s.proposed_table_ids, 'violations', s.violations,
            'hold_expires_at', s.hold_expires_at, 'version', s.version,
            'created_at', s.created_at, 'last_validated_at', s.last_validated_at)
          order by s.id), '[]')
   from manual_assignment_sessions s
   where s.id in (select id from manual_assignment_sessions
                  where booking_id = $1 and status in ('PROPOSED', 'HELD')
                  union all select $5)) as sessions,
  (select coalesce(json_agg(json_build_object(
            'id', s.id, 'created_by', s.created_by, 'status', s.status,
            'proposed', s.proposed_table_ids, 'violations', '[]'::json,
            'hold_expires_at', s.hold_expires_at, 'version', s.version,
            'created_at', null, 'last_validated_at', null)
          order by s.id), '[]')
   from stale s) as stale,
  (select coalesce(json_agg(json_build_object(
            'id', c.id, 'proposed', c.proposed_table_ids, 'violations', c.violations,
            'booking_id', b.id, 'restaurant_id', b.restaurant_id, 'party_size', b.party_size,
            'starts_at', lower(b.during), 'ends_at', upper(b.during), 'status', b.status,
            'timezone', r.timezone)
          order by c.id), '[]')
   from candidates c join bookings b on b.id = c.booking_id
   join restaurants r on r.id = b.restaurant_id) as candidates,
  (select coalesce(json_agg(json_build_object(
            'id', t.id, 'restaurant_id', t.restaurant_id, 'label', t.label, 'zone', t.zone,
            'min_capacity', t.min_capacity, 'max_capacity', t.max_capacity,
            'active', t.active, 'version', t.version)), '[]')
   from dining_tables t
   where t.id = any(array(select id from scope_tables
                          union select unnest(proposed_table_ids) from stale))) as tables,
  -- Live allocations on the scope's tables over the booking's time, the booking's own, and the
  -- expired sessions' holds (one index probe per table; an allocation may come twice).
  (select coalesce(json_agg(json_build_object(
            'id', a.id, 'table_id', a.table_id, 'booking_id', a.booking_id, 'kind', a.kind,
            'starts_at', lower(a.during), 'ends_at', upper(a.during),
            'expires_at', a.expires_at, 'session_id', a.session_id)), '[]')
   from (
     select a1.* from scope_tables t
     cross join lateral (
       select * from allocations
       where table_id = t.id and released_at is null and during && $2::tstzrange
       offset 0) a1  -- a fence: always one index probe per table, whatever the estimates
     union all
     select * from allocations where booking_id = $1 and released_at is null
     union all
     select * from allocations
     where session_id = any(array(select id from stale)) and released_at is null) a
  ) as allocations

-- name: read_candidates
-- What re-validating the locked candidate sessions needs: their tables and the live
-- allocations on them over their bookings' times. $1 the tables, $2 the times.
select
  (select coalesce(json_agg(json_build_object(
            'id', t.id, 'restaurant_id', t.restaurant_id, 'label', t.label, 'zone', t.zone,
            'min_capacity', t.min_capacity, 'max_capacity', t.max_capacity,
            'active', t.active, 'version', t.version)), '[]')
   from dining_tables t where t.id = any($1::uuid[])) as tables,
  (select coalesce(json_agg(json_build_object(
            'id', a.id, 'table_id', a.table_id, 'booking_id', a.booking_id, 'kind', a.kind,
            'starts_at', lower(a.during), 'ends_at', upper(a.during),
            'expires_at', a.expires_at, 'session_id', a.session_id)), '[]')
   from unnest($1::uuid[]) as t(id)
   cross join lateral (
     select * from allocations
     where table_id = t.id and released_at is null and during && any($2::tstzrange[])
     offset 0) a) as allocations  -- one index probe per table

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
with released as (
  update allocations a set released_at = now(), release_reason = r.reason
  from unnest($1::uuid[], $2::text[]) as r(id, reason)
  where a.id = r.id and a.released_at is null
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
  set status = c.status, hold_expires_at = null,
      violations = case when c.status = 'EXPIRED' then '[]'::jsonb else s.violations end
  from unnest($18::uuid[], $19::text[]) as c(id, status)
  where s.id = c.id and s.status in ('PROPOSED', 'HELD')
  returning s.id
),
revalidated as (
  update manual_assignment_sessions s
  set violations = v.violations::jsonb, last_validated_at = now()
  from unnest($20::uuid[], $21::text[]) as v(id, violations)
  where s.id = v.id
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
