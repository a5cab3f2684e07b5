-- Tables: bookings staff pin to their tables. optimizeFloor (services/tables/flows.py) never
-- moves a pinned booking; a seated booking is always treated as pinned.

alter table bookings add column pinned boolean not null default false;

-- The booking as answers and events give it, now with `pinned` (services/tables/reads.py).
create or replace view tables_booking_views with (security_invoker = true) as
select b.id as booking_id, b.restaurant_id as booking_restaurant_id, b.guest_name,
       b.party_size, lower(b.during) as starts_at, upper(b.during) as ends_at, b.status,
       b.version as booking_version,
       t.id, t.restaurant_id, t.label, t.zone, t.min_capacity, t.max_capacity, t.active,
       t.version, b.pinned
from bookings b
left join allocations a
  on a.booking_id = b.id and a.kind = 'ASSIGNMENT' and a.released_at is null
left join dining_tables t on t.id = a.table_id;
