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

-- name: bookings_by_ids
select b.id, b.restaurant_id, b.guest_name, b.party_size,
       lower(b.during) as starts_at, upper(b.during) as ends_at, b.status, b.version,
       r.timezone
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = any($1::uuid[])

-- name: assigned_tables_of_bookings
select a.booking_id, t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity,
       t.active, t.version
from allocations a join dining_tables t on t.id = a.table_id
where a.booking_id = any($1::uuid[]) and a.kind = 'ASSIGNMENT' and a.released_at is null

-- name: allocations_by_ids
select id, kind, table_id, booking_id, session_id, lower(during) as starts_at,
       upper(during) as ends_at, expires_at, released_at, release_reason, version
from allocations where id = any($1::uuid[])

-- name: sessions_by_ids
select id, booking_id, restaurant_id, created_by, status, proposed_table_ids, violations,
       hold_expires_at, last_validated_at, version, created_at, updated_at
from manual_assignment_sessions where id = any($1::uuid[])

-- name: floor_allocations
select id from allocations
where restaurant_id = $1 and released_at is null and during && tstzrange($2, $3, '[)')

-- name: floor_bookings
select id from bookings where restaurant_id = $1 and during && tstzrange($2, $3, '[)')

-- ------------------------------------------------------------------ flows: reads and locks

-- name: lock_booking
-- The first lock of every flow that changes a booking's tables (bookings, then tables, then
-- sessions, each in id order, so flows never deadlock).
select b.id, b.restaurant_id, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1
for no key update of b

-- name: try_lock_booking
-- The expirer's lock: a booking another transaction is working on is skipped (retried soon).
select b.id, b.restaurant_id, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1
for no key update of b skip locked

-- name: booking_for_read
select b.id, b.restaurant_id, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.during, b.status, b.version, r.timezone, now() as now
from bookings b join restaurants r on r.id = b.restaurant_id
where b.id = $1

-- name: open_sessions_of_booking
select id, created_by, status, proposed_table_ids
from manual_assignment_sessions
where booking_id = $1 and status in ('PROPOSED', 'HELD')
order by id

-- name: session_for_read
select id, booking_id, restaurant_id, created_by, status, proposed_table_ids, hold_expires_at,
       version
from manual_assignment_sessions where id = $1

-- name: live_tables_of_booking
select distinct table_id from allocations where booking_id = $1 and released_at is null

-- name: lock_tables
select id from dining_tables where id = any($1::uuid[]) order by id for no key update

-- name: lock_session
select id, booking_id, restaurant_id, created_by, status, proposed_table_ids, hold_expires_at,
       version
from manual_assignment_sessions where id = $1
for no key update

-- name: open_session_of
select id, proposed_table_ids from manual_assignment_sessions
where booking_id = $1 and created_by = $2 and status in ('PROPOSED', 'HELD')

-- name: lock_open_session_of
select id, booking_id, restaurant_id, created_by, status, proposed_table_ids, hold_expires_at,
       version
from manual_assignment_sessions
where booking_id = $1 and created_by = $2 and status in ('PROPOSED', 'HELD')
for no key update

-- name: insert_session
insert into manual_assignment_sessions (restaurant_id, booking_id, created_by)
values ($1, $2, $3)
returning id, booking_id, restaurant_id, created_by, status, proposed_table_ids,
          hold_expires_at, version

-- name: restaurant_tables
select id, restaurant_id, label, zone, min_capacity, max_capacity, active, version
from dining_tables where restaurant_id = $1

-- name: live_allocations_on_tables
-- Live allocations on some tables that overlap a time range (the rules decide what conflicts).
select id, table_id, booking_id, kind, lower(during) as starts_at, upper(during) as ends_at,
       expires_at, session_id
from allocations
where table_id = any($1::uuid[]) and released_at is null and during && $2::tstzrange

-- name: live_allocations_of_restaurant
select id, table_id, booking_id, kind, lower(during) as starts_at, upper(during) as ends_at,
       expires_at, session_id
from allocations
where restaurant_id = $1 and released_at is null and during && $2::tstzrange

-- name: live_holds_of_session
select id, table_id, expires_at from allocations
where session_id = $1 and kind = 'HOLD' and released_at is null

-- ------------------------------------------------------------------ flows: writes

-- name: release_allocations
-- Soft release (the realtime event can still read the row); reason RELEASED, EXPIRED or
-- UNASSIGNED.
update allocations set released_at = now(), release_reason = $2
where id = any($1::uuid[]) and released_at is null
returning table_id, during

-- name: release_session_holds
update allocations set released_at = now(), release_reason = $2
where session_id = any($1::uuid[]) and kind = 'HOLD' and released_at is null
returning table_id, during

-- name: release_booking_allocations
update allocations set released_at = now(), release_reason = $2
where booking_id = $1 and kind = any($3::text[]) and released_at is null
returning table_id, during

-- name: expired_holds_on
-- Other sessions whose holds on these tables ran out (the expirer may not have got to them
-- yet), with every table they propose (all of which must be locked before expiring them).
select s.id, s.proposed_table_ids from manual_assignment_sessions s
where s.status = 'HELD' and s.id is distinct from $2
  and exists (
    select 1 from allocations a
    where a.session_id = s.id and a.table_id = any($1::uuid[]) and a.kind = 'HOLD'
      and a.released_at is null and a.expires_at <= now())

-- name: mark_sessions_expired
update manual_assignment_sessions
set status = 'EXPIRED', hold_expires_at = null, violations = '[]'
where id = any($1::uuid[]) and status = 'HELD'
returning id

-- name: insert_holds
insert into allocations (restaurant_id, table_id, booking_id, session_id, kind, during, expires_at)
select $2, t.id, $3, $4, 'HOLD', $5::tstzrange, $6
from unnest($1::uuid[]) as t(id)

-- name: extend_holds
update allocations set expires_at = $2
where session_id = $1 and table_id = any($3::uuid[]) and kind = 'HOLD' and released_at is null

-- name: insert_assignments
insert into allocations (restaurant_id, table_id, booking_id, kind, during)
select $2, t.id, $3, 'ASSIGNMENT', $4::tstzrange
from unnest($1::uuid[]) as t(id)

-- name: convert_holds
-- A confirmed session's holds become the booking's assignment (same rows, same ids).
update allocations set kind = 'ASSIGNMENT', expires_at = null
where session_id = $1 and kind = 'HOLD' and released_at is null
returning table_id, during

-- name: update_session
update manual_assignment_sessions
set status = $2, proposed_table_ids = $3::uuid[], violations = $4::jsonb,
    hold_expires_at = $5, last_validated_at = now()
where id = $1

-- name: set_session_status
update manual_assignment_sessions
set status = $2, hold_expires_at = null
where id = any($1::uuid[])

-- name: set_booking_status
update bookings set status = $2 where id = $1

-- name: lock_open_sessions
select id from manual_assignment_sessions
where id = any($1::uuid[]) order by id for no key update

-- name: proposed_sessions_on
-- The PROPOSED sessions that propose one of the changed tables for a booking overlapping the
-- change: the only sessions whose violations a change can alter. Locked in id order.
select s.id, s.proposed_table_ids, s.violations, b.id as booking_id, b.restaurant_id,
       b.party_size, lower(b.during) as starts_at, upper(b.during) as ends_at, b.during,
       b.status, r.timezone
from manual_assignment_sessions s
join bookings b on b.id = s.booking_id
join restaurants r on r.id = b.restaurant_id
where s.status = 'PROPOSED'
  and s.proposed_table_ids && $1::uuid[]
  and s.id <> all($3::uuid[])
  and exists (
    select 1 from unnest($1::uuid[], $2::tstzrange[]) as c(table_id, during)
    where c.table_id = any(s.proposed_table_ids) and c.during && b.during)
order by s.id
for no key update of s

-- name: update_session_violations
-- $2: each session's violations as JSON text (a list of lists would read as a 2-D array).
update manual_assignment_sessions s
set violations = v.violations::jsonb, last_validated_at = now()
from unnest($1::uuid[], $2::text[]) as v(id, violations)
where s.id = v.id

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

-- name: due_sessions_of_booking
select id, proposed_table_ids from manual_assignment_sessions
where booking_id = $1 and status = 'HELD' and hold_expires_at <= now()
order by id
for no key update

-- name: purge_released
-- Released allocations are kept only long enough for their events to be read.
delete from allocations where released_at < now() - make_interval(secs => $1)
