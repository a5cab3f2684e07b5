-- Tables area: restaurants, dining tables, bookings, allocations, assignment sessions.
-- Every query runs inside a service transaction; row-level security scopes it to a tenant
-- (or, for the expirer, to the rows allot_system may see).

-- ------------------------------------------------------------------ setup

-- name: insert_restaurant
insert into restaurants (name, timezone) values ($1, $2)
returning id, name, timezone, version

-- name: insert_dining_table
insert into dining_tables (restaurant_id, label, zone, min_capacity, max_capacity)
values (:restaurant_id, :label, :zone, :min_capacity, :max_capacity)
returning id, restaurant_id, label, zone, min_capacity, max_capacity, active, version

-- name: insert_booking
insert into bookings (restaurant_id, guest_name, party_size, during)
values (:restaurant_id, :guest_name, :party_size, tstzrange(:starts_at, :ends_at, '[)'))
returning id

-- name: insert_dining_tables
insert into dining_tables (restaurant_id, label, zone, min_capacity, max_capacity)
select :restaurant_id, t.label, t.zone, t.lo, t.hi
from unnest(:labels::text[], :zones::text[], :min_capacities::int[], :max_capacities::int[])
  as t(label, zone, lo, hi)
returning id

-- name: insert_bookings
insert into bookings (restaurant_id, guest_name, party_size, during)
select :restaurant_id, b.guest, b.party, tstzrange(b.starts, b.ends, '[)')
from unnest(:guest_names::text[], :party_sizes::int[], :starts::timestamptz[], :ends::timestamptz[])
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
set label = :label, zone = :zone, min_capacity = :min_capacity, max_capacity = :max_capacity,
    active = :active
where id = :id
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
select * from tables_table_views where id = any($1::uuid[])

-- name: booking_views
-- Bookings with their assigned tables: one row per (booking, table), table columns null for a
-- booking without tables (the view's notifications carry too: 0011_notify_rows.sql).
select * from tables_booking_views where booking_id = any($1::uuid[])

-- name: allocation_views
select * from tables_allocation_views where allocation_id = any($1::uuid[])

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

-- name: waiting_bookings
-- The restaurant's bookings of the same day around $2 that could be given tables and have none
-- yet, the $3 nearest in start time (what autoAssign looks ahead to:
-- services/tables/lookahead.py).
select b.id, b.restaurant_id, b.party_size, lower(b.during) as starts_at,
       upper(b.during) as ends_at, b.status, r.timezone
from bookings b
join restaurants r on r.id = b.restaurant_id
where b.restaurant_id = $1 and b.status in ('PENDING', 'CONFIRMED')
  and b.starts_at > lower($2::tstzrange) - interval '12 hours'
  and b.starts_at < upper($2::tstzrange) + interval '12 hours'
  and b.id not in (  -- one scan of the restaurant's live assignments, hashed
    select a.booking_id from allocations a
    where a.restaurant_id = $1 and a.kind = 'ASSIGNMENT' and a.released_at is null)
order by abs(extract(epoch from b.starts_at - lower($2::tstzrange))), b.id
limit $3

-- ------------------------------------------------------------------ flows
-- Every flow that changes a booking's tables runs, in one transaction: open_scope (the locks
-- and the snapshot, see tables_open_scope in db/migrations), then commit_plan (the whole
-- decision in one statement). So flows on one booking queue on its row, flows on one table
-- and day on its key, and nothing else waits. The exclusion constraint on allocations stays
-- the last guard.

-- name: open_scope
select s.*, b.pinned
from tables_open_scope(:booking_id, :session_id, :take, :about, :skip_locked) s
join bookings b on b.id = s.id

-- name: commit_plan
-- A flow's whole decision in one statement. The parts run in the order the final select names
-- them, so a table released here can be taken again here (the insert runs after the release)
-- and the events come out as: releases, conversions and new allocations, sessions, booking.
-- The flow's own session is written only when :session_id is set (inserted when
-- :session_is_new); the booking row only when :booking_status is set.
-- Rows are found with `id = any(:ids)` (primary-key probes) and each takes its value from the
-- matching position of the values array: a join with unnest(:ids) would be planned for ten
-- rows against a table the plan may think is small, and scan it.
with released as (
  update allocations a
  set released_at = now(),
      release_reason = (:release_reasons::text[])[array_position(:released_ids::uuid[], a.id)]
  where a.id = any(:released_ids::uuid[]) and a.released_at is null
  returning a.id
),
converted as (
  update allocations set kind = 'ASSIGNMENT', expires_at = null
  where id = any(:converted_ids::uuid[]) and kind = 'HOLD' and released_at is null
  returning id
),
extended as (
  update allocations set expires_at = :extended_until
  where id = any(:extended_ids::uuid[]) and kind = 'HOLD' and released_at is null
  returning id
),
inserted_session as (
  insert into manual_assignment_sessions
    (id, restaurant_id, booking_id, created_by, status, proposed_table_ids, violations,
     hold_expires_at, last_validated_at)
  select :session_id, :restaurant_id, :booking_id, :session_created_by, :session_status,
         :session_proposed::uuid[], :session_violations::jsonb, :session_hold_expires_at, now()
  where :session_id::uuid is not null and :session_is_new
  returning id, status, proposed_table_ids, violations, hold_expires_at, last_validated_at,
            version, created_at, updated_at
),
updated_session as (
  update manual_assignment_sessions
  set status = :session_status, proposed_table_ids = :session_proposed::uuid[],
      violations = :session_violations::jsonb, hold_expires_at = :session_hold_expires_at,
      last_validated_at = now()
  where id = :session_id and not :session_is_new
  returning id, status, proposed_table_ids, violations, hold_expires_at, last_validated_at,
            version, created_at, updated_at
),
inserted as (
  insert into allocations (restaurant_id, table_id, booking_id, session_id, kind, during,
                           expires_at)
  select :restaurant_id, n.table_id, :booking_id, n.session_id, n.kind, :during::tstzrange,
         n.expires_at
  from unnest(:new_table_ids::uuid[], :new_kinds::text[], :new_session_ids::uuid[],
              :new_expiries::timestamptz[])
    as n(table_id, kind, session_id, expires_at)
  where (select count(*) from released) >= 0  -- after the releases
    and (select count(*) from inserted_session) >= 0  -- and the session its holds belong to
  returning id
),
closed as (
  update manual_assignment_sessions s
  set status = (:closed_statuses::text[])[array_position(:closed_ids::uuid[], s.id)],
      hold_expires_at = null,
      violations = case
        when (:closed_statuses::text[])[array_position(:closed_ids::uuid[], s.id)] = 'EXPIRED'
        then '[]'::jsonb else s.violations end
  -- (not "in ('PROPOSED', 'HELD')": that would let the planner scan the open-sessions index)
  where s.id = any(:closed_ids::uuid[]) and s.status not in ('CONFIRMED', 'CANCELLED', 'EXPIRED')
  returning s.id
),
revalidated as (
  update manual_assignment_sessions s
  set violations =
        (:revalidated_violations::text[])[array_position(:revalidated_ids::uuid[], s.id)]::jsonb,
      last_validated_at = now()
  where s.id = any(:revalidated_ids::uuid[])
  returning s.id
),
booking as (
  update bookings set status = :booking_status
  where id = :booking_id and :booking_status::text is not null
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
select :restaurant_id, t.id, :booking_id, 'ASSIGNMENT', :during::tstzrange
from unnest(:table_ids::uuid[]) as t(id)

-- ------------------------------------------------------------------ the evening optimizer

-- name: set_booking_pinned
update bookings set pinned = $2, version = version + 1 where id = $1 and pinned <> $2

-- name: transaction_time
select now()

-- name: bookings_with_open_sessions
select distinct booking_id from manual_assignment_sessions
where booking_id = any($1::uuid[]) and status in ('PROPOSED', 'HELD')

-- name: lock_evening
-- optimizeFloor's apply: every booking it changes, then every (table, day) key of their old
-- and new tables, each set in key order, before any flow's own locks (which it then already
-- holds): the order every flow keeps, for many bookings at once. $1: [{"b": booking id,
-- "t": [table ids]}].
with wanted as (
  select (e ->> 'b')::uuid as booking_id,
         array(select jsonb_array_elements_text(e -> 't'))::uuid[] as tables
  from jsonb_array_elements($1::jsonb) e
), booked as (
  select b.id, b.during from bookings b
  where b.id in (select booking_id from wanted)
  order by b.id
  for no key update
), keys as (
  select distinct k from wanted w join booked b on b.id = w.booking_id
  cross join tables_lock_keys(w.tables, b.during) k
)
select count(*) from (select pg_advisory_xact_lock(k) from keys order by k) locked

-- name: demo_restaurant
select id from restaurants order by created_at, id limit 1
