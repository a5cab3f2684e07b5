-- Editing a table and deciding on it never cross (updateDiningTable): every flow now also
-- takes its scope's tables in key-share mode, right after their (table, day) keys (step 2b),
-- and an edit locks the table's row for update before it locks the proposals to re-validate.
-- So an edit waits for the flows deciding on that table, flows that come later decide on the
-- edited table, and no session is left validated against the table as it was.
-- (tables_open_scope as in 0005, with step 2b.)

create or replace function tables_open_scope(
  p_booking uuid,       -- the booking, or null and:
  p_session uuid,       -- a session of it (its owner comes back as session_created_by)
  p_take uuid[],        -- tables the flow may take besides the booking's own
  p_about uuid,         -- a session the flow acts on (read even when it is closed)
  p_skip_locked boolean -- the expirer: give up (no row) if another flow holds the booking
) returns table (
  id uuid, restaurant_id uuid, guest_name text, party_size int, starts_at timestamptz,
  ends_at timestamptz, during tstzrange, status text, version bigint, timezone text,
  now timestamptz, session_created_by text, snapshot json
)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  b bookings;
  v_during tstzrange;  -- b.during as a plain value: an index condition, not a filter
  v_booking uuid := p_booking;
  v_created_by text;
  scope_tables uuid[];
  stale_ids uuid[];
  stale_tables uuid[];
  candidate_ids uuid[];
  all_tables uuid[];
  ranges tstzrange[];
begin
  if p_session is not null then
    select s.booking_id, s.created_by into v_booking, v_created_by
    from manual_assignment_sessions s where s.id = p_session;
  end if;
  -- 1. The booking.
  if p_skip_locked then
    select * into b from bookings where bookings.id = v_booking for no key update skip locked;
  else
    select * into b from bookings where bookings.id = v_booking for no key update;
  end if;
  if b.id is null then
    return;
  end if;
  v_during := b.during;

  -- 2. The (table, day) keys. Under the booking's lock its own tables can no longer change.
  -- (booking_id = any(array[...]): the btree on booking_id serves it; the exclusion
  -- constraint's gist index, which the planner would otherwise pick, has to search for it.)
  select array_agg(distinct t) into scope_tables from (
    select a.table_id as t from allocations a
    where a.booking_id = any(array[b.id]) and a.released_at is null
    union all
    select unnest(s.proposed_table_ids) from manual_assignment_sessions s
    where s.booking_id = b.id and s.status in ('PROPOSED', 'HELD')
    union all
    select unnest(p_take)) x;
  select array_agg(distinct s.id), array_agg(distinct st)
    into stale_ids, stale_tables
  from unnest(p_take) as t(id)
  cross join lateral (
    select * from allocations a
    where a.table_id = t.id and a.released_at is null
      and a.starts_at > lower(v_during) - interval '12 hours'
      and a.starts_at < upper(v_during) and a.during && v_during
    offset 0) a  -- a fence: one index probe per table, whatever the estimates
  join manual_assignment_sessions s on s.id = a.session_id
  cross join unnest(s.proposed_table_ids) as st
  where a.kind = 'HOLD' and a.expires_at <= now() and a.booking_id <> b.id
    and s.status = 'HELD';
  perform pg_advisory_xact_lock(k)
  from (
    select k from tables_lock_keys(scope_tables, v_during) k
    union
    select k from manual_assignment_sessions s
    join bookings sb on sb.id = s.booking_id
    cross join tables_lock_keys(s.proposed_table_ids, sb.during) k
    where s.id = any(stale_ids)
  ) keys
  order by k;
  -- 2b. The rows of the tables it may take, in the weakest share mode: an edit of one of them
  -- (updateDiningTable, which locks the row for update) waits for this flow, and a flow that
  -- comes after the edit waits for it and then decides on the table as edited.
  perform 1 from dining_tables t where t.id = any(scope_tables) for key share;

  -- 3. The sessions to re-validate (fixed now: a session proposes a table only under its key).
  select array_agg(c.id order by c.id) into candidate_ids from (
    select s.id from manual_assignment_sessions s
    join bookings sb on sb.id = s.booking_id
    where s.restaurant_id = b.restaurant_id and s.status = 'PROPOSED'
      and s.proposed_table_ids && (scope_tables || coalesce(stale_tables, '{}'))
      and s.booking_id <> b.id
      and ((s.proposed_table_ids && scope_tables and sb.during && v_during)
           or exists (select 1 from manual_assignment_sessions x
                      join bookings xb on xb.id = x.booking_id
                      where x.id = any(stale_ids)
                        and s.proposed_table_ids && x.proposed_table_ids
                        and sb.during && xb.during))
    order by s.id
    for no key update of s) c;

  -- The snapshot, read after every lock above.
  select array(select distinct t from unnest(
           coalesce(scope_tables, '{}') || coalesce(stale_tables, '{}')
           || coalesce((select array_agg(t) from manual_assignment_sessions s,
                          unnest(s.proposed_table_ids) as t
                        where s.id = any(candidate_ids)), '{}')) as t),
         array[v_during]
           || coalesce((select array_agg(sb.during) from manual_assignment_sessions s
                        join bookings sb on sb.id = s.booking_id
                        where s.id = any(candidate_ids || stale_ids)), '{}')
    into all_tables, ranges;

  return query
  select b.id, b.restaurant_id, b.guest_name, b.party_size, lower(b.during), upper(b.during),
         b.during, b.status, b.version, r.timezone, now(), v_created_by,
         json_build_object(
           'sessions', (
             select coalesce(json_agg(json_build_object(
                      'id', s.id, 'created_by', s.created_by, 'status', s.status,
                      'proposed', s.proposed_table_ids, 'violations', s.violations,
                      'hold_expires_at', s.hold_expires_at, 'version', s.version)
                    order by s.id), '[]')
             from manual_assignment_sessions s
             where s.id = any(array(select x.id from manual_assignment_sessions x
                                    where x.booking_id = b.id
                                      and x.status in ('PROPOSED', 'HELD'))
                              || p_about)),
           'stale', (
             select coalesce(json_agg(json_build_object(
                      'id', s.id, 'created_by', s.created_by, 'status', s.status,
                      'proposed', s.proposed_table_ids, 'violations', '[]'::json,
                      'hold_expires_at', s.hold_expires_at, 'version', s.version)
                    order by s.id), '[]')
             from manual_assignment_sessions s
             where s.id = any(stale_ids) and s.status = 'HELD' and s.hold_expires_at <= now()
               and s.proposed_table_ids <@ stale_tables),
           'candidates', (
             select coalesce(json_agg(json_build_object(
                      'id', s.id, 'proposed', s.proposed_table_ids, 'violations', s.violations,
                      'booking_id', sb.id, 'restaurant_id', sb.restaurant_id,
                      'party_size', sb.party_size, 'starts_at', lower(sb.during),
                      'ends_at', upper(sb.during), 'status', sb.status,
                      'timezone', sr.timezone)
                    order by s.id), '[]')
             from manual_assignment_sessions s
             join bookings sb on sb.id = s.booking_id
             join restaurants sr on sr.id = sb.restaurant_id
             where s.id = any(candidate_ids)),
           'tables', (
             select coalesce(json_agg(json_build_object(
                      'id', t.id, 'restaurant_id', t.restaurant_id, 'label', t.label,
                      'zone', t.zone, 'min_capacity', t.min_capacity,
                      'max_capacity', t.max_capacity, 'active', t.active,
                      'version', t.version)), '[]')
             from dining_tables t where t.id = any(all_tables)),
           'allocations', (
             select coalesce(json_agg(json_build_object(
                      'id', a.id, 'table_id', a.table_id, 'booking_id', a.booking_id,
                      'kind', a.kind, 'starts_at', lower(a.during), 'ends_at', upper(a.during),
                      'expires_at', a.expires_at, 'session_id', a.session_id)), '[]')
             from unnest(all_tables) as t(id)
             cross join unnest(ranges) as r(during)
             cross join lateral (
               select * from allocations a
               where a.table_id = t.id and a.released_at is null
                 and a.starts_at > lower(r.during) - interval '12 hours'
                 and a.starts_at < upper(r.during) and a.during && r.during
               offset 0) a))  -- one index probe per table and time (a row may come twice)
  from restaurants r
  where r.id = b.restaurant_id;
end
$$;
